"""Render the demo and save a contact sheet of its frames: docs/demo_frames.png.

    python docs/contact_sheet.py [--emotion TEXT] [--generator rig] [-o docs/demo_frames.png]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

import tbd
import tbd.face
from tbd import assets


def face_crop(frames: np.ndarray, margin: float = 0.45) -> np.ndarray:
    """The frames cropped to a square around the face of the first frame (plus ``margin``)."""
    x0, y0, x1, y1 = tbd.face.detect(frames[0], source="first frame").bbox
    half = (1 + margin) * max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = frames.shape[1:3]
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    return frames[:, top : int(min(h, cy + half)), left : int(min(w, cx + half))]


def contact_sheet(frames: np.ndarray, fps: float, columns: int = 6, rows: int = 2) -> Image.Image:
    """Evenly spaced frames in a grid, each labelled with its time."""
    picks = np.linspace(0, len(frames) - 1, columns * rows).round().astype(int)
    h, w = frames.shape[1:3]
    sheet = Image.new("RGB", (columns * w, rows * h), "white")
    draw = ImageDraw.Draw(sheet)
    for k, i in enumerate(picks):
        x, y = (k % columns) * w, (k // columns) * h
        sheet.paste(Image.fromarray(frames[i]), (x, y))
        draw.text((x + 4, y + 4), f"{i / fps:.2f} s", fill="white")
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emotion", default=assets.DEMO_EMOTION)
    parser.add_argument("--generator", default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("-o", "--output", default="docs/demo_frames.png")
    args = parser.parse_args()
    anim = tbd.Talker(args.generator).animate(
        assets.portrait_path(), assets.speech_path(), args.emotion, size=args.size
    )
    contact_sheet(face_crop(anim.frames), anim.fps).save(args.output, optimize=True)
    print(f"wrote {args.output} ({anim.meta['generator']}, emotion {args.emotion!r})")


if __name__ == "__main__":
    main()
