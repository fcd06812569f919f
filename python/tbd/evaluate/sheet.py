"""Contact sheets: frames in a grid, each labelled (with the FER reading, in tbd eval)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class SheetConfig:
    frames: int = 8        # frames sampled evenly over the clip (single-clip sheet)
    columns: int = 4
    cell: int = 160        # cell side in pixels (frames are fitted inside, aspect kept)
    label_height: int = 16
    font_size: int = 11


def _font(size: int):  # noqa: ANN202 - PIL font object
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def grid(cells: Sequence[Sequence[np.ndarray | None]], labels: Sequence[Sequence[str]] | None = None, *,
         row_labels: Sequence[str] | None = None, column_labels: Sequence[str] | None = None,
         config: SheetConfig = SheetConfig()):  # noqa: ANN201 - PIL.Image.Image
    """A PIL image of ``cells[row][column]`` (RGB uint8 images, None for an empty cell), each with its label
    underneath; optional row labels on the left and column labels on top."""
    from PIL import Image, ImageDraw

    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    font = _font(config.font_size)
    lh = config.label_height if labels is not None else 0
    left = 0
    if row_labels:
        left = max(int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(t, font=font)) for t in row_labels) + 8
    top = config.label_height + 2 if column_labels else 0
    cw, ch = config.cell, config.cell + lh
    sheet = Image.new("RGB", (left + n_cols * cw, top + n_rows * ch), "white")
    draw = ImageDraw.Draw(sheet)
    for c, text in enumerate(column_labels or []):
        draw.text((left + c * cw + 3, 2), text, fill="black", font=font)
    for r, row in enumerate(cells):
        y = top + r * ch
        if row_labels:
            draw.text((3, y + config.cell // 2 - config.font_size // 2), row_labels[r], fill="black", font=font)
        for c, image in enumerate(row):
            x = left + c * cw
            if image is not None:
                im = Image.fromarray(np.asarray(image, np.uint8))
                scale = config.cell / max(im.width, im.height)  # fit the cell: small frames are enlarged
                im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
                sheet.paste(im, (x + (config.cell - im.width) // 2, y + (config.cell - im.height) // 2))
            if labels is not None and labels[r][c]:
                draw.text((x + 3, y + config.cell + 2), labels[r][c], fill="black", font=font)
    return sheet


def save(image, path: str | os.PathLike[str], *, colours: int | None = None) -> str:  # noqa: ANN001 - PIL.Image
    """Write a sheet as a compressed PNG; ``colours`` quantises it to a palette (smaller files)."""
    if colours is not None:
        image = image.quantize(colors=colours, method=2, dither=0)  # 2: Image.Quantize.FASTOCTREE
    image.save(os.fspath(path), format="PNG", optimize=True)
    return os.fspath(path)


def clip_sheet(frames: np.ndarray, fps: float, readings: Sequence[str], config: SheetConfig = SheetConfig()):  # noqa: ANN201
    """Frames sampled evenly over a clip, labelled "t=1.20s <reading>" (``readings``: one per frame)."""
    picks = np.linspace(0, len(frames) - 1, min(config.frames, len(frames))).round().astype(int)
    cells: list[list[np.ndarray | None]] = []
    labels: list[list[str]] = []
    for k, i in enumerate(picks):
        if k % config.columns == 0:
            cells.append([])
            labels.append([])
        cells[-1].append(frames[i])
        labels[-1].append(f"t={i / fps:.2f}s {readings[i]}")
    return grid(cells, labels, config=config)
