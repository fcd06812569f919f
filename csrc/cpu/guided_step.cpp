// CPU guided diffusion step: the three-branch guidance combination, x0 prediction, clamp and the
// sampler's linear update, in one pass over memory.
//
// The prediction type, the optional terms and the mask layout are template parameters, so each
// combination compiles to one branch-free vector loop. The loop runs over flat spans
// with a contiguous mask pointer: the mask arrives broadcast to x's shape, and in the usual
// layouts (one value, one per channel, a [T, C] mask shared by the batch, a full mask) it is
// periodic in the flat index, so repeating one period into a small buffer makes every span
// contiguous. Other layouts walk rows of the channel axis.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parallel.h"
#include "tbd/kernels.h"

namespace tbd {
namespace {

struct StepCoefficients {
  float w_g, w_l, alpha, sigma, lo, hi, a, b, c, d;
};

StepCoefficients coefficients(const GuidedStepArgs& args) {
  StepCoefficients k{};
  k.w_g = static_cast<float>(args.w_g);
  k.w_l = static_cast<float>(args.w_l);
  k.alpha = static_cast<float>(args.alpha);
  k.sigma = static_cast<float>(args.sigma);
  const float bound = args.clamp ? static_cast<float>(*args.clamp) : std::numeric_limits<float>::infinity();
  k.lo = -bound;
  k.hi = bound;
  k.a = static_cast<float>(args.a);
  k.b = static_cast<float>(args.b);
  k.c = static_cast<float>(args.c);
  k.d = static_cast<float>(args.d);
  return k;
}

struct StepPointers {
  const float *eu, *eg, *egl, *x, *prev, *noise;
  float *x_next, *x0;
};

// Elements [begin, end); the span's mask is mask[(j - begin) * kMaskStride] (stride 0 or 1).
template <PredType kPred>
inline float predict_x0(float x, float pred, const StepCoefficients& k) {
  if (kPred == PredType::eps) return (x - k.sigma * pred) / k.alpha;
  if (kPred == PredType::v) return k.alpha * x - k.sigma * pred;
  return pred;
}

template <PredType kPred, int kMaskStride, bool kPrev, bool kNoise>
inline void step_span(const StepPointers& p, const StepCoefficients& k, const float* mask, int64_t begin,
                      int64_t end) {
#pragma omp simd
  for (int64_t j = begin; j < end; ++j) {
    const float m = mask[(j - begin) * kMaskStride];
    const float pred = p.eu[j] + k.w_g * (p.eg[j] - p.eu[j]) + k.w_l * m * (p.egl[j] - p.eg[j]);
    const float x0 = std::min(std::max(predict_x0<kPred>(p.x[j], pred, k), k.lo), k.hi);
    float next = k.a * p.x[j] + k.b * x0;
    if (kPrev) next += k.c * p.prev[j];
    if (kNoise) next += k.d * p.noise[j];
    p.x0[j] = x0;
    p.x_next[j] = next;
  }
}

// Length of the mask's period in the flat index, or 0 if it is not periodic: leading axes
// broadcast (stride 0), trailing axes dense.
int64_t mask_period(const TensorRef& mask) {
  int64_t period = 1;
  int dim = mask.ndim() - 1;
  for (; dim >= 0; --dim) {
    if (mask.shape[dim] == 1) continue;
    if (mask.strides[dim] != period) break;
    period *= mask.shape[dim];
  }
  for (; dim >= 0; --dim)
    if (mask.shape[dim] != 1 && mask.strides[dim] != 0) return 0;
  return period;
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

template <PredType kPred, bool kPrev, bool kNoise>
void step_all(const GuidedStepArgs& args, const StepCoefficients& k) {
  const StepPointers p{args.eps_u.ptr<float>(), args.eps_g.ptr<float>(), args.eps_gl.ptr<float>(),
                       args.x.ptr<float>(),
                       kPrev ? args.x0_prev->ptr<float>() : nullptr,
                       kNoise ? args.noise->ptr<float>() : nullptr,
                       args.x_next.ptr<float>(), args.x0.ptr<float>()};
  const int64_t total = args.x.numel();
  const float* mask = args.mask.ptr<float>();
  const int64_t period = mask_period(args.mask);
  constexpr int64_t kSpan = 4096;  // elements per parallel work item
  const int threads = total > 16384 ? max_threads() : 1;

  if (period > 0) {
    // Spans start at multiples of the (repeated) period, so the mask of a span is contiguous.
    std::vector<float> repeated;
    const float* span_mask = mask;
    int64_t span = total;
    if (period < total) {
      const int64_t copies = std::max<int64_t>(1, std::min(kSpan, total) / period);
      repeated.resize(static_cast<size_t>(period * copies));
      for (int64_t c = 0; c < copies; ++c) std::copy(mask, mask + period, repeated.begin() + c * period);
      span_mask = repeated.data();
      span = period * copies;
    } else {
      span = std::min<int64_t>(total, kSpan);  // a full mask: spans read it in place
    }
    const bool in_place = period >= total;
    const int64_t spans = (total + span - 1) / span;
    parallel_for(spans, threads, [&](int64_t s) {
      const int64_t begin = s * span, end = std::min(total, begin + span);
      step_span<kPred, 1, kPrev, kNoise>(p, k, in_place ? mask + begin : span_mask, begin, end);
    });
    return;
  }

  // General broadcast: rows of the channel axis, mask row from the strides.
  const int64_t channels = args.x.size(-1), rows = total / channels;
  const int64_t mask_stride = args.mask.stride(-1);
  const int64_t rows_per_task = std::max<int64_t>(1, kSpan / channels);
  parallel_for((rows + rows_per_task - 1) / rows_per_task, threads, [&](int64_t t) {
    for (int64_t r = t * rows_per_task; r < std::min(rows, (t + 1) * rows_per_task); ++r) {
      const float* row_mask = mask + mask_row_offset(args.mask, r);
      if (mask_stride == 0)
        step_span<kPred, 0, kPrev, kNoise>(p, k, row_mask, r * channels, (r + 1) * channels);
      else
        step_span<kPred, 1, kPrev, kNoise>(p, k, row_mask, r * channels, (r + 1) * channels);
    }
  });
}

template <PredType kPred>
void step_dispatch(const GuidedStepArgs& args, const StepCoefficients& k) {
  const bool prev = args.x0_prev.has_value(), noise = args.noise.has_value();
  if (prev && noise) return step_all<kPred, true, true>(args, k);
  if (prev) return step_all<kPred, true, false>(args, k);
  if (noise) return step_all<kPred, false, true>(args, k);
  step_all<kPred, false, false>(args, k);
}

}  // namespace

void guided_step_cpu(const GuidedStepArgs& args) {
  if (args.x.numel() == 0) return;
  const StepCoefficients k = coefficients(args);
  switch (args.pred) {
    case PredType::eps: return step_dispatch<PredType::eps>(args, k);
    case PredType::x0: return step_dispatch<PredType::x0>(args, k);
    case PredType::v: return step_dispatch<PredType::v>(args, k);
  }
}

}  // namespace tbd
