// CUDA fused attention, FlashAttention-2 style: each CTA owns a block of queries of one
// (batch, head) and streams key/value blocks through shared memory with an online softmax, so no
// Tq x Tk matrix exists. Inputs may be fp32, fp16 or bf16; tiles are converted to fp32 on load
// and all arithmetic (scores, softmax, accumulation) is fp32.
//
// Tiling (kDim = head dim rounded up to 32, 64, 128 or 256; zero padded):
//   CTA = kWarps warps; warp w owns kRows query rows (FA2: warps split the queries, so the
//   softmax statistics of a row live in one warp and need no cross-warp reduction).
//   Qs [kBlockQ][kDim+4]  the CTA's queries, loaded once
//   Ks [32][kDim+4]       one key block; lane j of every warp scores key j (rows padded by 4
//                         floats so float4 reads of different rows hit different banks)
//   Vs [32][kDim]         the value block; lane l accumulates head dims l, l+32, ...
//   Ps [kWarps][kRows][32] the warp's softmax weights, re-read as float4 broadcasts
// The output accumulator o[kRows][kDim/32] stays in registers.
#include <cmath>

#include "common.cuh"

namespace tbd {
namespace {

constexpr int kWarps = 4;
constexpr int kBlockK = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kLog2e = 1.4426950408889634f;

struct AttentionParams {
  const void *q, *k, *v;
  void* out;
  const uint8_t* key_mask;
  int64_t B, H, Tq, Tk, D, window;
  int64_t qs[3], ks[3], vs[3], os[3];
  float scale_log2;
};

template <int kDim>
struct Tile {
  static constexpr int kRows = kDim <= 128 ? 8 : 4;
  static constexpr int kBlockQ = kWarps * kRows;
  static constexpr int kPitch = kDim + 4;
  static constexpr int kFloats = kBlockQ * kPitch + kBlockK * kPitch + kBlockK * kDim + kWarps * kRows * kBlockK;
  static constexpr size_t kBytes = sizeof(float) * kFloats;
};

__device__ __forceinline__ float warp_max(float x) {
  for (int offset = 16; offset > 0; offset >>= 1) x = fmaxf(x, __shfl_xor_sync(kFullMask, x, offset));
  return x;
}
__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}

template <typename T, int kDim>
__global__ void __launch_bounds__(kWarps * 32) attention_kernel(AttentionParams p) {
  using Cfg = Tile<kDim>;
  constexpr int kRows = Cfg::kRows, kBlockQ = Cfg::kBlockQ, kPitch = Cfg::kPitch, kCols = kDim / 32;
  extern __shared__ float4 smem4[];
  float* Qs = reinterpret_cast<float*>(smem4);
  float* Ks = Qs + kBlockQ * kPitch;
  float* Vs = Ks + kBlockK * kPitch;
  float* Ps = Vs + kBlockK * kDim;

  const int64_t b = blockIdx.x / p.H, h = blockIdx.x % p.H;
  const int64_t q0 = static_cast<int64_t>(blockIdx.y) * kBlockQ;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const T* q = static_cast<const T*>(p.q) + b * p.qs[0] + h * p.qs[1];
  const T* k = static_cast<const T*>(p.k) + b * p.ks[0] + h * p.ks[1];
  const T* v = static_cast<const T*>(p.v) + b * p.vs[0] + h * p.vs[1];
  const uint8_t* key_mask = p.key_mask ? p.key_mask + b * p.Tk : nullptr;

  for (int i = threadIdx.x; i < kBlockQ * kDim; i += blockDim.x) {
    const int r = i / kDim, d = i % kDim;
    const int64_t qi = q0 + r;
    Qs[r * kPitch + d] = (qi < p.Tq && d < p.D) ? cuda::to_float(q[qi * p.qs[2] + d]) : 0.0f;
  }

  float o[kRows][kCols], m[kRows], l[kRows];
  for (int r = 0; r < kRows; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
    for (int c = 0; c < kCols; ++c) o[r][c] = 0.0f;
  }
  // Keys any query of this block may see (the band |i - j| <= window when windowed).
  int64_t k_begin = 0, k_end = p.Tk;
  if (p.window >= 0) {
    k_begin = q0 - p.window > 0 ? q0 - p.window : 0;
    k_end = q0 + kBlockQ + p.window < p.Tk ? q0 + kBlockQ + p.window : p.Tk;
  }
  float* P = Ps + warp * kRows * kBlockK;

  for (int64_t kb = k_begin; kb < k_end; kb += kBlockK) {
    __syncthreads();  // the previous K/V tile is consumed (and Qs is written before the first)
    for (int i = threadIdx.x; i < kBlockK * kDim; i += blockDim.x) {
      const int j = i / kDim, d = i % kDim;
      const int64_t kj = kb + j;
      const bool valid = kj < k_end && d < p.D;
      Ks[j * kPitch + d] = valid ? cuda::to_float(k[kj * p.ks[2] + d]) : 0.0f;
      Vs[j * kDim + d] = valid ? cuda::to_float(v[kj * p.vs[2] + d]) : 0.0f;
    }
    __syncthreads();

    // Scores of the warp's rows against key kb + lane.
    float s[kRows];
    for (int r = 0; r < kRows; ++r) s[r] = 0.0f;
    const float* k_row = Ks + lane * kPitch;
    for (int d = 0; d < kDim; d += 4) {
      const float4 kv = *reinterpret_cast<const float4*>(k_row + d);
      for (int r = 0; r < kRows; ++r) {
        const float4 qv = *reinterpret_cast<const float4*>(Qs + (warp * kRows + r) * kPitch + d);
        s[r] = fmaf(qv.x, kv.x, fmaf(qv.y, kv.y, fmaf(qv.z, kv.z, fmaf(qv.w, kv.w, s[r]))));
      }
    }

    // Online softmax per row: the row's statistics are warp reductions over the 32 keys.
    const int64_t kj = kb + lane;
    const bool key_ok = kj < k_end && (key_mask == nullptr || key_mask[kj] != 0);
    for (int r = 0; r < kRows; ++r) {
      const int64_t qi = q0 + warp * kRows + r;
      const int64_t offset = qi - kj;
      const bool ok = key_ok && (p.window < 0 || (offset <= p.window && -offset <= p.window));
      const float score = ok ? s[r] : -INFINITY;
      const float m_new = fmaxf(m[r], warp_max(score));
      const float m_safe = m_new == -INFINITY ? 0.0f : m_new;  // nothing seen yet: weights 0
      const float corr = exp2f((m[r] - m_safe) * p.scale_log2);
      const float weight = ok ? exp2f((score - m_safe) * p.scale_log2) : 0.0f;
      l[r] = l[r] * corr + warp_sum(weight);
      m[r] = m_new;
      for (int c = 0; c < kCols; ++c) o[r][c] *= corr;
      P[r * kBlockK + lane] = weight;
    }
    __syncwarp();

    // o[r][:] += sum_j P[r][j] V[j][:], four keys per broadcast read of P.
    for (int j = 0; j < kBlockK; j += 4) {
      float vv[4][kCols];
      for (int jj = 0; jj < 4; ++jj)
        for (int c = 0; c < kCols; ++c) vv[jj][c] = Vs[(j + jj) * kDim + c * 32 + lane];
      for (int r = 0; r < kRows; ++r) {
        const float4 pw = *reinterpret_cast<const float4*>(P + r * kBlockK + j);
        for (int c = 0; c < kCols; ++c)
          o[r][c] = fmaf(pw.w, vv[3][c], fmaf(pw.z, vv[2][c], fmaf(pw.y, vv[1][c], fmaf(pw.x, vv[0][c], o[r][c]))));
      }
    }
    __syncwarp();  // P is rewritten by the next block
  }

  T* out = static_cast<T*>(p.out) + b * p.os[0] + h * p.os[1];
  for (int r = 0; r < kRows; ++r) {
    const int64_t qi = q0 + warp * kRows + r;
    if (qi >= p.Tq) continue;
    for (int c = 0; c < kCols; ++c) {
      const int d = c * 32 + lane;
      if (d < p.D) out[qi * p.os[2] + d] = cuda::from_float<T>(l[r] > 0.0f ? o[r][c] / l[r] : 0.0f);
    }
  }
}

template <typename T, int kDim>
void launch(const AttentionParams& params, cudaStream_t stream) {
  using Cfg = Tile<kDim>;
  const int64_t q_blocks = (params.Tq + Cfg::kBlockQ - 1) / Cfg::kBlockQ;
  if (q_blocks > 65535) throw ArgError("attention (CUDA): Tq is too long for one launch");
  auto kernel = attention_kernel<T, kDim>;
  cuda::check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(Cfg::kBytes)),
              "cudaFuncSetAttribute");
  const dim3 grid(static_cast<unsigned>(params.B * params.H), static_cast<unsigned>(q_blocks));
  kernel<<<grid, kWarps * 32, Cfg::kBytes, stream>>>(params);
  cuda::check(cudaGetLastError(), "attention launch");
}

template <typename T>
void launch_for_dim(const AttentionParams& params, cudaStream_t stream) {
  if (params.D <= 32) return launch<T, 32>(params, stream);
  if (params.D <= 64) return launch<T, 64>(params, stream);
  if (params.D <= 128) return launch<T, 128>(params, stream);
  if (params.D <= 256) return launch<T, 256>(params, stream);
  throw ArgError("attention (CUDA): head dim D must be at most 256, got " + std::to_string(params.D));
}

}  // namespace

void attention_cuda(const AttentionArgs& args, std::uintptr_t stream) {
  AttentionParams params{};
  params.q = args.q.data;
  params.k = args.k.data;
  params.v = args.v.data;
  params.out = args.out.data;
  params.key_mask = args.key_mask ? args.key_mask->ptr<uint8_t>() : nullptr;
  params.B = args.q.size(0);
  params.H = args.q.size(1);
  params.Tq = args.q.size(2);
  params.D = args.q.size(3);
  params.Tk = args.k.size(2);
  params.window = args.window;
  for (int i = 0; i < 3; ++i) {
    params.qs[i] = args.q.stride(i);
    params.ks[i] = args.k.stride(i);
    params.vs[i] = args.v.stride(i);
    params.os[i] = args.out.stride(i);
  }
  params.scale_log2 = static_cast<float>(args.scale) * kLog2e;
  if (params.B * params.H * params.Tq == 0) return;
  cuda::DeviceGuard guard(args.q.device_index);
  const cudaStream_t s = cuda::as_stream(stream);
  switch (args.q.dtype) {
    case DType::f32: return launch_for_dim<float>(params, s);
    case DType::f16: return launch_for_dim<__half>(params, s);
    case DType::bf16: return launch_for_dim<__nv_bfloat16>(params, s);
    default: throw DTypeError("attention (CUDA): 'q' must be float32, float16 or bfloat16");
  }
}

}  // namespace tbd
