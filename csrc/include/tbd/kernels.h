// Entry points of the fused kernels. Each kernel has one argument struct, one checker (shared by
// the CPU and CUDA paths, csrc/cpu/checks.cpp) and one implementation per device. Callers run the
// checker first; implementations assume checked arguments.
#pragma once

#include <cstdint>
#include <optional>

#include "tbd/tensor_ref.h"

namespace tbd {

// ---- attention -------------------------------------------------------------------------------
// out[b,h,i] = softmax_j(scale * q[b,h,i] . k[b,h,j] + bias) v[b,h,j], online softmax.
// q, out: [B, H, Tq, D]; k, v: [B, H, Tk, D]; last dim contiguous, other strides free.
// key_mask: optional bool/uint8 [B, Tk], nonzero = attend. window >= 0: keep |i - j| <= window.
// Rows with no key to attend to give zeros.
struct AttentionArgs {
  TensorRef q, k, v, out;
  std::optional<TensorRef> key_mask;
  int64_t window = -1;
  double scale = 0.0;
};
void check_attention(const AttentionArgs& args);
void attention_cpu(const AttentionArgs& args);
void attention_cuda(const AttentionArgs& args, std::uintptr_t stream);

// ---- guided_step -----------------------------------------------------------------------------
// p = eps_u + w_g (eps_g - eps_u) + w_l mask (eps_gl - eps_g); x0 from p; optional clamp;
// x_next = a x + b x0 + c x0_prev + d noise. All arrays share x's shape; mask is float32 and
// arrives already broadcast to x's shape (zero strides allowed, last-dim stride 0 or 1).
enum class PredType { eps, x0, v };
struct GuidedStepArgs {
  TensorRef eps_u, eps_g, eps_gl, x, mask, x_next, x0;
  std::optional<TensorRef> x0_prev, noise;
  double w_g = 0, w_l = 0, alpha = 1, sigma = 0, a = 0, b = 0, c = 0, d = 0;
  PredType pred = PredType::eps;
  std::optional<double> clamp;
};
void check_guided_step(const GuidedStepArgs& args);
void guided_step_cpu(const GuidedStepArgs& args);
void guided_step_cuda(const GuidedStepArgs& args, std::uintptr_t stream);

// ---- mesh_warp -------------------------------------------------------------------------------
// Backward piecewise-affine warp: out[f] pixel p inside destination triangle t (dst[f][tri[t]])
// samples image bilinearly at the affine map of p onto source triangle t (src[tri[t]]).
// Pixel centres sit at integer coordinates (x = column, y = row); sampling clamps to the border.
// Pixels covered by no triangle keep the source pixel. Overlaps: the highest-index triangle wins.
// Degenerate destination triangles (|area| < 1e-9 px^2) cover nothing.
// image, out: [H, W, C] / [F, H, W, C] uint8 or float32, contiguous; src [V, 2] f32;
// dst [F, V, 2] f32; triangles [N, 3] int32 with indices in [0, V).
struct MeshWarpArgs {
  TensorRef image, src, dst, triangles, out;
};
void check_mesh_warp(const MeshWarpArgs& args);
void mesh_warp_cpu(const MeshWarpArgs& args);
void mesh_warp_cuda(const MeshWarpArgs& args, std::uintptr_t stream);

// Coverage tolerance on barycentric coordinates: a pixel centre on a shared edge is inside both
// triangles (no cracks); the overlap rule then picks one.
constexpr double kMeshEdgeEps = 1e-6;
constexpr double kMeshMinArea = 1e-9;

}  // namespace tbd
