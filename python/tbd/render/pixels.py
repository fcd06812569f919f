"""Pixel helpers the renderer's painting shares: sampling, polygons, bands and curves along contours, blending."""

from __future__ import annotations

import numpy as np


LUMA = np.array([0.299, 0.587, 0.114])


def sample(image: np.ndarray, points: np.ndarray, radius: int = 1) -> np.ndarray:
    """Pixels [K * (2r+1)^2, 3] around points [K, 2] (clamped to the image)."""
    h, w = image.shape[:2]
    offsets = np.arange(-radius, radius + 1)
    xs = np.clip(np.rint(points[:, 0])[:, None, None] + offsets[None, None, :], 0, w - 1).astype(int)
    ys = np.clip(np.rint(points[:, 1])[:, None, None] + offsets[None, :, None], 0, h - 1).astype(int)
    return image[ys, xs].reshape(-1, 3).astype(np.float64)


def inside(px: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    a, b = polygon, np.roll(polygon, -1, axis=0)
    y = px[:, 1:2]
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (crosses & (px[:, 0:1] < x_at)).sum(axis=1) % 2 == 1


def signed_distance(px: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance of points [P, 2] to a closed polygon [K, 2]: positive inside, negative outside."""
    a = polygon
    ab = np.roll(polygon, -1, axis=0) - a
    ap = px[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    dist = np.sqrt(((ap - t[..., None] * ab[None]) ** 2).sum(-1)).min(axis=1)
    return np.where(inside(px, polygon), dist, -dist)


def pixel_box(frame: np.ndarray, polygon: np.ndarray, margin: int = 1):
    """(box slices, pixel centres [P, 2]) of the frame pixels around a polygon, ``margin`` px beyond it, or None when
    it lies outside."""
    h, w = frame.shape[:2]
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + margin
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x1 <= x0 or y1 <= y0:
        return None
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
    return (slice(y0, y1 + 1), slice(x0, x1 + 1)), np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)


def _envelope(x: np.ndarray, contour: np.ndarray, lowest: bool) -> np.ndarray:
    """Height of ``contour`` [K, 2] at each x [P]: where it folds back over itself (the far half of a turned
    face's lips, seen edge-on) the lowest of its crossings (``lowest``) or the highest, so that a band between
    two contours is the part visible between both; plain interpolation there zigzags between the folds."""
    order = np.argsort(contour[:, 0])
    plain = np.interp(x, contour[order, 0], contour[order, 1])
    steps = np.diff(contour[:, 0])
    if np.all(steps > 0) or np.all(steps < 0):  # no fold
        return plain
    a, b = contour[:-1].astype(np.float64), contour[1:].astype(np.float64)
    lo, hi = np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0])
    t = np.clip((x[:, None] - a[None, :, 0]) / np.where(hi > lo, b[:, 0] - a[:, 0], 1.0)[None], 0.0, 1.0)
    y = a[None, :, 1] + t * (b - a)[None, :, 1]  # [P, K - 1]: each segment's height at each x
    covered = (x[:, None] >= lo[None]) & (x[:, None] <= hi[None])
    y = np.where(covered, y, -np.inf if lowest else np.inf)
    y = y.max(axis=1) if lowest else y.min(axis=1)
    return np.where(np.isfinite(y), y, plain)


def between(px: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel: the top and bottom contour heights at its x, and its place across (-1..1)."""
    y_top = _envelope(px[:, 0], top, lowest=True)
    y_bottom = _envelope(px[:, 0], bottom, lowest=False)
    left, right = float(top[0, 0]), float(top[-1, 0])
    across = (px[:, 0] - (left + right) / 2) / max(abs(right - left) / 2, 1.0)
    return y_top, y_bottom, across


def band_alpha(px: np.ndarray, top: np.ndarray, bottom: np.ndarray, left: float, right: float,
               ramp: float = 1.0) -> np.ndarray:
    """Antialiased coverage of the region between two curves (heights ``top``/``bottom`` at each pixel's x), each
    edge rising over ``ramp`` px centred on it (1: a pixel's antialiasing; wider: a softer edge)."""
    alpha = unit((px[:, 1] - top) / ramp + 0.5) * unit((bottom - px[:, 1]) / ramp + 0.5)
    return alpha * unit((px[:, 0] - left) / ramp + 0.5) * unit((right - px[:, 0]) / ramp + 0.5)


def blend(frame: np.ndarray, box, colour: np.ndarray, alpha: np.ndarray) -> None:
    region = frame[box].reshape(-1, 3).astype(np.float32)
    out = region + alpha[:, None].astype(np.float32) * (colour.astype(np.float32) - region)
    frame[box] = np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(frame[box].shape)


def blend_at(frame: np.ndarray, px: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``colour`` [N, 3] over the pixels at integer positions ``px`` [N, 2] with ``alpha`` [N]."""
    xs, ys = px[:, 0].astype(np.int64), px[:, 1].astype(np.int64)
    region = frame[ys, xs].astype(np.float32)
    out = region + alpha[:, None].astype(np.float32) * (colour.astype(np.float32) - region)
    frame[ys, xs] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


def unit(x: np.ndarray) -> np.ndarray:
    """x clipped to 0..1 (cheaper than np.clip on small arrays)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def smooth(x: np.ndarray) -> np.ndarray:
    x = unit(x)
    return x * x * (3.0 - 2.0 * x)


def band(frame: np.ndarray, top: np.ndarray, bottom: np.ndarray, ramp: float = 1.0):
    """The pixels between two contours [K, 2] that share their end points (a mouth opening, a lid band).

    Returns (box slices, pixel centres [P, 2], top and bottom contour heights at each pixel's x [P],
    place across the band -1..1 [P], antialiased coverage [P]; its edges rise over ``ramp`` px, `band_alpha`), or
    None when the band lies outside the frame.
    """
    polygon = np.concatenate([top, bottom[-2:0:-1]]).astype(np.float64)
    found = pixel_box(frame, polygon, int(np.ceil((ramp - 1.0) / 2.0)) + 1)
    if found is None:
        return None
    box, px = found
    y_top, y_bottom, across = between(px, top, bottom)
    alpha = band_alpha(px, y_top, y_bottom, float(polygon[:, 0].min()), float(polygon[:, 0].max()), ramp)
    return box, px, y_top, y_bottom, across, alpha


def through(points: np.ndarray, per_segment: int = 4) -> np.ndarray:
    """A smooth curve [(K - 1) * per_segment + 1, 2] through the points [K, 2] of a contour, ends kept
    (centripetal Catmull-Rom: no loops or overshoot where the points bunch up, as at the corners of a mouth). A
    region painted between straight segments shows its corners at large sizes."""
    points = np.asarray(points, np.float64)
    if len(points) < 3 or per_segment < 2:
        return points
    padded = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    knots = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(padded, axis=0), axis=1) ** 0.5 + 1e-6)])
    # Every segment at once (Barry-Goldman): segment i runs from points[i] to points[i + 1], [S, n, 2].
    t0, t1, t2, t3 = (knots[k:k + len(points) - 1, None, None] for k in range(4))
    p0, p1, p2, p3 = (padded[k:k + len(points) - 1, None, :] for k in range(4))
    t = t1 + (t2 - t1) * np.linspace(0.0, 1.0, per_segment + 1)[None, 1:, None]
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    curve = ((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)
    return np.concatenate([points[:1], curve.reshape(-1, 2)])
