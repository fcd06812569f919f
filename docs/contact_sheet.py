"""Render the demo and save a contact sheet of its frames: docs/demo_frames.png.

    python docs/contact_sheet.py [--emotion TEXT] [--generator rig] [-o docs/demo_frames.png]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

import tbd
from tbd import assets


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
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("-o", "--output", default="docs/demo_frames.png")
    args = parser.parse_args()
    anim = tbd.Talker(args.generator).animate(
        assets.portrait_path(), assets.speech_path(), args.emotion, size=args.size
    )
    contact_sheet(anim.frames, anim.fps).save(args.output, optimize=True)
    print(f"wrote {args.output} ({anim.meta['generator']}, emotion {args.emotion!r})")


if __name__ == "__main__":
    main()
