// CPU guided diffusion step: the three-branch guidance combination, x0 prediction, clamp and the
// sampler's linear update, in one pass over memory.
//
// The prediction type folds into x0 = kx * x + kp * p (eps: 1/alpha, -sigma/alpha; x0: 0, 1;
// v: alpha, -sigma), so one branch-free loop serves all three. The array is walked as rows of the
// channel (last) axis; the mask row comes from its broadcast strides, and its channel stride is 0
// (one value per row) or 1 (one per channel).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tbd/kernels.h"

namespace tbd {
namespace {

struct StepCoefficients {
  float w_g, w_l, kx, kp, lo, hi, a, b, c, d;
};

StepCoefficients coefficients(const GuidedStepArgs& args) {
  StepCoefficients k{};
  k.w_g = static_cast<float>(args.w_g);
  k.w_l = static_cast<float>(args.w_l);
  switch (args.pred) {
    case PredType::eps: k.kx = static_cast<float>(1.0 / args.alpha); k.kp = static_cast<float>(-args.sigma / args.alpha); break;
    case PredType::x0: k.kx = 0.0f; k.kp = 1.0f; break;
    case PredType::v: k.kx = static_cast<float>(args.alpha); k.kp = static_cast<float>(-args.sigma); break;
  }
  const float bound = args.clamp ? static_cast<float>(*args.clamp) : std::numeric_limits<float>::infinity();
  k.lo = -bound;
  k.hi = bound;
  k.a = static_cast<float>(args.a);
  k.b = static_cast<float>(args.b);
  k.c = static_cast<float>(args.c);
  k.d = static_cast<float>(args.d);
  return k;
}

// Offset of row `row` (flat index over all but the last axis) in the broadcast mask.
int64_t mask_row_offset(const TensorRef& mask, int64_t row) {
  int64_t offset = 0;
  for (int dim = mask.ndim() - 2; dim >= 0; --dim) {
    const int64_t size = mask.shape[dim];
    offset += (row % size) * mask.strides[dim];
    row /= size;
  }
  return offset;
}

template <int kMaskStride, bool kPrev, bool kNoise>
void step_rows(const GuidedStepArgs& args, const StepCoefficients& k, int64_t rows, int64_t channels) {
  const float* eu = args.eps_u.ptr<float>();
  const float* eg = args.eps_g.ptr<float>();
  const float* egl = args.eps_gl.ptr<float>();
  const float* x = args.x.ptr<float>();
  const float* mask = args.mask.ptr<float>();
  const float* prev = kPrev ? args.x0_prev->ptr<float>() : nullptr;
  const float* noise = kNoise ? args.noise->ptr<float>() : nullptr;
  float* x_next = args.x_next.ptr<float>();
  float* x0_out = args.x0.ptr<float>();
  const int64_t total = rows * channels;
#pragma omp parallel for schedule(static) if (total > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* m = mask + mask_row_offset(args.mask, r);
    const int64_t base = r * channels;
#pragma omp simd
    for (int64_t j = base; j < base + channels; ++j) {
      const float mj = m[(j - base) * kMaskStride];
      const float p = eu[j] + k.w_g * (eg[j] - eu[j]) + k.w_l * mj * (egl[j] - eg[j]);
      const float x0 = std::min(std::max(k.kx * x[j] + k.kp * p, k.lo), k.hi);
      float next = k.a * x[j] + k.b * x0;
      if (kPrev) next += k.c * prev[j];
      if (kNoise) next += k.d * noise[j];
      x0_out[j] = x0;
      x_next[j] = next;
    }
  }
}

template <int kMaskStride>
void step_dispatch(const GuidedStepArgs& args, const StepCoefficients& k, int64_t rows, int64_t channels) {
  const bool prev = args.x0_prev.has_value(), noise = args.noise.has_value();
  if (prev && noise) return step_rows<kMaskStride, true, true>(args, k, rows, channels);
  if (prev) return step_rows<kMaskStride, true, false>(args, k, rows, channels);
  if (noise) return step_rows<kMaskStride, false, true>(args, k, rows, channels);
  return step_rows<kMaskStride, false, false>(args, k, rows, channels);
}

}  // namespace

void guided_step_cpu(const GuidedStepArgs& args) {
  const int64_t total = args.x.numel();
  if (total == 0) return;
  // A 0-d array is one row of one channel.
  const int64_t channels = args.x.ndim() > 0 ? args.x.size(-1) : 1;
  const int64_t rows = total / channels;
  const StepCoefficients k = coefficients(args);
  const bool per_channel = args.mask.ndim() > 0 && args.mask.stride(-1) == 1 && channels > 1;
  if (per_channel)
    step_dispatch<1>(args, k, rows, channels);
  else
    step_dispatch<0>(args, k, rows, channels);
}

}  // namespace tbd
