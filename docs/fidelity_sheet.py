"""Before/after contact sheet of the seven basic emotions on development portraits (issue 9).

    python docs/fidelity_sheet.py --out docs/fidelity_before_after.png [--before-tree DIR]
                                  [--silent | --eyes | --blinks | --brows | --mouth | --open-mouth]
                                  [--size 256] [--yaw 0.0] [--exposure 1.0] [--sepia] [--shut-eyes]

For each portrait: the rig's motion for the bundled speech (``--silent``: two seconds of silence, so the
expression shows on a closed mouth) and each emotion; the frame at 60 % of the clip is rendered by this tree's renderer ("after") and, with ``--before-tree`` (a checkout of
an earlier commit, e.g. ``git worktree add /tmp/old 43924ab`` with its ``tbd/_C*.so`` copied in),
by that tree's renderer ("before"), in a subprocess so that the two packages never mix. Cells are
cropped to the face and labelled. ``--eyes``: the eyes only, on a closed mouth, for a few expressions and a
blink (the neutral motion with AU45 = 1). ``--blinks``: the eyes only, each emotion's motion with AU45 = 1 (a blink
in each expression). ``--brows``: the brows and the forehead, on a closed mouth, for the
emotions that move the brows. ``--mouth``: the mouth only, on two seconds of silence (closed lips, as the emotion
holds them). ``--open-mouth``: the mouth only, at the widest opening of the bundled speech. ``--size``: the
portraits' size in px (the forehead's lines show at 512 and up).
``--yaw``: radians added to the motion's head turn in every cell (positive: the nose toward image right).
``--exposure``: a factor on each portrait's pixels, clipped at white (1.8: an overexposed photo). ``--sepia``: each
portrait toned sepia (its brightness in one brown hue, as an old print). ``--shut-eyes``: each portrait as this tree
renders it blinking (a photo taken with the eyes shut).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "afraid", "disgusted")
EYE_COLUMNS = ("neutral", "blink", "angry", "sad", "surprised", "afraid")
BROW_COLUMNS = ("neutral", "angry", "surprised", "afraid", "sad")
PORTRAITS = ("hopper", "astronaut")
HERE = Path(__file__).resolve().parent
_RENDER = r"""
import sys, json
import numpy as np
tree, out, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
if tree != "-":  # import that tree's tbd, not the installed one
    sys.meta_path = [f for f in sys.meta_path if "ScikitBuild" not in type(f).__name__]
    sys.path.insert(0, tree + "/python")
sys.path.insert(0, sys.argv[4])
import tbd
from tbd import assets, face
from tbd.render import Renderer
import portraits as portrait_set
emotions = sys.argv[5].split(",")
mode = sys.argv[6]
size = int(sys.argv[7])
yaw = float(sys.argv[8])
exposure = float(sys.argv[9])
sepia = sys.argv[10] == "sepia"
shut_eyes = sys.argv[11] == "shut"
# speaking, or two seconds of silence (closed lips)
speech = assets.speech_path() if mode in ("speech", "open_mouth") else (np.zeros(32000, np.float32), 16000)
talker = tbd.Talker("rig", progress=False)
found = {p.name: p for p in portrait_set.portraits(size)}
cells, boxes = [], []
for name in names:
    image = found[name].image * exposure
    if sepia:
        image = (image @ [0.299, 0.587, 0.114])[..., None] * [1.07, 0.74, 0.43] + 20
    image = np.clip(image, 0, 255).astype(np.uint8)
    if shut_eyes:
        image = Renderer(image, face.detect(image)).render_frame(
            np.eye(tbd.motion.channels.N_CHANNELS, dtype=np.float32)[tbd.motion.channels.index("AU45")])
    model = face.detect(image)
    renderer = Renderer(image, model)
    x0, y0, x1, y1 = model.bbox
    m = 0.18 * (x1 - x0)
    if mode in ("eyes", "blinks"):
        centre = (model.mesh[33] + model.mesh[263]) / 2
        w = 0.8 * float(np.linalg.norm(model.mesh[33] - model.mesh[263]))
        x0, y0, x1, y1, m = centre[0] - w, centre[1] - 0.45 * w, centre[0] + w, centre[1] + 0.3 * w, 0.0
    if mode in ("mouth", "open_mouth"):
        centre = (model.mesh[61] + model.mesh[291]) / 2
        w = 0.6 * float(np.linalg.norm(model.mesh[33] - model.mesh[263]))
        x0, y0, x1, y1, m = centre[0] - w, centre[1] - 0.55 * w, centre[0] + w, centre[1] + 0.55 * w, 0.0
    if mode == "brows":
        centre = (model.mesh[33] + model.mesh[263]) / 2
        w = 0.8 * float(np.linalg.norm(model.mesh[33] - model.mesh[263]))
        x0, y0, x1, y1, m = centre[0] - w, centre[1] - 1.1 * w, centre[0] + w, centre[1] + 0.25 * w, 0.0
    boxes.append([max(int(x0 - m), 0), max(int(y0 - 1.6 * m), 0), min(int(x1 + m), image.shape[1]), min(int(y1 + m), image.shape[0])])
    row = []
    for emotion in emotions:
        motion = talker.motion(speech, "neutral" if emotion == "blink" else emotion, seed=0)
        at = int(0.6 * motion.n_frames)
        if mode == "open_mouth":  # the widest opening of the clip
            at = int(np.argmax(motion.channel("AU25") + motion.channel("AU26")))
        values = motion.values[at].copy()
        if emotion == "blink" or mode == "blinks":
            values[tbd.motion.channels.index("AU45")] = 1.0
        values[tbd.motion.channels.index("yaw")] += yaw
        row.append(renderer.render_frame(values))
    cells.append(np.stack(row))
np.savez(out, cells=np.stack(cells), boxes=np.array(boxes))
print("tbd from", tbd.__file__)
"""


def render(tree: str, out: Path, portraits: list[str], emotions: list[str],
           mode: str = "speech", size: int = 256, yaw: float = 0.0, exposure: float = 1.0, sepia: bool = False,
           shut_eyes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Cells [portraits, emotions, H, W, 3] and crop boxes rendered by ``tree`` ("-": this one); ``mode``:
    "speech", "silent", "eyes", "blinks", "brows", "mouth" or "open_mouth"; ``size``: the portraits' size (px);
    ``yaw``: added to the head's turn (radians); ``exposure``: a factor on the portraits' pixels; ``sepia``: tone them
    sepia; ``shut_eyes``: their eyes shut."""
    subprocess.run([sys.executable, "-c", _RENDER, tree, str(out), ",".join(portraits),
                    str(HERE.parent / "benchmarks"), ",".join(emotions), mode, str(size), str(yaw), str(exposure),
                    "sepia" if sepia else "-", "shut" if shut_eyes else "-"],
                   check=True)
    data = np.load(out)
    return data["cells"], data["boxes"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "fidelity_before_after.png"))
    parser.add_argument("--before-tree", default=None, help="checkout of the earlier commit to compare with")
    parser.add_argument("--portraits", nargs="+", default=list(PORTRAITS))
    parser.add_argument("--cell", type=int, default=112, help="cell width in px")
    parser.add_argument("--silent", action="store_true", help="two seconds of silence instead of the bundled speech")
    parser.add_argument("--eyes", action="store_true", help="the eyes only, closed mouth, a blink and a few emotions")
    parser.add_argument("--blinks", action="store_true", help="the eyes only, a blink in each emotion")
    parser.add_argument("--brows", action="store_true",
                        help="the brows and forehead, closed mouth, lowered and raised brows")
    parser.add_argument("--mouth", action="store_true", help="the mouth only, closed lips, the seven emotions")
    parser.add_argument("--open-mouth", action="store_true",
                        help="the mouth only, at the widest opening of the bundled speech, the seven emotions")
    parser.add_argument("--size", type=int, default=256, help="portrait size in px")
    parser.add_argument("--yaw", type=float, default=0.0, help="radians added to the head's turn in every cell")
    parser.add_argument("--exposure", type=float, default=1.0, help="factor on the portraits' pixels (clipped)")
    parser.add_argument("--sepia", action="store_true", help="tone the portraits sepia, as an old print")
    parser.add_argument("--shut-eyes", action="store_true", help="the portraits with their eyes shut")
    args = parser.parse_args(argv)
    mode = "eyes" if args.eyes else "blinks" if args.blinks else "brows" if args.brows else "mouth" if args.mouth \
        else "open_mouth" if args.open_mouth else "silent" if args.silent else "speech"
    columns = list(EYE_COLUMNS if args.eyes else BROW_COLUMNS if args.brows else EMOTIONS)
    from PIL import Image, ImageDraw

    import tempfile

    rows: list[tuple[str, np.ndarray, np.ndarray]] = []
    with tempfile.TemporaryDirectory() as tmp:
        after = render("-", Path(tmp) / "after.npz", args.portraits, columns, mode, args.size, args.yaw,
                       args.exposure, args.sepia, args.shut_eyes)
        before = render(args.before_tree, Path(tmp) / "before.npz", args.portraits, columns, mode, args.size,
                        args.yaw, args.exposure, args.sepia, args.shut_eyes) if args.before_tree else None
    for k, name in enumerate(args.portraits):
        if before is not None:
            rows.append((f"{name}\nbefore", before[0][k], after[1][k]))
        rows.append((f"{name}\nafter" if before is not None else name, after[0][k], after[1][k]))
    x0, y0, x1, y1 = rows[0][2]
    cell_w = args.cell
    cell_h = int(round(cell_w * (y1 - y0) / (x1 - x0)))
    label_w, head_h = 80, 16
    sheet = Image.new("RGB", (label_w + cell_w * len(columns), head_h + cell_h * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, emotion in enumerate(columns):
        draw.text((label_w + j * cell_w + 4, 2), emotion, fill="black")
    for i, (label, cells, box) in enumerate(rows):
        draw.text((4, head_h + i * cell_h + 4), label, fill="black")
        bx0, by0, bx1, by1 = (int(v) for v in box)
        for j, frame in enumerate(cells):
            crop = Image.fromarray(frame[by0:by1, bx0:bx1]).resize((cell_w, cell_h), Image.LANCZOS)
            sheet.paste(crop, (label_w + j * cell_w, head_h + i * cell_h))
    sheet.save(args.out, optimize=True)
    print(json.dumps({"written": args.out, "rows": [r[0].replace("\n", " ") for r in rows]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
