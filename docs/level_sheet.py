"""Before/after sheet of the recording's evening out: one portrait speaking the bundled sentence at its own level,
24 dB quieter as recorded (before), the same evened out (after), and with a DC offset of 0.1 as recorded and evened.

    python docs/level_sheet.py [--portrait PATH] [--out docs/quiet_voice_before_after.png]

Each row is a strip of face crops, one every 4 frames from the middle of the clip; the left label says the row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import portraits as portrait_set  # noqa: E402  (benchmarks/portraits.py)

TILE = 128
LABEL = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portrait", type=Path, help="default: Grace Hopper (matplotlib's sample photo)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "quiet_voice_before_after.png")
    parser.add_argument("--frames", type=int, default=9)
    args = parser.parse_args()
    import tbd
    from tbd.assets import speech_path
    from tbd.audio import load

    portrait = args.portrait or next(p.image for p in portrait_set.portraits(512) if p.name == "hopper")
    speech = load(speech_path()).samples
    quiet = (speech * 10 ** (-24 / 20)).astype(np.float32)
    evened, as_recorded = tbd.Talker(progress=False), tbd.Talker(progress=False, audio_level=None)
    rows = [("own level", evened, speech), ("24 dB quieter, before", as_recorded, quiet),
            ("24 dB quieter, after", evened, quiet), ("DC offset 0.1, before", as_recorded, speech + 0.1),
            ("DC offset 0.1, after", evened, speech + 0.1)]
    avatar = evened.prepare(portrait)
    mesh = avatar.face.mesh
    centre = mesh[[13, 14]].mean(axis=0)  # the lips' middle
    half = 0.9 * np.linalg.norm(mesh[61] - mesh[291])
    box = tuple(int(v) for v in (centre[0] - half, centre[1] - 1.1 * half, centre[0] + half, centre[1] + 0.9 * half))
    sheet = Image.new("RGB", (LABEL + TILE * args.frames, TILE * len(rows)), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=16)
    for r, (label, talker, samples) in enumerate(rows):
        anim = talker.animate(avatar, (samples.astype(np.float32), 16000), "neutral", seed=0)
        n = anim.motion.values.shape[0]
        picks = np.arange(n // 2 - 2 * args.frames, n // 2 + 2 * args.frames, 4)[: args.frames]
        frames = anim.renderer.render(type(anim.motion)(anim.motion.values[picks]), progress=False)
        for c, frame in enumerate(frames):
            sheet.paste(Image.fromarray(frame).crop(box).resize((TILE, TILE), Image.LANCZOS), (LABEL + c * TILE, r * TILE))
        draw.text((8, r * TILE + TILE // 2 - 8), label, fill="black", font=font)
    sheet.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
