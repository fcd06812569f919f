"""Portrait input: read a path, PIL image or array into RGB uint8, optionally resized."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import ImageError, NoFaceError


def load_image(src: Any, *, size: int | None = None) -> tuple[np.ndarray, str]:
    """RGB uint8 ``[H, W, 3]`` and a name for messages. ``size`` resizes so the longer side
    is ``size`` pixels (aspect kept)."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        if not os.path.isfile(name):
            raise ImageError(f"{name}: no such image file")
        try:
            with Image.open(name) as im:
                pil = im.convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise ImageError(f"{name}: not a readable image ({exc}); use PNG or JPEG") from exc
    elif isinstance(src, Image.Image):
        name, pil = "PIL image", src.convert("RGB")
    elif isinstance(src, np.ndarray):
        name, pil = "array", Image.fromarray(_as_rgb_uint8(src))
    else:
        raise TypeError(f"image must be a path, a PIL image or a numpy array, got {type(src).__name__}")
    if size is not None:
        if size < 64:
            raise ValueError(f"size must be at least 64 pixels, got {size}")
        scale = size / max(pil.size)
        pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), Image.LANCZOS)
    if min(pil.size) < 32:
        raise NoFaceError(f"{name}: the image is only {pil.width}x{pil.height} pixels; give a portrait of at least 64 px")
    return np.asarray(pil, dtype=np.uint8).copy(), name


def _as_rgb_uint8(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"image array must be [H, W], [H, W, 3] or [H, W, 4], got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "f":
        if array.size and (array.min() < 0 or array.max() > 1):
            raise ValueError("float image arrays must hold values in 0..1")
        return (array * 255 + 0.5).astype(np.uint8)
    raise ValueError(f"image array must be uint8 or float in 0..1, got dtype {array.dtype}")
