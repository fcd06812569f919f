// CPU piecewise-affine mesh warp.
//
// Work is split into (frame, band of rows) tasks run with tbd::parallel_for. Each task first copies its rows
// of the source image (pixels no triangle covers keep the source), then walks the triangles in
// index order, so a later triangle overwrites an earlier one: the highest index wins, whatever the
// number of threads. For each triangle and row, the span of covered pixels comes from solving the
// three barycentric inequalities for x, so the inner loop only maps and samples.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "parallel.h"
#include "tbd/kernels.h"


namespace tbd {
namespace {

// Per-triangle maps, all affine in the destination pixel (x, y):
// barycentric lambda_i = bx[i] x + by[i] y + b1[i]; source point = (ax x + ay y + a1) per axis.
struct TriangleMap {
  double bx[3], by[3], b1[3];
  double sx[3], sy[3];  // source x and y: coefficients of x, y, 1
  double ymin, ymax;
  bool valid;
};

TriangleMap make_map(const float* s0, const float* s1, const float* s2, const float* d0,
                     const float* d1, const float* d2) {
  TriangleMap m{};
  const double x0 = d0[0], y0 = d0[1], x1 = d1[0], y1 = d1[1], x2 = d2[0], y2 = d2[1];
  const double area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  m.valid = std::isfinite(area) && std::fabs(area) >= kMeshMinArea;
  if (!m.valid) return m;
  // Inverse of [[x0 x1 x2], [y0 y1 y2], [1 1 1]]: rows give the barycentric coordinates.
  const double inv = 1.0 / area;
  m.bx[0] = (y1 - y2) * inv; m.by[0] = (x2 - x1) * inv; m.b1[0] = (x1 * y2 - x2 * y1) * inv;
  m.bx[1] = (y2 - y0) * inv; m.by[1] = (x0 - x2) * inv; m.b1[1] = (x2 * y0 - x0 * y2) * inv;
  m.bx[2] = (y0 - y1) * inv; m.by[2] = (x1 - x0) * inv; m.b1[2] = (x0 * y1 - x1 * y0) * inv;
  const double su[3] = {s0[0], s1[0], s2[0]}, sv[3] = {s0[1], s1[1], s2[1]};
  for (int c = 0; c < 3; ++c) {
    const double* coef = c == 0 ? m.bx : c == 1 ? m.by : m.b1;
    m.sx[c] = su[0] * coef[0] + su[1] * coef[1] + su[2] * coef[2];
    m.sy[c] = sv[0] * coef[0] + sv[1] * coef[1] + sv[2] * coef[2];
  }
  m.ymin = std::min({y0, y1, y2});
  m.ymax = std::max({y0, y1, y2});
  return m;
}

// Columns [*lo, *hi] of row y where all barycentric coordinates are >= -eps; false if none.
bool row_span(const TriangleMap& m, double y, int64_t width, int64_t* lo, int64_t* hi) {
  double xlo = 0.0, xhi = static_cast<double>(width - 1);
  for (int i = 0; i < 3; ++i) {
    const double c = m.by[i] * y + m.b1[i] + kMeshEdgeEps;  // lambda_i + eps = bx x + c >= 0
    if (m.bx[i] > 0.0) {
      xlo = std::max(xlo, -c / m.bx[i]);
    } else if (m.bx[i] < 0.0) {
      xhi = std::min(xhi, -c / m.bx[i]);
    } else if (c < 0.0) {
      return false;
    }
  }
  if (!(xlo <= xhi)) return false;
  *lo = static_cast<int64_t>(std::ceil(xlo));
  *hi = static_cast<int64_t>(std::floor(xhi));
  return *lo <= *hi;
}

template <typename T>
inline T from_float(float value);
template <>
inline float from_float<float>(float value) { return value; }
template <>
inline uint8_t from_float<uint8_t>(float value) {
  value = std::min(std::max(value, 0.0f), 255.0f);
  return static_cast<uint8_t>(value + 0.5f);
}

// Pixels of one row span are sampled in chunks: a vectorisable pass maps each pixel to its
// source cell (offset of the top-left neighbour, steps to the right and lower neighbours, which
// are 0 at the border, and the fractional weights), then a gather pass blends the four
// neighbours per channel.
constexpr int kChunk = 64;

struct SampleChunk {
  int32_t offset[kChunk], right[kChunk], down[kChunk];
  float fx[kChunk], fy[kChunk];
};

inline void map_chunk(float sx0, float sx_step, float sy0, float sy_step, int64_t x0, int n, int64_t H, int64_t W,
                      int64_t C, SampleChunk& chunk) {
  const float x_max = static_cast<float>(W - 1), y_max = static_cast<float>(H - 1);
#pragma omp simd
  for (int k = 0; k < n; ++k) {
    const float x = static_cast<float>(x0 + k);
    const float sx = std::min(std::max(sx0 + sx_step * x, 0.0f), x_max);
    const float sy = std::min(std::max(sy0 + sy_step * x, 0.0f), y_max);
    const int32_t ix = static_cast<int32_t>(sx), iy = static_cast<int32_t>(sy);
    chunk.fx[k] = sx - static_cast<float>(ix);
    chunk.fy[k] = sy - static_cast<float>(iy);
    chunk.offset[k] = static_cast<int32_t>((iy * W + ix) * C);
    chunk.right[k] = ix + 1 < W ? static_cast<int32_t>(C) : 0;
    chunk.down[k] = iy + 1 < H ? static_cast<int32_t>(W * C) : 0;
  }
}

template <typename T, int kC>
inline void blend_chunk(const T* image, int64_t C, const SampleChunk& chunk, int n, T* dst) {
  const int64_t channels = kC > 0 ? kC : C;
  for (int k = 0; k < n; ++k) {
    const T* p = image + chunk.offset[k];
    const int32_t r = chunk.right[k], d = chunk.down[k];
    const float fx = chunk.fx[k], fy = chunk.fy[k];
    T* o = dst + k * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const float p00 = static_cast<float>(p[c]), p01 = static_cast<float>(p[c + r]);
      const float p10 = static_cast<float>(p[c + d]), p11 = static_cast<float>(p[c + r + d]);
      const float top = p00 + fx * (p01 - p00), bottom = p10 + fx * (p11 - p10);
      o[c] = from_float<T>(top + fy * (bottom - top));
    }
  }
}

template <typename T, int kC>
void warp_band(const T* image, int64_t H, int64_t W, int64_t C, const TriangleMap* maps, int64_t N,
               int64_t row0, int64_t row1, T* out) {
  const int64_t channels = kC > 0 ? kC : C;
  std::memcpy(out + row0 * W * channels, image + row0 * W * channels,
              sizeof(T) * (row1 - row0) * W * channels);
  SampleChunk chunk;
  for (int64_t t = 0; t < N; ++t) {
    const TriangleMap& m = maps[t];
    if (!m.valid) continue;
    // Clamp in double before converting: vertices may lie far outside the image.
    const double y_lo = std::max(static_cast<double>(row0), std::ceil(m.ymin - 1e-6));
    const double y_hi = std::min(static_cast<double>(row1 - 1), std::floor(m.ymax + 1e-6));
    if (!(y_lo <= y_hi)) continue;
    const int64_t y_first = static_cast<int64_t>(y_lo), y_last = static_cast<int64_t>(y_hi);
    for (int64_t y = y_first; y <= y_last; ++y) {
      int64_t x_lo, x_hi;
      if (!row_span(m, static_cast<double>(y), W, &x_lo, &x_hi)) continue;
      // Source coordinates along the row: start + x * step (float is exact enough per row).
      const float sx0 = static_cast<float>(m.sx[1] * y + m.sx[2]), sx_step = static_cast<float>(m.sx[0]);
      const float sy0 = static_cast<float>(m.sy[1] * y + m.sy[2]), sy_step = static_cast<float>(m.sy[0]);
      T* row = out + y * W * channels;
      for (int64_t x = x_lo; x <= x_hi; x += kChunk) {
        const int n = static_cast<int>(std::min<int64_t>(kChunk, x_hi - x + 1));
        map_chunk(sx0, sx_step, sy0, sy_step, x, n, H, W, channels, chunk);
        blend_chunk<T, kC>(image, C, chunk, n, row + x * channels);
      }
    }
  }
}

template <typename T, int kC>
void warp_all(const MeshWarpArgs& args) {
  const int64_t H = args.image.size(0), W = args.image.size(1), C = args.image.size(2);
  const int64_t F = args.dst.size(0), V = args.src.size(0), N = args.triangles.size(0);
  const T* image = args.image.ptr<T>();
  const float* src = args.src.ptr<float>();
  const float* dst = args.dst.ptr<float>();
  const int32_t* tri = args.triangles.ptr<int32_t>();
  T* out = args.out.ptr<T>();

  std::vector<TriangleMap> maps(static_cast<size_t>(F * N));
  const int threads = F * H * W > 16384 ? max_threads() : 1;
  parallel_for(F, threads, [&](int64_t f) {
    const float* d = dst + f * V * 2;
    for (int64_t i = 0; i < N; ++i) {
      const int32_t* t = tri + i * 3;
      maps[f * N + i] = make_map(src + 2 * t[0], src + 2 * t[1], src + 2 * t[2], d + 2 * t[0], d + 2 * t[1],
                                 d + 2 * t[2]);
    }
  });

  // Enough bands per frame to balance the threads when there are few frames.
  const int64_t bands = std::min<int64_t>(H, F >= 4 * threads ? 1 : (4 * threads + F - 1) / F);
  const int64_t band_rows = (H + bands - 1) / bands;
  parallel_for(F * bands, threads, [&](int64_t task) {
    const int64_t f = task / bands, band = task % bands;
    const int64_t row0 = band * band_rows, row1 = std::min(H, row0 + band_rows);
    if (row0 < row1) warp_band<T, kC>(image, H, W, C, maps.data() + f * N, N, row0, row1, out + f * H * W * C);
  });
}

template <typename T>
void warp_dispatch_channels(const MeshWarpArgs& args) {
  switch (args.image.size(2)) {
    case 1: return warp_all<T, 1>(args);
    case 3: return warp_all<T, 3>(args);
    case 4: return warp_all<T, 4>(args);
    default: return warp_all<T, 0>(args);
  }
}

}  // namespace

void mesh_warp_cpu(const MeshWarpArgs& args) {
  if (args.out.numel() == 0) return;
  if (args.image.dtype == DType::u8)
    warp_dispatch_channels<uint8_t>(args);
  else
    warp_dispatch_channels<float>(args);
}

}  // namespace tbd
