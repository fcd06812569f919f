"""Benchmarks of the fused kernels against baselines measured in the same run.

    python -m benchmarks.bench_kernels                 # CPU, all kernels
    python benchmarks/bench_kernels.py --device cuda   # CUDA (needs a GPU and a CUDA build)
    python -m benchmarks.bench_kernels --only attention --markdown

Each case alternates baseline and kernel call by call (so load from other processes hits both
alike) and reports the median time of each and the median of the per-round ratios
(baseline time / kernel time: above 1 means the kernel is faster).

Baselines:
  attention    torch.nn.functional.scaled_dot_product_attention (same mask as a boolean attn_mask)
  guided_step  the same formula in torch eager, and under torch.compile when it compiles here
  mesh_warp    the fastest backward warps built from the same mesh without tbd: the triangle-id
               raster (cv2.fillConvexPoly, last triangle wins), per-pixel affine maps gathered by
               id in numpy, then cv2.remap (bilinear, replicated border) per frame; or the same
               maps fed to torch grid_sample for all frames at once. Both rebuild the map every
               frame, as the renderer must (destination vertices change every frame).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script without an install: use the source tree
    try:
        import tbd  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tbd import kernels  # noqa: E402


@dataclasses.dataclass
class Result:
    kernel: str
    case: str
    baseline: str
    baseline_ms: float
    ours_ms: float
    ratio: float  # median over rounds of baseline time / our time
    best_ratio: float  # fastest baseline time / fastest tbd time (robust to bursts of load)
    per: str = "call"


@dataclasses.dataclass
class Timer:
    min_time: float
    min_rounds: int
    max_rounds: int
    sync: Callable[[], None]

    def compare(self, baseline: Callable[[], Any], ours: Callable[[], Any]) -> tuple[float, float, float, float]:
        """Median seconds of baseline and ours, the median per-round ratio and the ratio of minima."""
        for _ in range(2):
            baseline(), ours()
        self.sync()
        base_times, our_times, ratios = [], [], []
        started = time.perf_counter()
        rounds = 0
        while rounds < self.min_rounds or (time.perf_counter() - started < self.min_time and rounds < self.max_rounds):
            order = (baseline, ours) if rounds % 2 == 0 else (ours, baseline)
            spent = {}
            for fn in order:
                t0 = time.perf_counter()
                fn()
                self.sync()
                spent[fn] = time.perf_counter() - t0
            base_times.append(spent[baseline])
            our_times.append(spent[ours])
            ratios.append(spent[baseline] / spent[ours])
            rounds += 1
        return (statistics.median(base_times), statistics.median(our_times), statistics.median(ratios),
                min(base_times) / min(our_times))


# ---- attention -----------------------------------------------------------------------------------


def bench_attention(timer: Timer, device: str, quick: bool) -> list[Result]:
    gen = torch.Generator().manual_seed(0)
    # (label, B, H, Tq, Tk, D, masked): the generator's self-attention windows (batch 3: the three
    # guidance branches), its cross-attention to a few condition tokens, then larger problems.
    cases = [
        ("gen", 3, 4, 100, 100, 64, False),
        ("gen", 3, 4, 200, 200, 64, False),
        ("gen", 3, 8, 200, 200, 64, False),
        ("gen", 3, 4, 400, 400, 64, False),
        ("gen", 3, 8, 400, 400, 64, False),
        ("gen", 3, 8, 400, 400, 64, True),
        ("cross", 3, 8, 400, 12, 64, True),
        ("large", 1, 8, 1024, 1024, 64, False),
        ("large", 2, 8, 2048, 2048, 64, False),
        ("large", 1, 16, 1024, 1024, 128, False),
    ]
    dtypes = [torch.float32] if device == "cpu" else [torch.float32, torch.float16, torch.bfloat16]
    if quick:
        cases = cases[:2] + cases[-3:-2]
    results = []
    for dtype in dtypes:
        for label, b, h, tq, tk, d, masked in cases:
            q = torch.randn(b, h, tq, d, generator=gen).to(device=device, dtype=dtype)
            k = torch.randn(b, h, tk, d, generator=gen).to(device=device, dtype=dtype)
            v = torch.randn(b, h, tk, d, generator=gen).to(device=device, dtype=dtype)
            mask = None
            if masked:  # key padding: the last 10 % of each sequence's keys are padding
                mask = torch.ones(b, tk, dtype=torch.bool)
                mask[:, int(tk * 0.9) :] = False
                mask = mask.to(device)
            attn_mask = None if mask is None else mask[:, None, None, :]
            base, ours, ratio, best = timer.compare(
                lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask),
                lambda: kernels.attention(q, k, v, mask=mask),
            )
            name = f"{label} B{b} H{h} Tq{tq} Tk{tk} D{d}" + (" masked" if masked else "")
            if device == "cuda":
                name += f" {str(dtype).removeprefix('torch.')}"
            results.append(Result("attention", name, "torch SDPA", base * 1e3, ours * 1e3, ratio, best))
    return results


# ---- guided_step ---------------------------------------------------------------------------------


def guided_eager(eu, eg, egl, x, mask, prev, noise, w_g, w_l, alpha, sigma, a, b, c, d, clamp):
    """The step as plain torch ops (what a sampler would write without the fused kernel)."""
    p = eu + w_g * (eg - eu) + w_l * mask * (egl - eg)
    x0 = ((x - sigma * p) / alpha).clamp(-clamp, clamp)
    return a * x + b * x0 + c * prev + d * noise, x0


def bench_guided_step(timer: Timer, device: str, quick: bool, compile_baseline: bool) -> list[Result]:
    gen = torch.Generator().manual_seed(1)
    channels = 29  # len(tbd.motion.channels)
    # x [B, T, C]: the generator's window (3 guidance branches share x; batch 1 and a batch of 3
    # windows), then long clips and wide feature maps.
    shapes = [(1, 100, channels), (3, 100, channels), (3, 400, channels), (16, 1024, channels), (8, 4096, 256)]
    if quick:
        shapes = shapes[1:2] + shapes[-1:]
    scalars = dict(w_g=3.0, w_l=2.0, alpha=0.8, sigma=0.6, a=0.31, b=0.69, c=0.12, d=0.05)
    results = []
    for shape in shapes:
        eu, eg, egl, x, prev, noise = (torch.randn(shape, generator=gen).to(device) for _ in range(6))
        mask = (torch.rand(shape[-1], generator=gen) > 0.5).float().to(device)
        args = (eu, eg, egl, x, mask, prev, noise, *scalars.values(), 2.5)

        def ours() -> Any:
            return kernels.guided_step(eu, eg, egl, x, mask, **scalars, x0_prev=prev, noise=noise, clamp=2.5)

        name = "x " + "x".join(map(str, shape))
        base, mine, ratio, best = timer.compare(lambda: guided_eager(*args), ours)
        results.append(Result("guided_step", name, "torch eager", base * 1e3, mine * 1e3, ratio, best))
        if compile_baseline:
            try:
                compiled = torch.compile(guided_eager, dynamic=False)
                compiled(*args)
            except Exception as error:  # inductor needs a working C++ toolchain
                print(f"torch.compile baseline unavailable: {type(error).__name__}: {error}", file=sys.stderr)
                compile_baseline = False
                continue
            base, mine, ratio, best = timer.compare(lambda: compiled(*args), ours)
            results.append(Result("guided_step", name, "torch.compile", base * 1e3, mine * 1e3, ratio, best))
    return results


# ---- mesh_warp -----------------------------------------------------------------------------------


def face_mesh(size: int, frames: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A renderer-like mesh: ~480 jittered interior points plus a fixed border ring, Delaunay
    triangles, and per-frame smooth displacements of the interior (border pinned)."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    side = np.linspace(0, size - 1, 12)
    border = np.concatenate(
        [np.stack([side, np.zeros_like(side)], 1), np.stack([side, np.full_like(side, size - 1)], 1),
         np.stack([np.zeros_like(side[1:-1]), side[1:-1]], 1), np.stack([np.full_like(side[1:-1], size - 1), side[1:-1]], 1)]
    )
    g = np.linspace(size * 0.15, size * 0.85, 22)
    gx, gy = np.meshgrid(g, g)
    interior = np.stack([gx.ravel(), gy.ravel()], 1) + rng.uniform(-3, 3, (g.size**2, 2))
    src = np.concatenate([border, interior]).astype(np.float32)
    tri = Delaunay(src).simplices.astype(np.int32)
    t = np.linspace(0, 1, frames)[:, None]
    phase = rng.uniform(0, 2 * np.pi, 2)
    shift = np.stack(
        [6 * np.sin(2 * np.pi * (interior[:, 1] / size + t) + phase[0]),
         6 * np.cos(2 * np.pi * (interior[:, 0] / size + t) + phase[1])], -1
    )
    dst = np.repeat(src[None], frames, axis=0)
    dst[:, len(border) :] += shift.astype(np.float32)
    return src, dst, tri


class RemapWarp:
    """Backward piecewise-affine warp from OpenCV parts: triangle-id raster + affine maps + remap."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self.xs, self.ys = xs, ys

    def maps(self, src: np.ndarray, dst: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        ids = np.full((self.height, self.width), -1, np.int32)
        fixed = np.round(dst * 16).astype(np.int32)  # 4 fractional bits for fillConvexPoly
        for t, corners in enumerate(tri):
            cv2.fillConvexPoly(ids, fixed[corners], int(t), lineType=cv2.LINE_8, shift=4)
        # Affine map of every triangle, dst -> src, as 2x3 rows; row N is the identity (uncovered).
        d = np.concatenate([dst[tri], np.ones((len(tri), 3, 1), np.float32)], axis=2)  # [N, 3, 3]
        s = src[tri]  # [N, 3, 2]
        affine = np.linalg.solve(d.astype(np.float64), s.astype(np.float64)).transpose(0, 2, 1)  # [N, 2, 3]
        table = np.concatenate([affine, [[[1, 0, 0], [0, 1, 0]]]]).astype(np.float32).reshape(-1, 6)
        coef = table[ids]  # id -1 picks the identity row
        map_x = coef[..., 0] * self.xs + coef[..., 1] * self.ys + coef[..., 2]
        map_y = coef[..., 3] * self.xs + coef[..., 4] * self.ys + coef[..., 5]
        return map_x, map_y

    def remap(self, image: np.ndarray, src: np.ndarray, dst: np.ndarray, tri: np.ndarray) -> np.ndarray:
        import cv2

        frames = np.empty((dst.shape[0], *image.shape), image.dtype)
        for f in range(dst.shape[0]):
            map_x, map_y = self.maps(src, dst[f], tri)
            frames[f] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return frames

    def grid_sample(self, image: torch.Tensor, src: np.ndarray, dst: np.ndarray, tri: np.ndarray) -> torch.Tensor:
        grids = []
        for f in range(dst.shape[0]):
            map_x, map_y = self.maps(src, dst[f], tri)
            grids.append(np.stack([map_x / (self.width - 1) * 2 - 1, map_y / (self.height - 1) * 2 - 1], -1))
        grid = torch.from_numpy(np.stack(grids)).to(image.device)
        batch = image.permute(2, 0, 1)[None].float().expand(len(grids), -1, -1, -1)
        out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=True)
        return out.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def bench_mesh_warp(timer: Timer, device: str, quick: bool) -> list[Result]:
    from skimage import data

    size = 512
    image = np.ascontiguousarray(data.astronaut()[:size, :size])  # 512 x 512 RGB uint8
    results = []
    for frames in [1, 8] if quick else [1, 8, 25]:
        src, dst, tri = face_mesh(size, frames, seed=frames)
        warp = RemapWarp(size, size)
        if device == "cpu":
            ours_fn = lambda: kernels.mesh_warp(image, src, dst, tri)  # noqa: E731
            remap_fn = lambda: warp.remap(image, src, dst, tri)  # noqa: E731
            # Sanity: same mesh, same picture (edge pixels may differ by the raster rule).
            diff = np.abs(ours_fn().astype(np.int16) - remap_fn().astype(np.int16))
            assert np.mean(diff > 2) < 0.01, f"remap baseline disagrees on {np.mean(diff > 2):.2%} of pixels"
            base, ours, ratio, best = timer.compare(remap_fn, ours_fn)
            results.append(Result("mesh_warp", f"512x512x3 uint8, {len(tri)} triangles, F={frames}",
                                  "cv2 remap", base * 1e3 / frames, ours * 1e3 / frames, ratio, best, "frame"))
        image_t = torch.from_numpy(image).to(device)
        src_t, dst_t, tri_t = (torch.from_numpy(a).to(device) for a in (src, dst, tri))
        base, ours, ratio, best = timer.compare(
            lambda: warp.grid_sample(image_t, src, dst, tri), lambda: kernels.mesh_warp(image_t, src_t, dst_t, tri_t)
        )
        results.append(Result("mesh_warp", f"512x512x3 uint8, {len(tri)} triangles, F={frames}",
                              "torch grid_sample", base * 1e3 / frames, ours * 1e3 / frames, ratio, best, "frame"))
    return results


# ---- report --------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    info = kernels.backend_info()
    return (
        f"{os.cpu_count()} CPU cores ({model}, {platform.machine()}), load average {load:.1f}; "
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"tbd._C native={info['native']} openmp={info['openmp']} cuda={info['cuda']}"
    )


def summary(results: list[Result]) -> list[str]:
    lines = []
    for kernel in dict.fromkeys(r.kernel for r in results):
        for baseline in dict.fromkeys(r.baseline for r in results if r.kernel == kernel):
            rows = [r for r in results if r.kernel == kernel and r.baseline == baseline]
            gen_rows = [r for r in rows if r.case.startswith("gen ")]
            text = f"{kernel} vs {baseline}: median ratio {statistics.median(r.ratio for r in rows):.2f} over {len(rows)} cases"
            if gen_rows:
                text += f" (generator shapes: {statistics.median(r.ratio for r in gen_rows):.2f}, min {min(r.ratio for r in gen_rows):.2f})"
            lines.append(text)
    return lines


def print_table(results: list[Result], markdown: bool) -> None:
    if markdown:
        print("| kernel | case | baseline | baseline ms (median) | tbd ms (median) | ratio (median of baseline / tbd) | ratio of fastest runs |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r.kernel} | {r.case} | {r.baseline} | {r.baseline_ms:.3f} / {r.per} | {r.ours_ms:.3f} / {r.per} "
                  f"| {r.ratio:.2f} | {r.best_ratio:.2f} |")
    else:
        print(f"{'kernel':<12} {'case':<46} {'baseline':<18} {'base ms':>10} {'tbd ms':>10} {'ratio':>7} {'best':>6}")
        for r in results:
            print(f"{r.kernel:<12} {r.case:<46} {r.baseline:<18} {r.baseline_ms:>10.3f} {r.ours_ms:>10.3f} "
                  f"{r.ratio:>7.2f} {r.best_ratio:>6.2f}")
    print()
    for line in summary(results):
        print(("- " if markdown else "") + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--only", choices=["attention", "guided_step", "mesh_warp"], action="append")
    parser.add_argument("--quick", action="store_true", help="fewer cases and rounds (smoke test)")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per case (at least --min-rounds)")
    parser.add_argument("--min-rounds", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)

    if not kernels.backend_info()["native"]:
        print(f"tbd._C is not built ({kernels.backend_info()['error']}): nothing to benchmark", file=sys.stderr)
        return 1
    if args.device == "cuda" and not (torch.cuda.is_available() and kernels.backend_info()["cuda"]):
        print("--device cuda needs a CUDA device and a CUDA build of tbd._C", file=sys.stderr)
        return 1
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    timer = Timer(0.2 if args.quick else args.min_time, 5 if args.quick else args.min_rounds, 1000, sync)
    only = set(args.only or ["attention", "guided_step", "mesh_warp"])
    print(f"# machine: {machine()}")
    print(f"# device: {args.device}; date: {time.strftime('%Y-%m-%d')}\n")
    results: list[Result] = []
    with torch.inference_mode(False), torch.no_grad():
        if "attention" in only:
            results += bench_attention(timer, args.device, args.quick)
        if "guided_step" in only:
            results += bench_guided_step(timer, args.device, args.quick, not args.no_compile)
        if "mesh_warp" in only:
            results += bench_mesh_warp(timer, args.device, args.quick)
    print_table(results, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
