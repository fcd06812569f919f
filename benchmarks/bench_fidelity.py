"""Fidelity of rendered emotions, read back by independent detectors (issue 9).

    python benchmarks/bench_fidelity.py [--portraits NAME ...|all] [--emotions happy sad ...] [--size 256]
                                        [--generator default|rig] [--out DIR] [--quick]

Renders every portrait but the bundled one (benchmarks/portraits.py; the four White House photos once
`python benchmarks/portraits.py --fetch` has run) with each of the seven basic emotions on a speech
clip (the bundled speech and an espeak-ng voice, alternating by portrait), evaluates each render
with ``tbd.evaluate`` against that portrait's neutral render, prints one row per render and the
acceptance table (pass/fail per line), and writes a contact sheet (emotions x portraits) and every
report as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import portraits as portrait_set  # noqa: E402  (benchmarks/portraits.py, beside this file)

EMOTIONS = ("happy", "sad", "angry", "surprised", "afraid", "disgusted", "neutral")
DEFAULT_PORTRAITS = ("hopper", "astronaut", "cameraman", "hopper_grey", "astronaut_flip_128", "hopper_close",
                     *(name for name, *_ in portrait_set.WHITE_HOUSE_CROPS))
"""Every development portrait but the bundled one (the renderer is judged on faces it was not tuned on); the four
White House photos where their sdist is fetched (`python benchmarks/portraits.py --fetch`)."""
QUICK_PORTRAITS = ("bundled", "hopper_grey")
ESPEAK_TEXT = "I honestly did not expect to see you here today, but it is good that you came."
# The response each emotion is judged by (RESPONSES group) and its target, render minus neutral render.
RESPONSE_TARGETS = {"angry": ("browDown", 0.15), "surprised": ("eyeWide", 0.15), "sad": ("mouthFrown", 0.10),
                    "disgusted": ("noseSneer", 0.10), "afraid": ("browInnerUp", 0.15)}


@dataclass(frozen=True)
class Targets:
    fer_core: float = 0.75          # happy, sad, surprised, neutral
    fer_all: float = 0.45
    smile_happy_minus_sad: float = 0.30
    blink_apex: float = 0.5
    identity: float = 0.5
    lipsync_r: float = 0.7


def espeak_clip(out: Path) -> Path:
    """A second speaker: espeak-ng's en-us+f3 voice (16 kHz is done by tbd.audio on load)."""
    path = out / "espeak_f3.wav"
    if not path.exists():
        if shutil.which("espeak-ng") is None:
            raise SystemExit("bench_fidelity needs espeak-ng for its second voice: apt-get install espeak-ng")
        subprocess.run(["espeak-ng", "-v", "en-us+f3", "-s", "160", "-w", str(path), ESPEAK_TEXT], check=True)
    return path


def face_crop(frame: np.ndarray, box: np.ndarray, margin: float = 0.45) -> np.ndarray:
    """A square around a face box (x0, y0, x1, y1) grown by ``margin`` of its size, inside the frame."""
    x0, y0, x1, y1 = box
    side = min(max(x1 - x0, y1 - y0) * (1 + 2 * margin), *frame.shape[:2])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(np.clip(cx - side / 2, 0, frame.shape[1] - side))
    top = int(np.clip(cy - side / 2, 0, frame.shape[0] - side))
    return frame[top:top + int(side), left:left + int(side)]


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", nargs="+", default=None, help=f"names or 'all' (default {DEFAULT_PORTRAITS})")
    parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    parser.add_argument("--size", type=int, default=256, help="portrait size (px)")
    parser.add_argument("--generator", default="default", help="'default' (diffusion) or 'rig'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=portrait_set.default_cache().parent / "fidelity",
                        help="where the sheet, reports and espeak clip go (default ~/.cache/tbd/fidelity)")
    parser.add_argument("--cell", type=int, default=112, help="contact-sheet cell size (px)")
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK_PORTRAITS} and the bundled speech")
    args = parser.parse_args(argv)

    import tbd
    from tbd import assets
    from tbd.evaluate import EvalConfig, SheetConfig, evaluate, grid, track
    from tbd.evaluate.sheet import save

    warnings.simplefilter("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    everything = {p.name: p for p in portrait_set.portraits(args.size)}
    names = QUICK_PORTRAITS if args.quick else (args.portraits or DEFAULT_PORTRAITS)
    if list(names) == ["all"]:
        names = tuple(everything)
    if not args.portraits and not args.quick:
        names = tuple(n for n in names if n in everything)  # the White House photos only where fetched
    unknown = [n for n in names if n not in everything]
    if unknown:
        fetch = " (the White House photos: `python benchmarks/portraits.py --fetch` first)" if any(
            n in {c[0] for c in portrait_set.WHITE_HOUSE_CROPS} for n in unknown) else ""
        raise SystemExit(f"unknown portraits {unknown}; choose from {sorted(everything)}{fetch}")
    emotions = list(dict.fromkeys(["neutral", *args.emotions]))  # neutral first: it is the baseline
    speech = [Path(assets.speech_path())] + ([] if args.quick else [espeak_clip(args.out)])

    talker = tbd.Talker(None if args.generator == "default" else args.generator, progress=False)
    config = EvalConfig()
    started = time.perf_counter()
    print(f"# tbd {tbd.__version__} fidelity benchmark, generator {args.generator}, {args.size} px, "
          f"{platform.machine()} {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(f"# portraits {list(names)}; emotions {emotions}; speech {[s.name for s in speech]}")
    print("| portrait | emotion | speech | FER (middle mean) | response vs neutral | smile | blinks seen/asked (min apex) | "
          "identity | max chroma | lip r |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows, reports, sheet_cells, sheet_labels = [], {}, [], []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(names) * len(emotions), desc="fidelity", leave=False)
    for k, name in enumerate(names):
        portrait = everything[name]
        clip = speech[k % len(speech)]
        anims = {}
        cells, labels = [], []
        for emotion in emotions:
            anims[emotion] = talker.animate(portrait.image, str(clip), emotion, seed=args.seed)
            if emotion == "neutral":
                neutral_track = track(anims["neutral"].frames)
            report = evaluate(anims[emotion], portrait=portrait.image, emotion=emotion, baseline=neutral_track,
                              config=config)
            reports[f"{name}/{emotion}"] = report.to_dict()
            fer, shapes, bl = report.fer, report.blendshapes, report.blinks
            response = RESPONSE_TARGETS.get(emotion)
            row = {
                "portrait": name, "emotion": emotion, "grey": report.colour.source_is_grey,
                "fer": fer.label, "fer_score": fer.score, "fer_ok": fer.correct,
                "response": None if response is None else shapes.responses[response[0]],
                "upper_lip": shapes.responses.get("mouthUpperUp"),
                "smile": float(np.mean([shapes.measured["mouthSmileLeft"], shapes.measured["mouthSmileRight"]])),
                "blinks": bl.count, "blinks_asked": bl.requested_count, "blink_apex": bl.min_apex, "blink_durations": [e.duration_s for e in bl.events],
                "flickers": bl.flickers, "identity": report.identity.median if report.identity else None,
                "chroma": report.colour.render_max_chroma, "lip_r": report.lipsync.r if report.lipsync else None,
                "jaw": shapes.measured.get("jawOpen"), "jaw_asked": (shapes.requested or {}).get("jawOpen"),
            }
            rows.append(row)
            resp = "-" if response is None else f"{response[0]} {row['response']:+.3f}"
            ident = "-" if row["identity"] is None else f"{row['identity']:.3f}"
            apex = "-" if row["blink_apex"] is None else f"{row['blink_apex']:.2f}"
            lip = "-" if row["lip_r"] is None else f"{row['lip_r']:.3f}"
            print(f"| {name} | {emotion} | {clip.stem} | {fer.label} {fer.score:.2f}{' ok' if fer.correct else ''} | "
                  f"{resp} | {row['smile']:.3f} | {bl.count}/{bl.requested_count} ({apex}) | {ident} | {row['chroma']:.1f} | {lip} |",
                  flush=True)
            mid = anims[emotion].frames[len(anims[emotion].frames) // 2]
            cells.append(face_crop(mid, np.nanmedian(neutral_track.boxes, axis=0)))
            mark = "+" if fer.correct else "x"
            labels.append(f"{mark} {fer.label} {fer.score:.2f}")
            bar.update()
        sheet_cells.append(cells)
        sheet_labels.append(labels)
    bar.close()
    elapsed = time.perf_counter() - started

    # --- acceptance ---
    t = Targets()

    def acc(emos: tuple[str, ...]) -> float | None:
        hits = [r["fer_ok"] for r in rows if r["emotion"] in emos and r["fer_ok"] is not None]
        return float(np.mean(hits)) if hits else None

    lines: list[tuple[str, float | None, str, bool | None]] = []
    core = tuple(e for e in ("happy", "sad", "surprised", "neutral") if e in emotions)
    a = acc(core)
    lines.append((f"FER names the emotion, {'/'.join(core)}", a, f">= {t.fer_core:.2f}",
                  None if a is None else a >= t.fer_core))
    a = acc(tuple(emotions))
    lines.append(("FER names the emotion, all asked", a, f">= {t.fer_all:.2f}", None if a is None else a >= t.fer_all))
    for emotion, (resp, minimum) in RESPONSE_TARGETS.items():
        if emotion in emotions:
            v = _mean([r["response"] for r in rows if r["emotion"] == emotion])
            lines.append((f"{resp}({emotion}) - neutral, mean", v, f">= {minimum:.2f}", None if v is None else v >= minimum))
    if "happy" in emotions and "sad" in emotions:
        diffs = []
        for name in names:
            by = {r["emotion"]: r for r in rows if r["portrait"] == name}
            diffs.append(by["happy"]["smile"] - by["sad"]["smile"])
        v = _mean(diffs)
        lines.append(("mouthSmile happy - sad, mean", v, f">= {t.smile_happy_minus_sad:.2f}",
                      v >= t.smile_happy_minus_sad))
    if "disgusted" in emotions:  # MediaPipe's noseSneer reads near 0 on real faces too (mediapipe issue 4450)
        v = _mean([r["upper_lip"] for r in rows if r["emotion"] == "disgusted"])
        lines.append(("mouthUpperUp(disgusted) - neutral, mean (AU10; beside noseSneer)", v, "(no target)", None))
    apexes = [r["blink_apex"] for r in rows if r["blink_apex"] is not None]
    v = min(apexes) if apexes else None
    lines.append(("every blink apex eyeBlink (min)", v, f">= {t.blink_apex:.2f}", None if v is None else v >= t.blink_apex))
    seen, asked = sum(r["blinks"] for r in rows), sum(r["blinks_asked"] or 0 for r in rows)
    v = seen / asked if asked else None
    lines.append(("blinks seen / blinks in the motion", v, "= 1.00", None if v is None else seen == asked))
    durations = [d for r in rows for d in r["blink_durations"]]
    inside = float(np.mean([0.1 <= d <= 0.4 for d in durations])) if durations else None
    lines.append(("blink durations in 100-400 ms (fraction)", inside, "= 1.00", None if inside is None else inside == 1.0))
    flick = sum(r["flickers"] for r in rows)
    lines.append(("blink flickers (count)", float(flick), "= 0", flick == 0))
    ids = [r["identity"] for r in rows if r["identity"] is not None]
    v = float(np.median(ids)) if ids else None
    lines.append(("identity distance, median over renders", v, f"<= {t.identity:.2f}", None if v is None else v <= t.identity))
    greys = [r["chroma"] for r in rows if r["grey"]]
    v = max(greys) if greys else None
    tol = config.colour.grey_tolerance
    lines.append(("grey portrait stays grey: max chroma", v, f"<= {tol:.0f}", None if v is None else v <= tol))
    v = _mean([r["lip_r"] for r in rows])
    lines.append(("lip sync r (inner-lip gap vs loudness), mean", v, f">= {t.lipsync_r:.2f}",
                  None if v is None else v >= t.lipsync_r))
    read = [(r["jaw"], r["jaw_asked"]) for r in rows if r["jaw"] is not None and r["jaw_asked"]]
    v = float(sum(a for a, _ in read) / sum(b for _, b in read)) if read else None
    lines.append(("jawOpen read / asked (means over the middle, all renders)", v, "(no target)", None))

    print(f"\n# {len(rows)} renders in {elapsed:.0f} s")
    print("| acceptance | value | target | result |")
    print("|---|---|---|---|")
    for label, value, target, ok in lines:
        shown = "-" if value is None else f"{value:.3f}"
        print(f"| {label} | {shown} | {target} | {'-' if ok is None else 'pass' if ok else 'FAIL'} |")
    missing = [r for r in rows if r["identity"] is None]
    if missing:
        print(f"# identity not measured on {len(missing)} renders (dlib's frontal detector found no face: "
              f"{sorted({r['portrait'] for r in missing})})")
    unread = [f"{r['portrait']}/{r['emotion']}" for r in rows if r["fer_ok"] is None]
    if unread:
        print(f"# FER found no face in the middle of {len(unread)} renders, left out of its rates: {unread}")

    sheet = grid(sheet_cells, sheet_labels, row_labels=list(names), column_labels=emotions,
                 config=SheetConfig(cell=args.cell, label_height=14, font_size=10))
    sheet_path = save(sheet, args.out / "fidelity_sheet.png", colours=192)
    (args.out / "reports.json").write_text(json.dumps(reports))
    (args.out / "rows.json").write_text(json.dumps({"rows": rows, "acceptance": [list(x) for x in lines]}, indent=1))
    print(f"# wrote {sheet_path}, {args.out / 'reports.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
