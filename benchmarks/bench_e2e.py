"""End-to-end real-time factor of the demo (bundled portrait, speech and emotion), per stage.

    python benchmarks/bench_e2e.py [--sizes 256 512] [--generators default rig] [--repeats 3]

Real-time factor = wall time to make the video / duration of the audio (below 1 is faster
than real time). Each row is the median of ``--repeats`` warm runs; stage times are medians
too. The first run of each configuration (model and detector loading included, in a process
that has already run the configurations above it) is reported apart.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings

STAGES = ("audio", "think", "face", "generate", "render+save")  # frames are rendered while the mp4 is written


def run_once(talker, size: int, out_dir: str) -> dict[str, float]:
    from tbd import assets

    started = time.perf_counter()
    anim = talker.animate(assets.portrait_path(), assets.speech_path(), assets.DEMO_EMOTION, size=size)
    saved = time.perf_counter()
    anim.save(os.path.join(out_dir, f"bench_{size}.mp4"))
    done = time.perf_counter()
    timings = dict(anim.meta["timings"])
    timings["render+save"] = done - saved
    timings["total"] = done - started
    timings["duration"] = anim.motion.duration
    timings["generator"] = anim.meta["generator"]
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--generators", nargs="+", default=["default", "rig"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import tbd

    warnings.simplefilter("ignore")
    print(f"# tbd {tbd.__version__} end-to-end demo benchmark")
    print(f"# {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    header = ["generator", "size", "clip s", *[f"{s} s" for s in STAGES], "total s", "RTF", "first-run RTF"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as out_dir:
        for name in args.generators:
            talker = tbd.Talker(None if name == "default" else name, progress=False, threads=1)
            for size in args.sizes:
                first = run_once(talker, size, out_dir)  # warm-up: model loads, caches
                runs = [run_once(talker, size, out_dir) for _ in range(args.repeats)]
                med = {k: statistics.median(r[k] for r in runs) for k in (*STAGES, "total", "duration")}
                cells = [runs[0]["generator"], str(size), f"{med['duration']:.2f}",
                         *[f"{med[s]:.3f}" for s in STAGES], f"{med['total']:.2f}",
                         f"{med['total'] / med['duration']:.2f}", f"{first['total'] / first['duration']:.2f}"]
                print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
