"""Contact sheet of the speech mouth shapes (issue 11): docs/visemes_sheet.png.

    python docs/viseme_sheet.py [-o docs/visemes_sheet.png] [--portraits hopper,astronaut,cameraman]
                                [--before-tree CHECKOUT]

Rows: development portraits (``benchmarks/portraits.py``), each as a face crop and, below it, a
2x zoom of the mouth. Columns: the articulation targets of ``tbd.articulation.visemes.SHAPES``
(sil, PP, FF, ih, aa, ou) and three with an emotion on top (PP with a smile, ou with an angry face, ou with a
surprised face's raised brows and dropped jaw), rendered as static frames by the rig renderer. ``--measure`` also
prints MediaPipe's reading of each cell (inner-lip gap, mouthPucker + mouthFunnel, mouthPress, mouthRollLower).
``--before-tree`` (a checkout of an earlier commit with its ``tbd/_C*.so`` copied in) adds that tree's sheet above
this one's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SMILE = {"AU12L": 0.8, "AU12R": 0.8, "AU6": 0.5}
ANGRY = {"AU4": 0.7, "AU7": 0.5, "AU23": 0.4}
SURPRISED = {"AU1": 0.6, "AU2": 0.55, "AU5": 0.3, "AU25": 0.92, "AU26": 0.74}  # DRAW's surprised "who"
COLUMNS = (("sil", "sil", {}), ("PP", "PP", {}), ("FF", "FF", {}), ("ih", "ih", {}), ("aa", "aa", {}),
           ("ou", "ou", {}), ("PP+smile", "PP", SMILE), ("ou+angry", "ou", ANGRY), ("ou+surprised", "ou", SURPRISED))


def motion_values(columns=COLUMNS) -> np.ndarray:
    """Motion values [len(columns), n_channels] for (label, viseme, extra AUs) columns."""
    from tbd.articulation.visemes import SHAPES
    from tbd.motion import channels as ch

    values = np.zeros((len(columns), ch.N_CHANNELS), np.float32)
    for i, (_, viseme, extra) in enumerate(columns):
        for name, value in {**SHAPES[viseme], **extra}.items():
            values[i, ch.index(name)] = value
    return values


def _crop(frame: np.ndarray, centre: np.ndarray, half: float, size: int) -> Image.Image:
    h, w = frame.shape[:2]
    box = (int(centre[0] - half), int(centre[1] - half), int(centre[0] + half), int(centre[1] + half))
    pad = Image.new("RGB", (w + 4 * int(half), h + 4 * int(half)), "black")
    pad.paste(Image.fromarray(frame), (2 * int(half), 2 * int(half)))
    box = tuple(b + 2 * int(half) for b in box)
    return pad.crop(box).resize((size, size), Image.LANCZOS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(HERE / "visemes_sheet.png"))
    parser.add_argument("--portraits", default="hopper,astronaut,cameraman")
    parser.add_argument("--cell", type=int, default=160)
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--before-tree", default=None, help="checkout of the earlier commit to compare with")
    parser.add_argument("--tree", default=None, help=argparse.SUPPRESS)  # render with that checkout's tbd
    args = parser.parse_args(argv)
    if args.before_tree:
        return _before_after(args)
    if args.tree:  # import that tree's tbd, not the installed (editable) one
        sys.meta_path[:] = [f for f in sys.meta_path if "ScikitBuild" not in type(f).__name__]
        sys.path.insert(0, str(Path(args.tree) / "python"))

    import tbd
    from benchmarks.portraits import portraits
    from tbd.face.topology import MEDIAPIPE_REGIONS as R

    wanted = args.portraits.split(",")
    found = {p.name: p for p in portraits(256)}
    talker = tbd.Talker("rig", progress=False)
    values = motion_values()
    cell = args.cell
    sheet = Image.new("RGB", (len(COLUMNS) * cell, 2 * len(wanted) * cell + 16), "white")
    draw = ImageDraw.Draw(sheet)
    for j, (label, _, _) in enumerate(COLUMNS):
        draw.text((j * cell + 4, 2), label, fill="black")
    for r, name in enumerate(wanted):
        avatar = talker.prepare(found[name].image, size=256)
        frames = avatar.renderer.render(tbd.Motion(values), progress=False)
        mesh = avatar.face.mesh
        x0, y0, x1, y1 = avatar.face.bbox
        face_centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        face_half = 0.62 * max(x1 - x0, y1 - y0)
        lips = mesh[list(R.lips_outer_upper) + list(R.lips_outer_lower)]
        mouth_centre = lips.mean(axis=0)
        mouth_half = 0.5 * max(np.ptp(lips[:, 0]), 1.0) * 1.25
        for j, frame in enumerate(frames):
            y = 16 + 2 * r * cell
            sheet.paste(_crop(frame, face_centre, face_half, cell), (j * cell, y))
            sheet.paste(_crop(frame, mouth_centre, mouth_half, cell), (j * cell, y + cell))
        draw.text((4, 16 + 2 * r * cell + 4), name, fill="white")
        if args.measure:
            from tbd.evaluate.track import track

            t = track(frames)
            rounding = t.shape("mouthPucker") + t.shape("mouthFunnel")
            print(name)
            for j, (label, _, _) in enumerate(COLUMNS):
                print(f"  {label:9s} gap {t.lip_gap[j]:.3f}  pucker+funnel {rounding[j]:.2f}  "
                      f"press {t.shape('mouthPressLeft')[j]:.2f}  rollLower {t.shape('mouthRollLower')[j]:.2f}")
    sheet.save(args.output, optimize=True)
    print(f"wrote {args.output}")
    return 0


def _before_after(args: argparse.Namespace) -> int:
    """Two sheets, the earlier tree's above this one's, each rendered in its own process."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sheets = []
        for label, tree in (("before", args.before_tree), ("after", None)):
            out = Path(tmp) / f"{label}.png"
            cmd = [sys.executable, __file__, "-o", str(out), "--portraits", args.portraits, "--cell", str(args.cell)]
            subprocess.run(cmd + (["--tree", tree] if tree else []), check=True)
            sheets.append((label, Image.open(out).convert("RGB")))
    width, label_h = sheets[0][1].width, 16
    sheet = Image.new("RGB", (width, sum(s.height + label_h for _, s in sheets)), "white")
    draw, y = ImageDraw.Draw(sheet), 0
    for label, part in sheets:
        draw.text((4, y + 2), label, fill="black")
        sheet.paste(part, (0, y + label_h))
        y += part.height + label_h
    sheet.save(args.output, optimize=True)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
