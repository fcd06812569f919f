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
- The ``face_recognition`` 1.3.0 source distribution on PyPI (MIT) ships four White House photographs in
  ``tests/test_images`` (works of the US federal government, public domain; the White House asks that its
  photos of people not be used commercially or to suggest endorsement, so they are only read here, for
  measurement): Barack Obama laughing with his teeth showing, speaking at a podium (turned about 20
  degrees, a microphone below the chin), and smiling with closed lips; Joe Biden, tight-lipped, head tilted.
  Darker skin, men, a broad open smile and a speaking mouth: what the other photos lack. Not installed by
  default; fetch the sdist once (from the package registry, like any dependency)::

      python benchmarks/portraits.py --fetch     # pip download face_recognition==1.3.0 --no-binary :all:

  and these portraits join the set (they are skipped, with a message, where the sdist is absent).
Variations: crops, mirror image, greyscale, small (128 px), rotation (12 degrees).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
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


FACE_RECOGNITION_SDIST = "face_recognition-1.3.0.tar.gz"
WHITE_HOUSE_SRC = f"{FACE_RECOGNITION_SDIST} tests/test_images/{{}} (White House photograph)"
# name, file, square crop (centre x, centre y, side) in the original photo, note
WHITE_HOUSE_CROPS = [
    ("obama_laugh", "obama.jpg", (491, 270, 520), "laughing, teeth showing, near frontal"),
    ("obama_speaking", "obama2.jpg", (320, 456, 600),
     "speaking (open mouth), turned about 20 degrees, a microphone below the chin"),
    ("obama_closed_smile", "obama3.jpg", (770, 450, 640), "closed-lip smile, frontal, warm indoor light"),
    ("biden", "biden.jpg", (567, 394, 680), "tight-lipped, head tilted, older man"),
]


def white_house(size: int = DEFAULT_SIZE, sdist: Path | None = None) -> list[Portrait]:
    """The face_recognition sdist's photos (see the module docstring); [] where the sdist is not fetched."""
    from PIL import Image

    sdist = sdist or default_cache().parent / "sdist" / FACE_RECOGNITION_SDIST
    if not sdist.exists():
        print(f"note: {sdist} not found; run `python benchmarks/portraits.py --fetch` for the four White House "
              "portraits", file=sys.stderr)
        return []
    found = []
    with tarfile.open(sdist) as tar:
        for name, file, (cx, cy, side), note in WHITE_HOUSE_CROPS:
            member = tar.extractfile(f"{FACE_RECOGNITION_SDIST[:-7]}/tests/test_images/{file}")
            with Image.open(member) as im:
                photo = np.asarray(im.convert("RGB"))
            found.append(Portrait(name, _square(photo, cx, cy, side, size), WHITE_HOUSE_SRC.format(file),
                                  "public domain", note))
    return found


def fetch(folder: Path | None = None) -> Path:
    """Download the face_recognition sdist (pip, from the package registry) into ``folder``."""
    folder = folder or default_cache().parent / "sdist"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "face_recognition==1.3.0", "-d", str(folder)], check=True)
    return folder / FACE_RECOGNITION_SDIST


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
        *white_house(size),
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
    parser.add_argument("--fetch", action="store_true", help="download the face_recognition sdist first")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch()
    for p, path in write(args.out, args.size):
        print(f"{path}  {p.image.shape[1]}x{p.image.shape[0]}  {p.licence:13s}  {p.source}; {p.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
