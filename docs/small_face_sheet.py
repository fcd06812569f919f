"""Before/after sheet of a face small in a large photo: the whole photo reduced, against the crop around the face.

    python docs/small_face_sheet.py --out docs/small_face_before_after.png [--portraits biden obama_laugh]

Each development portrait (``benchmarks/portraits.py``, 256 px) is pasted at 1/12 of a 4000 x 3000 grey "phone
photo"; `Talker.prepare` reduces it to the working size (1024 px) whole (``face_crop=None``, "before") or renders the
crop around the face (the default, "after"). Cells show the face at the size each avatar draws it (cropped from
its frame, not enlarged), for three emotions at 60 % of the bundled speech.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EMOTIONS = ("happy", "angry", "surprised")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "small_face_before_after.png"))
    parser.add_argument("--portraits", nargs="+", default=["biden", "obama_laugh"])
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    from PIL import Image, ImageDraw

    import portraits as portrait_set
    import tbd
    from tbd import assets

    found = {p.name: p for p in portrait_set.portraits(256)}
    speech = assets.speech_path()
    motion_talker = tbd.Talker("rig", progress=False)
    cell = 200
    rows = []
    for name in args.portraits:
        photo = np.full((3000, 4000, 3), 110, np.uint8)
        photo[1300:1556, 1700:1956] = found[name].image
        for label, crop in (("before: whole photo", None), ("after: crop", 3.0)):
            talker = tbd.Talker("rig", progress=False, face_crop=crop)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                avatar = talker.prepare(photo)
            x0, y0, x1, y1 = avatar.face.bbox
            side = 1.6 * max(x1 - x0, y1 - y0)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            box = [int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0)), int(cx + side / 2), int(cy + side / 2)]
            cells = []
            for emotion in EMOTIONS:
                motion = motion_talker.motion(speech, emotion, seed=0)
                frame = avatar.renderer.render_frame(motion.values[int(0.6 * motion.n_frames)])
                face = Image.fromarray(frame[box[1]:box[3], box[0]:box[2]])
                canvas = Image.new("RGB", (cell, cell), "white")
                canvas.paste(face, ((cell - face.width) // 2, (cell - face.height) // 2))
                cells.append(canvas)
            rows.append((f"{name}\n{label}\n{avatar.size[1]}x{avatar.size[0]}", cells))
    label_w, head_h = 130, 16
    sheet = Image.new("RGB", (label_w + cell * len(EMOTIONS), head_h + cell * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, emotion in enumerate(EMOTIONS):
        draw.text((label_w + j * cell + 4, 2), emotion, fill="black")
    for i, (label, cells) in enumerate(rows):
        draw.text((4, head_h + i * cell + 4), label, fill="black")
        for j, image in enumerate(cells):
            sheet.paste(image, (label_w + j * cell, head_h + i * cell))
    sheet.save(args.out, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
