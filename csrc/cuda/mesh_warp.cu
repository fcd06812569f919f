// CUDA piecewise-affine mesh warp, same rules as the CPU kernel (csrc/cpu/mesh_warp.cpp).
//
// Three passes on the caller's stream:
//   1. triangle_maps: one thread per (frame, triangle) builds the barycentric and source maps in
//      double and stores them relative to the triangle's first vertex (small float terms).
//   2. rasterize: blocks over (triangle, frame, band of rows) write, with atomicMax, the index of
//      each covering triangle into a per-pixel id buffer. atomicMax makes "the highest index wins"
//      independent of scheduling, so results are deterministic.
//   3. sample: one thread per output pixel samples its triangle's map bilinearly, or copies the
//      source pixel where no triangle covers it (id -1).
#include <cmath>

#include "common.cuh"

namespace tbd {
namespace {

struct DeviceTriangle {
  float ox, oy;            // first destination vertex (origin of the local coordinates)
  float bx[3], by[3];      // barycentric lambda_i = e_i + bx[i] dx + by[i] dy
  float su, sv;            // source point of the origin
  float ux, uy, vx, vy;    // source = (su + ux dx + uy dy, sv + vx dx + vy dy)
  float xmin, xmax, ymin, ymax;
  int valid;
};

__global__ void triangle_maps(const float* __restrict__ src, const float* __restrict__ dst,
                              const int32_t* __restrict__ tri, int64_t frames, int64_t vertices, int64_t triangles,
                              DeviceTriangle* __restrict__ maps) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= frames * triangles) return;
  const int64_t f = i / triangles;
  const int32_t* t = tri + (i % triangles) * 3;
  const float* d = dst + f * vertices * 2;
  const double x0 = d[2 * t[0]], y0 = d[2 * t[0] + 1], x1 = d[2 * t[1]], y1 = d[2 * t[1] + 1];
  const double x2 = d[2 * t[2]], y2 = d[2 * t[2] + 1];
  DeviceTriangle m{};
  const double area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  m.valid = isfinite(area) && fabs(area) >= kMeshMinArea;
  if (m.valid) {
    // Barycentric gradients (rows of the inverse of [[x0 x1 x2], [y0 y1 y2], [1 1 1]]).
    const double inv = 1.0 / area;
    const double bx[3] = {(y1 - y2) * inv, (y2 - y0) * inv, (y0 - y1) * inv};
    const double by[3] = {(x2 - x1) * inv, (x0 - x2) * inv, (x1 - x0) * inv};
    const double su[3] = {src[2 * t[0]], src[2 * t[1]], src[2 * t[2]]};
    const double sv[3] = {src[2 * t[0] + 1], src[2 * t[1] + 1], src[2 * t[2] + 1]};
    double ux = 0, uy = 0, vx = 0, vy = 0;
    for (int c = 0; c < 3; ++c) {
      m.bx[c] = static_cast<float>(bx[c]);
      m.by[c] = static_cast<float>(by[c]);
      ux += su[c] * bx[c];
      uy += su[c] * by[c];
      vx += sv[c] * bx[c];
      vy += sv[c] * by[c];
    }
    m.ox = static_cast<float>(x0);
    m.oy = static_cast<float>(y0);
    m.su = static_cast<float>(su[0]);
    m.sv = static_cast<float>(sv[0]);
    m.ux = static_cast<float>(ux);
    m.uy = static_cast<float>(uy);
    m.vx = static_cast<float>(vx);
    m.vy = static_cast<float>(vy);
    m.xmin = static_cast<float>(fmin(x0, fmin(x1, x2)));
    m.xmax = static_cast<float>(fmax(x0, fmax(x1, x2)));
    m.ymin = static_cast<float>(fmin(y0, fmin(y1, y2)));
    m.ymax = static_cast<float>(fmax(y0, fmax(y1, y2)));
  }
  maps[i] = m;
}

constexpr int kBandRows = 32;

// grid: (triangle, frame, band of kBandRows rows); threads stride over the clipped bounding box.
__global__ void rasterize(const DeviceTriangle* __restrict__ maps, int64_t triangles, int64_t height, int64_t width,
                          int32_t* __restrict__ ids) {
  const int64_t t = blockIdx.x, f = blockIdx.y;
  const DeviceTriangle m = maps[f * triangles + t];
  if (!m.valid) return;
  const float row0 = static_cast<float>(blockIdx.z) * kBandRows;
  const float y_lo = fmaxf(fmaxf(ceilf(m.ymin - 1e-6f), 0.0f), row0);
  const float y_hi = fminf(fminf(floorf(m.ymax + 1e-6f), static_cast<float>(height - 1)), row0 + kBandRows - 1);
  const float x_lo = fmaxf(ceilf(m.xmin - 1e-6f), 0.0f);
  const float x_hi = fminf(floorf(m.xmax + 1e-6f), static_cast<float>(width - 1));
  if (!(y_lo <= y_hi) || !(x_lo <= x_hi)) return;
  const int64_t y0 = static_cast<int64_t>(y_lo), x0 = static_cast<int64_t>(x_lo);
  const int64_t rows = static_cast<int64_t>(y_hi) - y0 + 1, cols = static_cast<int64_t>(x_hi) - x0 + 1;
  const float eps = static_cast<float>(kMeshEdgeEps);
  int32_t* frame_ids = ids + f * height * width;
  for (int64_t i = threadIdx.x; i < rows * cols; i += blockDim.x) {
    const int64_t y = y0 + i / cols, x = x0 + i % cols;
    const float dx = static_cast<float>(x) - m.ox, dy = static_cast<float>(y) - m.oy;
    const float l0 = 1.0f + m.bx[0] * dx + m.by[0] * dy;
    const float l1 = m.bx[1] * dx + m.by[1] * dy;
    const float l2 = m.bx[2] * dx + m.by[2] * dy;
    if (l0 >= -eps && l1 >= -eps && l2 >= -eps) atomicMax(frame_ids + y * width + x, static_cast<int32_t>(t));
  }
}

template <typename T>
__global__ void sample(const T* __restrict__ image, const DeviceTriangle* __restrict__ maps,
                       const int32_t* __restrict__ ids, int64_t frames, int64_t triangles, int64_t height,
                       int64_t width, int64_t channels, T* __restrict__ out) {
  const int64_t pixels = frames * height * width;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < pixels; p += step) {
    const int64_t f = p / (height * width), yx = p % (height * width);
    const int64_t y = yx / width, x = yx % width;
    const int32_t id = ids[p];
    T* dst = out + p * channels;
    if (id < 0) {
      for (int64_t c = 0; c < channels; ++c) dst[c] = image[yx * channels + c];
      continue;
    }
    const DeviceTriangle& m = maps[f * triangles + id];
    const float dx = static_cast<float>(x) - m.ox, dy = static_cast<float>(y) - m.oy;
    float sx = m.su + m.ux * dx + m.uy * dy, sy = m.sv + m.vx * dx + m.vy * dy;
    sx = fminf(fmaxf(sx, 0.0f), static_cast<float>(width - 1));
    sy = fminf(fmaxf(sy, 0.0f), static_cast<float>(height - 1));
    const int64_t ix = static_cast<int64_t>(sx), iy = static_cast<int64_t>(sy);
    const float fx = sx - ix, fy = sy - iy;
    const int64_t ddx = ix + 1 < width ? channels : 0, ddy = iy + 1 < height ? width * channels : 0;
    const T* s = image + (iy * width + ix) * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const float top = (1 - fx) * cuda::to_float(s[c]) + fx * cuda::to_float(s[c + ddx]);
      const float bottom = (1 - fx) * cuda::to_float(s[c + ddy]) + fx * cuda::to_float(s[c + ddx + ddy]);
      dst[c] = cuda::from_float<T>((1 - fy) * top + fy * bottom);
    }
  }
}

template <typename T>
void launch(const MeshWarpArgs& args, cudaStream_t stream) {
  const int64_t H = args.image.size(0), W = args.image.size(1), C = args.image.size(2);
  const int64_t F = args.dst.size(0), V = args.src.size(0), N = args.triangles.size(0);
  if (F > 65535 || (H + kBandRows - 1) / kBandRows > 65535 || N > 0x7fffffff)
    throw ArgError("mesh_warp (CUDA): at most 65535 frames, 2M rows and 2^31 triangles per call");
  DeviceTriangle* maps = nullptr;
  int32_t* ids = nullptr;
  cuda::check(cudaMallocAsync(reinterpret_cast<void**>(&ids), sizeof(int32_t) * F * H * W, stream), "cudaMallocAsync");
  cuda::check(cudaMemsetAsync(ids, 0xFF, sizeof(int32_t) * F * H * W, stream), "cudaMemsetAsync");  // all -1
  if (N > 0) {
    cuda::check(cudaMallocAsync(reinterpret_cast<void**>(&maps), sizeof(DeviceTriangle) * F * N, stream),
                "cudaMallocAsync");
    triangle_maps<<<cuda::blocks_for(F * N, 128, 1 << 30), 128, 0, stream>>>(
        args.src.ptr<float>(), args.dst.ptr<float>(), args.triangles.ptr<int32_t>(), F, V, N, maps);
    const dim3 grid(static_cast<unsigned>(N), static_cast<unsigned>(F),
                    static_cast<unsigned>((H + kBandRows - 1) / kBandRows));
    rasterize<<<grid, 256, 0, stream>>>(maps, N, H, W, ids);
  }
  sample<T><<<cuda::blocks_for(F * H * W, 256, 1 << 16), 256, 0, stream>>>(
      args.image.ptr<T>(), maps, ids, F, N, H, W, C, args.out.ptr<T>());
  cuda::check(cudaGetLastError(), "mesh_warp launch");
  if (maps) cuda::check(cudaFreeAsync(maps, stream), "cudaFreeAsync");
  cuda::check(cudaFreeAsync(ids, stream), "cudaFreeAsync");
}

}  // namespace

void mesh_warp_cuda(const MeshWarpArgs& args, std::uintptr_t stream) {
  if (args.out.numel() == 0) return;
  cuda::DeviceGuard guard(args.image.device_index);
  if (args.image.dtype == DType::u8)
    launch<uint8_t>(args, cuda::as_stream(stream));
  else
    launch<float>(args, cuda::as_stream(stream));
}

}  // namespace tbd
