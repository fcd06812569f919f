"""Development portraits from freely licensed photos that PyPI packages ship, with variations.

    python benchmarks/portraits.py [--out DIR]      # writes PNGs (default: ~/.cache/tbd/portraits)

Sources (none is copied into the repository; each is read from the installed package):
- ``skimage.data.astronaut()`` (scikit-image): NASA photo of astronaut Eileen Collins, public domain.
  Smiling, frontal. The bundled ``tbd/assets/portrait.png`` is a crop of it too; the crops here differ.
- ``matplotlib`` ``sample_data/grace_hopper.jpg``: US Navy photo of Rear Admiral Grace Hopper,
  public domain (work of the US federal government). Frontal, closed-mouth, near neutral.
- ``skimage.data.camera()`` (scikit-image): "cameraman" by Lav Varshney, CC0. Grey, the face turned
  about 60-70 degrees to the image right (between three-quarter and profile), looking into a camera
  that hides part of the cheek: the only real non-frontal face found in installed packages.
Variations: crops, mirror image, greyscale, small (128 px), rotation (12 degrees).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_SIZE = 256


@dataclass(frozen=True)
class Portrait:
    name: str
    image: np.ndarray  # RGB uint8 [H, W, 3]
    source: str
    licence: str
    note: str


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.LANCZOS))


def _square(image: np.ndarray, cx: int, cy: int, side: int, size: int) -> np.ndarray:
    """A ``side``-pixel square centred on (cx, cy), resized to ``size``."""
    x0, y0 = max(cx - side // 2, 0), max(cy - side // 2, 0)
    return _resize(np.ascontiguousarray(image[y0:y0 + side, x0:x0 + side]), size)


def _grey(image: np.ndarray) -> np.ndarray:
    y = (image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).round().astype(np.uint8)
    return np.repeat(y[:, :, None], 3, axis=2)


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).rotate(degrees, resample=Image.BICUBIC, fillcolor=tuple(
        int(v) for v in image[:8].reshape(-1, 3).mean(axis=0))))


def portraits(size: int = DEFAULT_SIZE) -> list[Portrait]:
    """The development set (the bundled portrait first), each about ``size`` pixels square."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    from tbd import assets

    astronaut = data.astronaut()
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as im:
        hopper = np.asarray(im.convert("RGB"))
    camera = np.repeat(data.camera()[:, :, None], 3, axis=2)
    with Image.open(assets.portrait_path()) as im:
        bundled = _resize(np.asarray(im.convert("RGB")), size)
    astro_src = "scikit-image skimage.data.astronaut() (NASA)"
    hopper_src = "matplotlib sample_data/grace_hopper.jpg (US Navy)"
    camera_src = "scikit-image skimage.data.camera() (Lav Varshney)"
    pd, cc0 = "public domain", "CC0"
    hopper_face = _square(hopper, 262, 236, 440, size)
    return [
        Portrait("bundled", bundled, "tbd/assets/portrait.png (crop of skimage astronaut)", pd, "smiling, frontal"),
        Portrait("astronaut", _square(astronaut, 228, 118, 170, size), astro_src, pd,
                 "smiling, frontal, tight head crop"),
        Portrait("astronaut_flip_128", _resize(np.ascontiguousarray(astronaut[:400, 30:430][:, ::-1]), 128),
                 astro_src, pd, "mirrored, wide crop, small (128 px)"),
        Portrait("hopper", hopper_face, hopper_src, pd, "near neutral, frontal"),
        Portrait("hopper_close", _square(hopper, 262, 250, 290, size), hopper_src, pd,
                 "near neutral, frontal, tight head crop (the face fills the frame, as in most selfies)"),
        Portrait("hopper_grey", _grey(hopper_face), hopper_src, pd, "greyscale"),
        Portrait("hopper_rot12", _square(_rotate(hopper, 12), 262, 236, 440, size), hopper_src, pd,
                 "rotated 12 degrees (in-plane roll)"),
        Portrait("cameraman", _square(camera, 222, 150, 180, size), camera_src, cc0,
                 "face turned ~60-70 degrees (non-frontal), grey, partly hidden by a camera"),
    ]


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tbd" / "portraits"


def write(out: Path, size: int = DEFAULT_SIZE) -> list[tuple[Portrait, Path]]:
    """Write every portrait as ``out/NAME.png`` (cached: an existing file is kept)."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for p in portraits(size):
        path = out / f"{p.name}.png"
        if not path.exists():
            Image.fromarray(p.image).save(path)
        written.append((p, path))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache())
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    args = parser.parse_args(argv)
    for p, path in write(args.out, args.size):
        print(f"{path}  {p.image.shape[1]}x{p.image.shape[0]}  {p.licence:13s}  {p.source}; {p.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
