"""The inside of the mouth where the lips part: a dark cavity, upper and lower teeth, a tongue.

Drawn per frame into a small box around the inner-lip contour with antialiased edges (signed
distance to the contour), in colours scaled to the portrait's lighting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAVITY = np.array([52.0, 20.0, 24.0])
TONGUE = np.array([150.0, 68.0, 72.0])
TEETH = np.array([228.0, 222.0, 208.0])


@dataclass(frozen=True)
class MouthStyle:
    """Colours (RGB 0..255, already lit) and teeth sizes (px) for one face."""

    cavity: np.ndarray
    tongue: np.ndarray
    teeth: np.ndarray
    upper_teeth: float
    lower_teeth: float


def mouth_style(image: np.ndarray, face_points: np.ndarray, interocular: float) -> MouthStyle:
    """Colours lit like the face (its median brightness) and teeth sized to it."""
    h, w = image.shape[:2]
    x0, y0 = np.clip(np.floor(face_points.min(axis=0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(face_points.max(axis=0)).astype(int), 0, [w - 1, h - 1])
    skin = image[y0:y1 + 1, x0:x1 + 1].reshape(-1, 3).astype(np.float64)
    light = float(np.clip(np.median(skin.mean(axis=1)) / 150.0, 0.55, 1.25)) if skin.size else 1.0
    return MouthStyle(CAVITY * light, TONGUE * light, np.minimum(TEETH * light, 245.0),
                      upper_teeth=0.11 * interocular, lower_teeth=0.06 * interocular)


def _signed_distance(px: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance of points [P, 2] to a closed polygon [K, 2]: positive inside, negative outside."""
    a = polygon
    b = np.roll(polygon, -1, axis=0)
    ab = b - a
    ap = px[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    dist = np.sqrt(((px[:, None, :] - nearest) ** 2).sum(-1)).min(axis=1)
    y = px[:, 1:2]
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (y - a[:, 1]) * ab[:, 0] / ab[:, 1]
    inside = (crosses & (px[:, 0:1] < x_at)).sum(axis=1) % 2 == 1
    return np.where(inside, dist, -dist)


def draw_mouth(frame: np.ndarray, upper: np.ndarray, lower: np.ndarray, style: MouthStyle, opacity: float = 1.0) -> None:
    """Paint the mouth interior into ``frame`` (uint8 [H, W, 3], in place).

    ``upper``/``lower`` [K, 2] are the inner-lip contours (px) from corner to corner.
    """
    if opacity <= 0.0:
        return
    polygon = np.concatenate([upper, lower[-2:0:-1]]).astype(np.float64)
    h, w = frame.shape[:2]
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
    px = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    alpha = np.clip(_signed_distance(px, polygon) + 0.5, 0.0, 1.0)
    if not alpha.any():
        return

    # Where each pixel sits in the opening: across (-1..1 corner to corner) and down (0 upper lip .. 1 lower lip).
    order = np.argsort(upper[:, 0])
    top = np.interp(px[:, 0], upper[order, 0], upper[order, 1])
    order = np.argsort(lower[:, 0])
    bottom = np.interp(px[:, 0], lower[order, 0], lower[order, 1])
    gap = np.maximum(bottom - top, 1e-3)
    left, right = float(upper[0, 0]), float(upper[-1, 0])
    across = (px[:, 0] - (left + right) / 2) / max((right - left) / 2, 1.0)
    down = (px[:, 1] - top) / gap

    colour = style.cavity[None] * (0.75 + 0.25 * down[:, None])
    tongue = np.clip((down - 0.55) / 0.35, 0.0, 1.0) * np.clip(1.0 - across ** 2, 0.0, 1.0) * np.clip((gap - 6.0) / 10.0, 0.0, 1.0)
    colour = colour + tongue[:, None] * (style.tongue - colour)
    lateral = np.clip(1.0 - (np.abs(across) / 0.85) ** 2, 0.0, 1.0)
    for height, edge, shade in (
        (np.minimum(style.upper_teeth, 0.55 * gap), px[:, 1] - top, 1.0),
        (np.minimum(style.lower_teeth, 0.3 * gap) * np.clip((gap - 4.0) / 6.0, 0.0, 1.0), bottom - px[:, 1], 0.8),
    ):
        tooth = np.clip(height * lateral - edge + 0.5, 0.0, 1.0) * (height > 0.5)
        lit = style.teeth * shade * (0.55 + 0.45 * lateral)[:, None]
        colour = colour + tooth[:, None] * (lit - colour)

    region = frame[y0:y1 + 1, x0:x1 + 1].reshape(-1, 3).astype(np.float64)
    a = (alpha * opacity)[:, None]
    blended = region + a * (colour - region)
    frame[y0:y1 + 1, x0:x1 + 1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8).reshape(y1 - y0 + 1, x1 - x0 + 1, 3)
