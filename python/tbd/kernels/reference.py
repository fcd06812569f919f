"""Float64 numpy references of the fused kernels.

These define what the kernels compute: tests compare every backend against them, and
`tbd.kernels` falls back to them when the compiled extension (or a needed device path) is
missing. They favour clarity over speed: attention materialises the full score matrix and the
mesh warp rasterises one triangle at a time.
"""

from __future__ import annotations

import numpy as np

# Shared with csrc/include/tbd/kernels.h.
MESH_EDGE_EPS = 1e-6
MESH_MIN_AREA = 1e-9
PRED_TYPES = ("eps", "x0", "v")


def attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    window: int | None = None,
    scale: float | None = None,
) -> np.ndarray:
    """Scaled dot-product attention in float64; q [B,H,Tq,D], k/v [B,H,Tk,D] -> [B,H,Tq,D].

    `mask` [B, Tk] (True = attend) masks keys; `window` keeps keys with |i - j| <= window.
    A query with no key left to attend to gets zeros.
    """
    q64, k64, v64 = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    tq, tk, d = q64.shape[2], k64.shape[2], q64.shape[3]
    scale = 1.0 / np.sqrt(d) if scale is None else float(scale)
    scores = np.einsum("bhid,bhjd->bhij", q64, k64) * scale
    allowed = np.ones((q64.shape[0], 1, tq, tk), dtype=bool)
    if mask is not None:
        allowed &= np.asarray(mask, dtype=bool)[:, None, None, :]
    if window is not None:
        i, j = np.arange(tq)[:, None], np.arange(tk)[None, :]
        allowed &= (np.abs(i - j) <= window)[None, None]
    scores = np.where(allowed, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    weights = np.where(allowed, np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    return np.einsum("bhij,bhjd->bhid", weights, v64)


def guided_step(
    eps_u: np.ndarray,
    eps_g: np.ndarray,
    eps_gl: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray | float,
    *,
    w_g: float,
    w_l: float,
    alpha: float,
    sigma: float,
    a: float,
    b: float,
    c: float = 0.0,
    d: float = 0.0,
    x0_prev: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    pred_type: str = "eps",
    clamp: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Progressive-guidance combination and sampler update in float64; returns (x_next, x0)."""
    eu, eg, egl, x64 = (np.asarray(t, dtype=np.float64) for t in (eps_u, eps_g, eps_gl, x))
    m = np.asarray(mask, dtype=np.float64)
    p = eu + w_g * (eg - eu) + w_l * m * (egl - eg)
    if pred_type == "eps":
        x0 = (x64 - sigma * p) / alpha
    elif pred_type == "x0":
        x0 = p
    elif pred_type == "v":
        x0 = alpha * x64 - sigma * p
    else:
        raise ValueError(f"pred_type must be one of {PRED_TYPES}, got {pred_type!r}")
    if clamp is not None:
        x0 = np.clip(x0, -clamp, clamp)
    x_next = a * x64 + b * x0
    if x0_prev is not None:
        x_next = x_next + c * np.asarray(x0_prev, dtype=np.float64)
    if noise is not None:
        x_next = x_next + d * np.asarray(noise, dtype=np.float64)
    return x_next, x0


def _bilinear(image: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Sample image [H, W, C] at float coordinates, clamped to the border; returns [n, C]."""
    h, w = image.shape[:2]
    sx = np.clip(sx, 0.0, w - 1)
    sy = np.clip(sy, 0.0, h - 1)
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (sx - x0)[:, None]
    fy = (sy - y0)[:, None]
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def mesh_warp_coordinates(
    src_vertices: np.ndarray,
    dst_vertices: np.ndarray,
    triangles: np.ndarray,
    height: int,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Backward map of the mesh warp in float64: source (x, y) per output pixel, [F, H, W, 2].

    Pixel centres are at integer (x, y). A pixel inside destination triangle t (barycentric
    coordinates >= -1e-6) maps to its affine image in source triangle t. Later triangles overwrite
    earlier ones (highest index wins); destination triangles with |area| < 1e-9 cover nothing.
    Also returns `covered` [F, H, W] (bool); uncovered pixels map to themselves.
    """
    src = np.asarray(src_vertices, dtype=np.float64)
    dst = np.asarray(dst_vertices, dtype=np.float64)
    tri = np.asarray(triangles, dtype=np.int64)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    coords = np.repeat(np.stack([xs, ys], axis=-1)[None], dst.shape[0], axis=0)
    covered = np.zeros((dst.shape[0], height, width), dtype=bool)
    for f in range(dst.shape[0]):
        for t in tri:
            d = dst[f, t]  # [3, 2]
            area = (d[1, 0] - d[0, 0]) * (d[2, 1] - d[0, 1]) - (d[2, 0] - d[0, 0]) * (d[1, 1] - d[0, 1])
            if not np.isfinite(area) or abs(area) < MESH_MIN_AREA:
                continue
            x_lo = max(0, int(np.ceil(d[:, 0].min() - 1e-6)))
            x_hi = min(width - 1, int(np.floor(d[:, 0].max() + 1e-6)))
            y_lo = max(0, int(np.ceil(d[:, 1].min() - 1e-6)))
            y_hi = min(height - 1, int(np.floor(d[:, 1].max() + 1e-6)))
            if x_lo > x_hi or y_lo > y_hi:
                continue
            py, px = np.mgrid[y_lo : y_hi + 1, x_lo : x_hi + 1]
            px, py = px.ravel(), py.ravel()
            # Barycentric coordinates of each pixel centre in the destination triangle.
            corners = np.stack([d[:, 0], d[:, 1], np.ones(3)])  # [[x0 x1 x2], [y0 y1 y2], [1 1 1]]
            lam = np.linalg.solve(corners, np.stack([px, py, np.ones(px.shape)]).astype(np.float64))
            inside = np.all(lam >= -MESH_EDGE_EPS, axis=0)
            coords[f, py[inside], px[inside]] = (src[t].T @ lam[:, inside]).T
            covered[f, py[inside], px[inside]] = True
    return coords, covered


def mesh_warp(
    image: np.ndarray,
    src_vertices: np.ndarray,
    dst_vertices: np.ndarray,
    triangles: np.ndarray,
) -> np.ndarray:
    """Piecewise-affine backward warp in float64: image [H,W,C] -> [F,H,W,C] (float64, unrounded).

    Each pixel samples the image bilinearly (border clamped) at `mesh_warp_coordinates`; pixels
    no triangle covers keep the source pixel exactly.
    """
    img = np.asarray(image, dtype=np.float64)
    h, w, c = img.shape
    coords, covered = mesh_warp_coordinates(src_vertices, dst_vertices, triangles, h, w)
    frames = np.repeat(img[None], coords.shape[0], axis=0)
    sampled = _bilinear(img, coords[..., 0].ravel(), coords[..., 1].ravel()).reshape(frames.shape)
    frames[covered] = sampled[covered]
    return frames
