// Portable SIMD for the CPU kernels: GCC/Clang vector extensions sized to the widest vector unit
// the build targets (AVX-512: 16 floats, AVX: 8, otherwise 4). The compiler lowers them to the
// native instructions; no intrinsics, so the same code builds on any x86-64 or ARM machine.
#pragma once

#include <cstdint>
#include <cstring>

namespace tbd::simd {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif

typedef float vfloat __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t vint __attribute__((vector_size(kLanes * sizeof(int32_t))));

inline vfloat load(const float* p) {
  vfloat v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store(float* p, vfloat v) { std::memcpy(p, &v, sizeof(v)); }
inline vfloat splat(float x) { return vfloat{} + x; }
inline vfloat max(vfloat a, vfloat b) { return a > b ? a : b; }
inline float reduce_max(vfloat v) {
  float m = v[0];
  for (int i = 1; i < kLanes; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// 2^x for x <= 0 (softmax weights): round-to-nearest split x = n + f, f in [-1/2, 1/2], Cephes
// exp2f polynomial for 2^f (about 1.5 ulp), 2^n put into the exponent bits. x < -126 gives 0.
inline vfloat exp2_nonpositive(vfloat x) {
  const vfloat lowest = splat(-126.0f);
  const vfloat xc = x < lowest ? lowest : x;
  const vfloat magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const vfloat n = (xc + magic) - magic;
  const vfloat f = xc - n;
  vfloat p = splat(1.535336188319500e-4f);
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  const vfloat two_f = p * f + 1.0f;
  const vint bits = (__builtin_convertvector(n, vint) + 127) << 23;
  vfloat two_n;
  std::memcpy(&two_n, &bits, sizeof(two_n));
  const vfloat r = two_f * two_n;
  return x < lowest ? splat(0.0f) : r;
}

}  // namespace tbd::simd
