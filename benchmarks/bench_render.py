"""Renderer speed per frame: renderer v2 (appearance maps, sclera) against the same renderer with appearance off.

    python benchmarks/bench_render.py [--sizes 256 512] [--rounds 7] [--emotion furious]

Bundled portrait resized so its longer side is ``size`` px; motion from the rig for the bundled
speech and ``--emotion``. Each round renders the whole clip once with appearance off (the
baseline: geometry, mouth, lids as in round 1) and once with it on, alternating; the table gives
the median ms per frame of each and the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--emotion", default="furious")
    args = parser.parse_args(argv)

    import tbd
    from tbd import assets, face
    from tbd.image import load_image
    from tbd.render import Renderer, RenderConfig

    motion = tbd.Talker("rig", progress=False).motion(assets.speech_path(), args.emotion, seed=0)
    print(f"# bench_render: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"{motion.n_frames} frames, emotion {args.emotion!r}, {args.rounds} rounds")
    print("| size | appearance off ms/frame | v2 (appearance on) ms/frame | ratio on/off |")
    print("|---|---|---|---|")
    for size in args.sizes:
        image, _ = load_image(assets.portrait_path(), size=size)
        found = face.detect(image)
        renderers = [Renderer(image, found, config=RenderConfig(appearance=False)), Renderer(image, found)]
        for r in renderers:  # warm-up
            r.render(motion, progress=False)
        times: list[list[float]] = [[], []]
        for _ in range(args.rounds):
            for k, r in enumerate(renderers):
                started = time.perf_counter()
                r.render(motion, progress=False)
                times[k].append((time.perf_counter() - started) / motion.n_frames * 1e3)
        ratios = [on / off for off, on in zip(*times)]
        print(f"| {size} | {statistics.median(times[0]):.2f} | {statistics.median(times[1]):.2f} | "
              f"{statistics.median(ratios):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
