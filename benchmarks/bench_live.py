"""Live sessions: first-frame latency, lookahead, paced frame delay, CPU per audio second, memory.

    python -m benchmarks.bench_live                      # everything below, default generator
    python -m benchmarks.bench_live --paced-s 60 --long-minutes 10 --generators default rig

* first frame: a fresh session, chunks of 20 ms paced in real time; the time from the moment
  the first chunk had arrived to the first frame out (motion only, and rendered at 256 px);
* lookahead: ``session.latency``;
* paced run: ``--paced-s`` of speech pushed in real time in 20 ms chunks; per frame, the
  moment it came out minus the moment the audio up to its end had arrived (p50, p99); CPU
  seconds (this process) per audio second, motion only and rendered;
* long runs, each in a fresh subprocess: ``--long-minutes`` of speech through
  ``Talker.animate(...).save("x.mp4")`` at 512 px, and a motion-only live session of the same
  length; peak RSS after every minute.
Prints a markdown table; ``--json`` writes the raw numbers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def speech(seconds: float) -> np.ndarray:
    from tbd import assets, audio

    s = audio.load(str(assets.speech_path())).samples
    reps = int(np.ceil(seconds * 16000 / len(s)))
    return np.tile(s, reps)[: int(seconds * 16000)]


def first_frame(talker, avatar, samples: np.ndarray, repeats: int) -> list[float]:
    out = []
    for r in range(repeats):
        session = talker.stream(avatar, emotion="happy", seed=r)
        chunk = 320
        t0 = time.perf_counter()
        arrived = None
        for start in range(0, len(samples), chunk):
            due = t0 + (start + chunk) / 16000
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if arrived is None:
                arrived = time.perf_counter()
            if session.push(samples[start : start + chunk]):
                out.append(time.perf_counter() - arrived)
                break
        session.close()
    return out


def paced(talker, avatar, samples: np.ndarray) -> dict:
    from tbd.live.runner import RunStats, drive

    session = talker.stream(avatar, emotion="calm", seed=0)
    stats = RunStats()
    for _ in drive(session, samples, 16000, chunk_s=0.02, realtime=True, stats=stats):
        pass
    return {**stats.summary(), "lookahead_ms": round(1000 * session.latency, 1)}


LONG = r"""
import json, resource, sys, time, numpy as np
sys.path.insert(0, ROOT)
import tbd
from tbd import assets
from benchmarks.bench_live import speech
kind, minutes, generator, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():  # peak RSS of this process in MB (VmHWM: ru_maxrss would include the parent's, kept across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
talker = tbd.Talker(None if generator == "default" else generator, progress=False, threads=1)
marks = []
t0 = time.perf_counter()
if kind == "mp4":
    samples = speech(60 * minutes)
    anim = talker.animate(str(assets.portrait_path()), (samples, 16000), "calm", size=512)
    marks.append(("generated", rss()))
    done = [0]
    frames = anim.iter_frames
    def counting():
        for chunk in frames():
            done[0] += len(chunk)
            if done[0] % 1500 < len(chunk):
                marks.append((f"{done[0] / 1500:.0f} min", rss()))
            yield chunk
    anim.iter_frames = counting
    anim.save(out)
else:
    session = talker.stream(None, emotion="calm", seed=0)
    minute = speech(60)
    for m in range(int(minutes)):
        for i in range(0, len(minute), 320):
            session.push(minute[i : i + 320])
        session.flush()
        marks.append((f"{m + 1} min", rss()))
print(json.dumps({"kind": kind, "minutes": minutes, "wall_s": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(rss(), 1), "marks": marks}))
"""


def long_run(kind: str, minutes: float, generator: str) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "long.mp4")
        res = subprocess.run([sys.executable, "-c", LONG.replace("ROOT", repr(root)), kind, str(minutes), generator, out],
                             capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(res.stderr[-2000:])
        return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", nargs="+", default=["default", "rig"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--paced-s", type=float, default=60.0)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--long-generator", default="rig")
    parser.add_argument("--no-long", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    import tbd
    from tbd import assets

    rows, raw = [], {}
    clip = speech(3.0)
    for gen in args.generators:
        talker = tbd.Talker(None if gen == "default" else gen, progress=False, threads=args.threads)
        avatar = talker.prepare(str(assets.portrait_path()), size=256)
        first_frame(talker, None, clip, 1)  # warm-up (imports, caches)
        motion_ff = first_frame(talker, None, clip, args.repeats)
        render_ff = first_frame(talker, avatar, clip, args.repeats)
        long_clip = speech(args.paced_s)
        p_motion = paced(talker, None, long_clip)
        p_render = paced(talker, avatar, long_clip)
        name = talker.generator.name
        raw[gen] = {"first_frame_motion_s": motion_ff, "first_frame_render_s": render_ff,
                    "paced_motion": p_motion, "paced_render": p_render}
        rows.append((name, p_motion["lookahead_ms"], 1000 * float(np.median(motion_ff)),
                     1000 * float(np.median(render_ff)), p_motion, p_render))
    print(f"bench_live {datetime.date.today()}; machine: {platform.machine()} {os.cpu_count()} CPUs; python "
          f"{platform.python_version()}; torch threads {args.threads}; paced run {args.paced_s:g} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    print()
    print("| generator | lookahead ms | first frame ms, motion only | first frame ms, rendered 256 px | "
          "paced p50 / p99 frame delay ms, motion only | paced p50 / p99 ms, rendered | CPU s per audio s, motion only | "
          "CPU s per audio s, rendered |")
    print("|---|---|---|---|---|---|---|---|")
    for name, la, mff, rff, pm, pr in rows:
        print(f"| {name} | {la:.0f} | {mff:.0f} | {rff:.0f} | {pm['delay_p50_ms']:.0f} / {pm['delay_p99_ms']:.0f} | "
              f"{pr['delay_p50_ms']:.0f} / {pr['delay_p99_ms']:.0f} | {pm['cpu_per_audio_s']:.3f} | {pr['cpu_per_audio_s']:.3f} |")
    if not args.no_long:
        for kind in ("mp4", "session"):
            res = long_run(kind, args.long_minutes, args.long_generator)
            raw[f"long_{kind}"] = res
            marks = ", ".join(f"{k}: {v:.0f}" for k, v in res["marks"][:: max(1, len(res["marks"]) // 10)])
            print(f"\nlong run ({kind}, {args.long_generator}, {res['minutes']:g} min of speech{', 512 px' if kind == 'mp4' else ''}): "
                  f"peak RSS {res['peak_rss_mb']:.0f} MB, wall {res['wall_s']:.0f} s; RSS MB by progress: {marks}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
