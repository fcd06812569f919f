// CPU fused attention with online softmax (FlashAttention-style, no Tq x Tk buffer).
//
// Tasks are (batch, head, block of queries), run with tbd::parallel_for. Inside a task the queries sit in
// the SIMD lanes: the query block is transposed once into Qt [D][BQ], raw scores of a key block
// are St [BK][BQ], and the output accumulator is Ot [D][BQ]. Then
//   scores:     St[j][:] = sum_d K[j][d] * Qt[d][:]     (broadcast a key element, FMA a vector)
//   softmax:    running max m[:], sum l[:] and the rescale factor are plain vector ops;
//               weights are exp2((s - m) * scale * log2(e)): the scale multiplies the exact
//               difference, which rounds less than scaling q or s first
//   accumulate: Ot[d][:] = Ot[d][:] * corr[:] + sum_j V[j][d] * P[j][:]
// Both products are register-tiled (kRows rows x NV vectors of accumulators). The output is
// transposed back and divided by l when the task writes it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parallel.h"
#include "simd.h"
#include "tbd/kernels.h"

namespace tbd {
namespace {

using simd::kLanes;
using simd::vfloat;

constexpr int kRows = kLanes >= 16 ? 8 : 4;  // register tile height (fits the vector registers)
constexpr int kBlockKeys = 64;                // keys per block (BK)
constexpr int64_t kSumChunk = 32;             // keys summed before adding to Ot (blocked summation)
constexpr float kLog2e = 1.4426950408889634f;

struct Problem {
  const float *q, *k, *v;
  float* out;
  const uint8_t* key_mask;  // [B, Tk] or null
  int64_t B, H, Tq, Tk, D, window;
  int64_t qs[3], ks[3], vs[3], os[3];  // strides of batch, head, time (elements)
  float scale_log2;
};

// St[j][:] = sum_d K[j][d] Qt[d][:] for keys j < nk; R rows at a time. The sum over d runs in
// chunks of kDimChunk added together at the end (blocked summation: smaller rounding error).
constexpr int64_t kDimChunk = 32;

template <int NV, int R>
inline void score_rows(const float* Qt, const float* K, int64_t ks, int64_t D, float* St) {
  constexpr int BQ = NV * kLanes;
  for (int64_t d0 = 0; d0 < D; d0 += kDimChunk) {
    const int64_t d1 = std::min(D, d0 + kDimChunk);
    vfloat acc[R][NV] = {};
    for (int64_t d = d0; d < d1; ++d) {
      vfloat qv[NV];
      for (int n = 0; n < NV; ++n) qv[n] = simd::load(Qt + d * BQ + n * kLanes);
      for (int r = 0; r < R; ++r) {
        const float kv = K[r * ks + d];
        for (int n = 0; n < NV; ++n) acc[r][n] += kv * qv[n];
      }
    }
    for (int r = 0; r < R; ++r)
      for (int n = 0; n < NV; ++n) {
        float* dst = St + r * BQ + n * kLanes;
        simd::store(dst, d0 == 0 ? acc[r][n] : simd::load(dst) + acc[r][n]);
      }
  }
}

template <int NV>
void scores(const float* Qt, const float* K, int64_t ks, int64_t nk, int64_t D, float* St) {
  constexpr int BQ = NV * kLanes;
  int64_t j = 0;
  for (; j + kRows <= nk; j += kRows) score_rows<NV, kRows>(Qt, K + j * ks, ks, D, St + j * BQ);
  for (; j < nk; ++j) score_rows<NV, 1>(Qt, K + j * ks, ks, D, St + j * BQ);
}

// Ot[d][:] = Ot[d][:] * corr + sum_j V[j][d] P[j][:] for R head dims at a time.
template <int NV, int R>
inline void accumulate_rows(const float* P, const float* V, int64_t vs, int64_t nk, const vfloat* corr,
                            float* Ot) {
  constexpr int BQ = NV * kLanes;
  vfloat acc[R][NV] = {};  // the block's sum starts from zero: blocked summation, less rounding
  for (int64_t j = 0; j < nk; ++j) {
    vfloat pv[NV];
    for (int n = 0; n < NV; ++n) pv[n] = simd::load(P + j * BQ + n * kLanes);
    for (int r = 0; r < R; ++r) {
      const float vv = V[j * vs + r];
      for (int n = 0; n < NV; ++n) acc[r][n] += vv * pv[n];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < NV; ++n)
      simd::store(Ot + r * BQ + n * kLanes, simd::load(Ot + r * BQ + n * kLanes) * corr[n] + acc[r][n]);
}

template <int NV>
void accumulate(const float* P, const float* V, int64_t vs, int64_t nk, int64_t D, const vfloat* corr,
                float* Ot) {
  constexpr int BQ = NV * kLanes;
  vfloat one[NV];
  for (int n = 0; n < NV; ++n) one[n] = simd::splat(1.0f);
  for (int64_t j = 0; j < nk; j += kSumChunk) {
    const int64_t nj = std::min(kSumChunk, nk - j);
    const vfloat* c = j == 0 ? corr : one;  // rescale once per block
    int64_t d = 0;
    for (; d + kRows <= D; d += kRows) accumulate_rows<NV, kRows>(P + j * BQ, V + j * vs + d, vs, nj, c, Ot + d * BQ);
    for (; d < D; ++d) accumulate_rows<NV, 1>(P + j * BQ, V + j * vs + d, vs, nj, c, Ot + d * BQ);
  }
}

// One (batch, head, query block) task: queries [q0, q0 + nq), nq <= NV * kLanes.
template <int NV>
void attend_block(const Problem& pb, int64_t b, int64_t h, int64_t q0, int64_t nq, std::vector<float>& scratch) {
  constexpr int BQ = NV * kLanes;
  const int64_t D = pb.D;
  scratch.resize(static_cast<size_t>((2 * D + kBlockKeys) * BQ));
  float* Qt = scratch.data();
  float* Ot = Qt + D * BQ;
  float* St = Ot + D * BQ;

  const float* q = pb.q + b * pb.qs[0] + h * pb.qs[1];
  const float* k = pb.k + b * pb.ks[0] + h * pb.ks[1];
  const float* v = pb.v + b * pb.vs[0] + h * pb.vs[1];
  if (nq < BQ) std::fill(Qt, Qt + D * BQ, 0.0f);
  for (int64_t i = 0; i < nq; ++i) {
    const float* row = q + (q0 + i) * pb.qs[2];
    for (int64_t d = 0; d < D; ++d) Qt[d * BQ + i] = row[d];
  }
  std::fill(Ot, Ot + D * BQ, 0.0f);
  const vfloat neg_inf = simd::splat(-std::numeric_limits<float>::infinity());
  vfloat m[NV], l[NV];
  for (int n = 0; n < NV; ++n) m[n] = neg_inf, l[n] = simd::splat(0.0f);

  // Keys any query of the block may see.
  int64_t k_begin = 0, k_end = pb.Tk;
  if (pb.window >= 0) {
    k_begin = std::max<int64_t>(0, q0 - pb.window);
    k_end = std::min<int64_t>(pb.Tk, q0 + nq + pb.window);
  }
  const uint8_t* key_mask = pb.key_mask ? pb.key_mask + b * pb.Tk : nullptr;

  for (int64_t kb = k_begin; kb < k_end; kb += kBlockKeys) {
    const int64_t nk = std::min<int64_t>(kBlockKeys, k_end - kb);
    if (key_mask && std::all_of(key_mask + kb, key_mask + kb + nk, [](uint8_t x) { return x == 0; })) continue;
    scores<NV>(Qt, k + kb * pb.ks[2], pb.ks[2], nk, D, St);

    if (key_mask) {
      for (int64_t j = 0; j < nk; ++j)
        if (!key_mask[kb + j])
          for (int n = 0; n < NV; ++n) simd::store(St + j * BQ + n * kLanes, neg_inf);
    }
    // Band |i - j| <= window, applied only where the block crosses its edge.
    if (pb.window >= 0 && (kb < q0 + nq - 1 - pb.window || kb + nk - 1 > q0 + pb.window)) {
      for (int64_t j = 0; j < nk; ++j) {
        for (int n = 0; n < NV; ++n) {
          vfloat offset;  // query index - key index, per lane
          for (int i = 0; i < kLanes; ++i) offset[i] = static_cast<float>(q0 + n * kLanes + i - (kb + j));
          const vfloat s = simd::load(St + j * BQ + n * kLanes);
          const vfloat w = simd::splat(static_cast<float>(pb.window));
          simd::store(St + j * BQ + n * kLanes, (offset <= w && offset >= -w) ? s : neg_inf);
        }
      }
    }

    // Online softmax: new running max, rescale factor for what was accumulated so far.
    vfloat corr[NV], m_safe[NV];
    for (int n = 0; n < NV; ++n) {
      vfloat block_max = neg_inf;
      for (int64_t j = 0; j < nk; ++j) block_max = simd::max(block_max, simd::load(St + j * BQ + n * kLanes));
      const vfloat m_new = simd::max(m[n], block_max);
      m_safe[n] = m_new == neg_inf ? simd::splat(0.0f) : m_new;  // all masked so far: weights 0
      corr[n] = simd::exp2_nonpositive((m[n] - m_safe[n]) * pb.scale_log2);
      m[n] = m_new;
      vfloat sum = simd::splat(0.0f);
      for (int64_t j0 = 0; j0 < nk; j0 += kSumChunk) {
        vfloat part = simd::splat(0.0f);
        for (int64_t j = j0; j < std::min(nk, j0 + kSumChunk); ++j) {
          const vfloat s = simd::load(St + j * BQ + n * kLanes);
          const vfloat p = simd::exp2_nonpositive((s - m_safe[n]) * pb.scale_log2);
          simd::store(St + j * BQ + n * kLanes, p);
          part += p;
        }
        sum += part;
      }
      l[n] = l[n] * corr[n] + sum;
    }
    accumulate<NV>(St, v + kb * pb.vs[2], pb.vs[2], nk, D, corr, Ot);
  }

  // out = Ot^T / l (a vector division per head dim, then the transpose); queries with nothing
  // to attend to (l == 0) get zeros.
  for (int n = 0; n < NV; ++n) {
    const vfloat total = l[n];
    const vfloat zero = simd::splat(0.0f);
    for (int64_t d = 0; d < D; ++d) {
      const vfloat o = simd::load(Ot + d * BQ + n * kLanes);
      simd::store(Ot + d * BQ + n * kLanes, total > zero ? o / total : zero);
    }
  }
  float* out = pb.out + b * pb.os[0] + h * pb.os[1];
  for (int64_t i = 0; i < nq; ++i) {
    float* row = out + (q0 + i) * pb.os[2];
    for (int64_t d = 0; d < D; ++d) row[d] = Ot[d * BQ + i];
  }
}

}  // namespace

void attention_cpu(const AttentionArgs& args) {
  Problem pb{};
  pb.q = args.q.ptr<float>();
  pb.k = args.k.ptr<float>();
  pb.v = args.v.ptr<float>();
  pb.out = args.out.ptr<float>();
  pb.key_mask = args.key_mask ? args.key_mask->ptr<uint8_t>() : nullptr;
  pb.B = args.q.size(0);
  pb.H = args.q.size(1);
  pb.Tq = args.q.size(2);
  pb.D = args.q.size(3);
  pb.Tk = args.k.size(2);
  pb.window = args.window;
  for (int i = 0; i < 3; ++i) {
    pb.qs[i] = args.q.stride(i);
    pb.ks[i] = args.k.stride(i);
    pb.vs[i] = args.v.stride(i);
    pb.os[i] = args.out.stride(i);
  }
  pb.scale_log2 = static_cast<float>(args.scale) * kLog2e;
  if (pb.B * pb.H * pb.Tq == 0) return;

  // Full blocks of 2 vectors of queries; a tail that fits one vector runs the narrow variant.
  constexpr int64_t kWide = 2 * kLanes;
  const int64_t blocks_per_head = (pb.Tq + kWide - 1) / kWide;
  const int64_t tasks = pb.B * pb.H * blocks_per_head;
  const double work = static_cast<double>(pb.B * pb.H) * pb.Tq * pb.Tk * pb.D;
  const int threads = work > 2e5 ? max_threads() : 1;
  parallel_for(tasks, threads, [&](int64_t task) {
    thread_local std::vector<float> scratch;  // Qt, Ot and St of the running task
    const int64_t bh = task / blocks_per_head;
    const int64_t q0 = (task % blocks_per_head) * kWide;
    const int64_t nq = std::min(kWide, pb.Tq - q0);
    if (nq > kLanes)
      attend_block<2>(pb, bh / pb.H, bh % pb.H, q0, nq, scratch);
    else
      attend_block<1>(pb, bh / pb.H, bh % pb.H, q0, nq, scratch);
  });
}

}  // namespace tbd
