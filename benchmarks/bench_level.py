"""Recording level and noise: does the mouth still follow the words? Evened (`tbd.audio.LevelConfig`) against the
level as recorded, in the same run.

    python benchmarks/bench_level.py [--generator default|rig] [--json FILE]

Each voice (the bundled speech, and espeak-ng's en-us+f3 where espeak-ng is installed) is played quieter, hotter,
in noise and with a DC offset; steady noise and a hum are played alone. For each, the generator's motion (neutral, seed 0) gives:

* opening: mean AU25 + AU26 over the clip (the voice at its own level: 0.7-0.8);
* r: Pearson r of that opening with the *clean* clip's loudness per frame (does the mouth follow the words,
  not the noise?);
* pauses: mean opening over the frames that are silent in the clean clip (0 is right).

It also times ``tbd.audio.features`` with and without the level tracker (ms per audio second, median of 5).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_fidelity  # noqa: E402  (its second voice)

RATE = 16000


def conditions(clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Versions of one clean clip [n] float32, by name."""
    n = len(clean)
    noise = rng.standard_normal(n)
    at = lambda x, db: x * 10 ** (db / 20)  # noqa: E731
    return {
        "as recorded": clean,
        "12 dB quieter": at(clean, -12),
        "24 dB quieter": at(clean, -24),
        "32 dB quieter": at(clean, -32),
        "9 dB hotter (clipped)": np.clip(at(clean, 9), -1, 1),
        "room noise at -35 dBFS": clean + at(noise, -35),
        "20 dB quieter, noise at -50 dBFS": at(clean, -20) + at(noise, -50),
        "DC offset 0.1": clean + 0.1,
    }


def alone(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"white noise alone, -30 dBFS": rng.standard_normal(n) * 10 ** (-30 / 20),
            "50 Hz hum alone, 0.2": 0.2 * np.sin(2 * np.pi * 50 * np.arange(n) / RATE)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default="default")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import tbd
    from tbd import audio
    from tbd.assets import speech_path
    from tbd.motion import CHANNELS

    talker = tbd.Talker(*([] if args.generator == "default" else [args.generator]), progress=False)
    plan = talker.plan("neutral")
    lips = [CHANNELS.index("AU25"), CHANNELS.index("AU26")]

    def opening(samples: np.ndarray, level: bool) -> np.ndarray:
        sound = audio.load((samples.astype(np.float32), RATE))
        feats = audio.features(sound, fps=talker.fps, level=audio.LevelConfig() if level else None)
        return talker.generator.sample(plan, feats, seed=0).values[:, lips].sum(axis=1)

    voices = {"bundled speech": audio.load(speech_path()).samples}
    try:
        voices["espeak-ng f3"] = audio.load(bench_fidelity.espeak_clip(Path(tempfile.mkdtemp()))).samples
    except SystemExit as missing:
        print(f"# {missing}: the bundled speech only")
    rng = np.random.default_rng(0)
    print(f"# tbd level benchmark, generator {args.generator}, {platform.machine()} {datetime.date.today()}")
    print("| voice | condition | opening: evened / as recorded | r with the words: evened / as recorded "
          "| pauses: evened / as recorded |")
    print("|---|---|---|---|---|")
    rows = []
    for voice, clean in voices.items():
        loud = audio.features(audio.load((clean, RATE)), fps=talker.fps, level=None).loudness
        pause = loud == 0
        for name, samples in {**conditions(clean, rng), **alone(len(clean), rng)}.items():
            row = {"voice": voice, "condition": name}
            for key, level in (("evened", True), ("as_recorded", False)):
                o = opening(samples, level)
                r = float(np.corrcoef(o, loud[: len(o)])[0, 1]) if o.std() > 1e-6 else float("nan")
                row[key] = {"opening": float(o.mean()), "r": r,
                            "pauses": float(o[pause[: len(o)]].mean()) if pause.any() else float("nan")}
            rows.append(row)
            e, a = row["evened"], row["as_recorded"]
            print(f"| {voice} | {name} | {e['opening']:.2f} / {a['opening']:.2f} | {e['r']:.2f} / {a['r']:.2f} "
                  f"| {e['pauses']:.2f} / {a['pauses']:.2f} |", flush=True)

    minute = np.tile(voices["bundled speech"], 14)[: 60 * RATE]
    sound = audio.load((minute, RATE))
    timing = {}
    for key, level in (("evened", audio.LevelConfig()), ("as_recorded", None)):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            audio.features(sound, fps=talker.fps, level=level)
            runs.append(time.perf_counter() - t0)
        timing[key] = 1000 * float(np.median(runs)) / 60
    print("\n| features, ms per audio second (median of 5, 60 s clip) | evened | as recorded | ratio |\n|---|---|---|---|")
    print(f"| tbd.audio.features | {timing['evened']:.2f} | {timing['as_recorded']:.2f} "
          f"| {timing['evened'] / timing['as_recorded']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "timing_ms_per_s": timing}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
