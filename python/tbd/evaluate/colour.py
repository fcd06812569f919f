"""Colour drift: do the rendered frames keep the portrait's colours? (A grey portrait must stay grey.)

Chroma is max(R, G, B) - min(R, G, B) per pixel (0 for grey, up to 255). Statistics are taken
inside the face's landmark box of each image (the portrait's and each frame's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColourConfig:
    grey_source: float = 2.0      # a portrait whose chroma never exceeds this is grey
    grey_tolerance: float = 6.0   # acceptance for a grey portrait: rendered max chroma at most this
    box_margin: float = 0.0       # grow the face box by this fraction of its size


@dataclass
class ColourResult:
    source_mean_chroma: float     # in the portrait's face box
    render_mean_chroma: float     # in the frames' face boxes, mean over frames
    mean_rgb_shift: float         # |mean RGB of frame face - mean RGB of portrait face|, mean over frames
    source_is_grey: bool
    render_max_chroma: float      # over every pixel of every frame
    grey_ok: bool | None          # for a grey portrait: did it stay grey?


def chroma(image: np.ndarray) -> np.ndarray:
    """Per-pixel chroma [H, W] (float32, 0..255) of an RGB uint8 image (or a stack of them)."""
    x = image.astype(np.int16)
    return (x.max(axis=-1) - x.min(axis=-1)).astype(np.float32)


def _crop(image: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in box)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    h, w = image.shape[:2]
    xa, xb = int(max(0, np.floor(x0 - mx))), int(min(w, np.ceil(x1 + mx)))
    ya, yb = int(max(0, np.floor(y0 - my))), int(min(h, np.ceil(y1 + my)))
    return image[ya:yb, xa:xb] if xb > xa and yb > ya else image


def colour_drift(portrait: np.ndarray, portrait_box: np.ndarray, frames: np.ndarray, frame_boxes: np.ndarray,
                 config: ColourConfig = ColourConfig()) -> ColourResult:
    """Colour statistics of the face in the frames against the portrait's (boxes: x0, y0, x1, y1)."""
    src = _crop(portrait, portrait_box, config.box_margin)
    src_rgb = src.reshape(-1, 3).mean(axis=0)
    fallback = portrait_box * np.array([frames.shape[2] / portrait.shape[1], frames.shape[1] / portrait.shape[0]] * 2)
    means, shifts = [], []
    for frame, box in zip(frames, frame_boxes):
        face = _crop(frame, box if np.isfinite(box).all() else fallback, config.box_margin)
        means.append(float(chroma(face).mean()))
        shifts.append(float(np.linalg.norm(face.reshape(-1, 3).mean(axis=0) - src_rgb)))
    is_grey = bool(chroma(portrait).max() <= config.grey_source)
    render_max = float(max(chroma(f).max() for f in frames))
    return ColourResult(
        source_mean_chroma=round(float(chroma(src).mean()), 4),
        render_mean_chroma=round(float(np.mean(means)), 4),
        mean_rgb_shift=round(float(np.mean(shifts)), 4),
        source_is_grey=is_grey,
        render_max_chroma=round(render_max, 4),
        grey_ok=(render_max <= config.grey_tolerance) if is_grey else None,
    )
