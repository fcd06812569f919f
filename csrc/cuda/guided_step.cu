// CUDA guided diffusion step: one grid-stride pass over memory, float arithmetic for every dtype.
// The mask arrives broadcast to x's shape; its flat index is j % period when it is periodic (one
// value, one per channel, a [T, C] mask), else it is unravelled through its strides.
#include "common.cuh"

namespace tbd {
namespace {

constexpr int kMaxDims = 8;

struct MaskLayout {
  int64_t period;  // > 0: mask index = j % period; 0: unravel with shape and strides
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

struct StepScalars {
  float w_g, w_l, alpha, sigma, lo, hi, a, b, c, d;
  int pred;  // PredType as int
};

__device__ __forceinline__ int64_t mask_index(const MaskLayout& layout, int64_t j) {
  if (layout.period > 0) return j % layout.period;
  int64_t offset = 0;
  for (int dim = layout.ndim - 1; dim >= 0; --dim) {
    offset += (j % layout.shape[dim]) * layout.strides[dim];
    j /= layout.shape[dim];
  }
  return offset;
}

template <typename T>
__global__ void guided_step_kernel(const T* __restrict__ eu, const T* __restrict__ eg, const T* __restrict__ egl,
                                   const T* __restrict__ x, const float* __restrict__ mask,
                                   const T* __restrict__ prev, const T* __restrict__ noise, T* __restrict__ x_next,
                                   T* __restrict__ x0_out, int64_t total, MaskLayout layout, StepScalars k) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < total; j += step) {
    const float u = cuda::to_float(eu[j]), g = cuda::to_float(eg[j]), gl = cuda::to_float(egl[j]);
    const float xv = cuda::to_float(x[j]);
    const float p = u + k.w_g * (g - u) + k.w_l * mask[mask_index(layout, j)] * (gl - g);
    float x0;
    if (k.pred == static_cast<int>(PredType::eps))
      x0 = (xv - k.sigma * p) / k.alpha;
    else if (k.pred == static_cast<int>(PredType::v))
      x0 = k.alpha * xv - k.sigma * p;
    else
      x0 = p;
    x0 = fminf(fmaxf(x0, k.lo), k.hi);
    float next = k.a * xv + k.b * x0;
    if (prev) next += k.c * cuda::to_float(prev[j]);
    if (noise) next += k.d * cuda::to_float(noise[j]);
    x0_out[j] = cuda::from_float<T>(x0);
    x_next[j] = cuda::from_float<T>(next);
  }
}

MaskLayout mask_layout(const TensorRef& mask) {
  MaskLayout layout{};
  if (mask.ndim() > kMaxDims) throw ArgError("'mask' has more than 8 dimensions");
  layout.ndim = mask.ndim();
  for (int i = 0; i < mask.ndim(); ++i) {
    layout.shape[i] = mask.shape[i];
    layout.strides[i] = mask.strides[i];
  }
  // Periodic: trailing axes dense, leading axes broadcast (stride 0).
  int64_t period = 1;
  int dim = mask.ndim() - 1;
  for (; dim >= 0; --dim) {
    if (mask.shape[dim] == 1) continue;
    if (mask.strides[dim] != period) break;
    period *= mask.shape[dim];
  }
  bool periodic = true;
  for (; dim >= 0; --dim)
    if (mask.shape[dim] != 1 && mask.strides[dim] != 0) periodic = false;
  layout.period = periodic ? period : 0;
  return layout;
}

template <typename T>
void launch(const GuidedStepArgs& args, cudaStream_t stream) {
  StepScalars k{};
  k.w_g = static_cast<float>(args.w_g);
  k.w_l = static_cast<float>(args.w_l);
  k.alpha = static_cast<float>(args.alpha);
  k.sigma = static_cast<float>(args.sigma);
  k.lo = args.clamp ? -static_cast<float>(*args.clamp) : -INFINITY;
  k.hi = args.clamp ? static_cast<float>(*args.clamp) : INFINITY;
  k.a = static_cast<float>(args.a);
  k.b = static_cast<float>(args.b);
  k.c = static_cast<float>(args.c);
  k.d = static_cast<float>(args.d);
  k.pred = static_cast<int>(args.pred);
  const int64_t total = args.x.numel();
  constexpr int kThreads = 256;
  guided_step_kernel<T><<<cuda::blocks_for(total, kThreads, 4096), kThreads, 0, stream>>>(
      args.eps_u.ptr<T>(), args.eps_g.ptr<T>(), args.eps_gl.ptr<T>(), args.x.ptr<T>(), args.mask.ptr<float>(),
      args.x0_prev ? args.x0_prev->ptr<T>() : nullptr, args.noise ? args.noise->ptr<T>() : nullptr,
      args.x_next.ptr<T>(), args.x0.ptr<T>(), total, mask_layout(args.mask), k);
  cuda::check(cudaGetLastError(), "guided_step launch");
}

}  // namespace

void guided_step_cuda(const GuidedStepArgs& args, std::uintptr_t stream) {
  if (args.x.numel() == 0) return;
  cuda::DeviceGuard guard(args.x.device_index);
  switch (args.x.dtype) {
    case DType::f32: return launch<float>(args, cuda::as_stream(stream));
    case DType::f16: return launch<__half>(args, cuda::as_stream(stream));
    case DType::bf16: return launch<__nv_bfloat16>(args, cuda::as_stream(stream));
    default: throw DTypeError("guided_step (CUDA): 'x' must be float32, float16 or bfloat16");
  }
}

}  // namespace tbd
