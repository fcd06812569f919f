// Portable SIMD for the CPU kernels: GCC/Clang vector extensions sized to the widest vector unit
// the build targets (AVX-512: 16 floats, AVX: 8, otherwise 4). The compiler lowers them to the
// native instructions; no intrinsics, so the same code builds on any x86-64 or ARM machine.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
// exp2f polynomial for 2^f (about 1.5 ulp), times 2^n. Portable version: 2^n goes into the
// exponent bits and x < -126 gives exactly 0. AVX-512 version: roundscale/scalef instructions,
// x clamped at -125 (a weight of 2^-125 next to the row maximum's 1 is below float resolution).
inline vfloat exp2_poly(vfloat f) {
  vfloat p = splat(1.535336188319500e-4f);
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  return p * f + 1.0f;
}

#if defined(__AVX512F__)
inline vfloat exp2_nonpositive(vfloat x) {
  const __m512 xc = _mm512_max_ps(static_cast<__m512>(x), _mm512_set1_ps(-125.0f));
  const __m512 n = _mm512_roundscale_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const vfloat two_f = exp2_poly(static_cast<vfloat>(_mm512_sub_ps(xc, n)));
  return static_cast<vfloat>(_mm512_scalef_ps(static_cast<__m512>(two_f), n));
}
#else
inline vfloat exp2_nonpositive(vfloat x) {
  const vfloat lowest = splat(-126.0f);
  const vfloat xc = x < lowest ? lowest : x;
  const vfloat magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const vfloat n = (xc + magic) - magic;
  const vfloat two_f = exp2_poly(xc - n);
  const vint bits = (__builtin_convertvector(n, vint) + 127) << 23;
  vfloat two_n;
  std::memcpy(&two_n, &bits, sizeof(two_n));
  const vfloat r = two_f * two_n;
  return x < lowest ? splat(0.0f) : r;
}
#endif

}  // namespace tbd::simd
