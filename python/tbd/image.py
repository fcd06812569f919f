"""Portrait input: read a path, PIL image or array into RGB uint8, optionally resized.

Files are checked before their pixels are decoded: a header claiming more than
``MAX_IMAGE_PIXELS`` pixels is refused (like Pillow's decompression-bomb check and FFmpeg's
per-frame pixel limit), EXIF orientation is applied, 16-bit and float images are scaled to
8 bits, and any decoder failure becomes an ``ImageError`` saying what to do.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from .errors import ImageError, NoFaceError, OptionError

MAX_IMAGE_PIXELS = 120_000_000
"""Largest image (width x height) read: a 108-megapixel phone photo fits, decompression bombs do not."""
MIN_SIZE = 64
MAX_SIZE = 4096
"""Bounds of ``size`` (the longer side after resizing, pixels)."""


def check_size(size: Any) -> int | None:
    """``size`` as an int in MIN_SIZE..MAX_SIZE (or None); OptionError (a ValueError) otherwise."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise OptionError(f"size must be a whole number of pixels between {MIN_SIZE} and {MAX_SIZE}, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise OptionError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    return int(size)


MIN_SIDE = 32
"""The shortest image side (pixels) in which a face can still be found."""


def load_image(src: Any, *, size: int | None = None) -> tuple[np.ndarray, str]:
    """RGB uint8 ``[H, W, 3]`` and a name for messages. ``size`` resizes so the longer side
    is ``size`` pixels (aspect kept)."""
    from PIL import Image

    size = check_size(size)
    if isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        pil = _read_file(name, size)
    elif isinstance(src, Image.Image):
        name = "PIL image"
        _check_pixels(name, src.width, src.height)
        pil = _to_rgb(src)
    elif isinstance(src, np.ndarray):
        name, pil = "array", Image.fromarray(_as_rgb_uint8(src))
    else:
        raise ImageError(f"image must be a path, a PIL image or a numpy array, got {type(src).__name__}")
    if min(pil.size) < MIN_SIDE:
        raise NoFaceError(f"{name}: the image is only {pil.width}x{pil.height} pixels; give a portrait of at least 64 px")
    if size is not None:
        scale = size / max(pil.size)
        original = pil.size
        pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), Image.LANCZOS)
        if min(pil.size) < MIN_SIDE:
            raise NoFaceError(f"{name}: the image is {original[0]}x{original[1]} pixels, so at size {size} its shorter "
                              f"side would be {min(pil.size)} px; crop it to the face or choose a larger size")
    return np.asarray(pil, dtype=np.uint8).copy(), name


def image_size(path: str) -> tuple[int, int] | None:
    """(height, width) from the file's header, oriented as EXIF says; None when unreadable."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if _exif_orientation(im) in (5, 6, 7, 8):
                    w, h = h, w
                return (h, w)
    except Exception:  # unreadable: load_image raises the proper error
        return None


def _read_file(name: str, size: int | None):
    from PIL import Image, ImageOps

    if os.path.isdir(name):
        raise ImageError(f"{name}: is a folder, not an image file; give the path of a PNG or JPEG portrait")
    if not os.path.isfile(name):
        if os.path.exists(name):
            raise ImageError(f"{name}: not a regular file (a device, pipe or socket); give a PNG or JPEG portrait")
        raise ImageError(f"{name}: no such image file")
    if os.path.getsize(name) == 0:
        raise ImageError(f"{name}: the file is empty (0 bytes); give a PNG or JPEG portrait")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below, by our limit
            with Image.open(name) as im:
                _check_pixels(name, im.width, im.height)
                frames = getattr(im, "n_frames", 1)
                if frames > 1:
                    warnings.warn(f"{name} is animated ({frames} frames): its first frame is used as the portrait; "
                                  "give a still image (PNG or JPEG) to choose the frame", stacklevel=4)
                if size is not None and im.format == "JPEG":
                    im.draft("RGB", (size, size))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
                im.load()
                oriented = ImageOps.exif_transpose(im)
                return _to_rgb(oriented)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: the image claims too many pixels ({exc}): a corrupt file or a decompression "
                         "bomb; reduce the portrait to a few megapixels first") from exc
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageError(f"{name}: not enough memory to decode the image; reduce it first") from exc
    except Exception as exc:  # Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError, ... on bad files
        raise ImageError(f"{name}: not a readable image ({type(exc).__name__}: {exc}); use PNG or JPEG") from exc


def _check_pixels(name: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: the image has no pixels ({width}x{height})")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"{name}: the image claims {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), more than "
            f"the {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels tbd reads (a corrupt file or a decompression bomb); "
            "reduce the portrait to a few megapixels first")


def _exif_orientation(im) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:
        return 1


def _to_rgb(im):
    """RGB 8-bit PIL image; 16-bit and 32-bit integer and float modes are scaled, not clipped."""
    from PIL import Image

    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(im).astype(np.float64)
        if mode.startswith("I;16"):
            scaled = values / 257.0
        elif mode == "I":
            top = values.max() if values.size else 0
            scaled = values / 257.0 if top > 255 else values  # 16-bit content in a 32-bit mode
        else:
            finite = values[np.isfinite(values)]
            top = finite.max() if finite.size else 0
            scaled = np.nan_to_num(values) * (255.0 if top <= 1.0 else 1.0)
        gray = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    return im.convert("RGB")


def _as_rgb_uint8(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageError(f"image array must be [H, W], [H, W, 3] or [H, W, 4], got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if array.dtype.kind == "f":
        if array.size and not np.isfinite(array).all():
            raise ImageError("float image arrays must hold finite values in 0..1")
        if array.size and (array.min() < 0 or array.max() > 1):
            raise ImageError("float image arrays must hold values in 0..1 (divide 0..255 values by 255)")
        return (array * 255 + 0.5).astype(np.uint8)
    raise ImageError(f"image array must be uint8, uint16 or float in 0..1, got dtype {array.dtype}")
