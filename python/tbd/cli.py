"""The ``tbd`` command: think, animate, demo (and the generator's train/corpus/export-onnx)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from typing import Sequence

from . import __version__
from .errors import TbdError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tbd", description="Think-Before-Draw expressive talking heads.")
    parser.add_argument("--version", action="version", version=f"tbd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("think", help="turn emotion text into a FACS plan")
    p.add_argument("text", help="free-text emotion, e.g. 'nervous but hopeful'")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--backend", default="auto", help="'auto', 'rules', a local model path or an http(s) URL")

    def add_render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-o", "--output", required=True, help=".mp4, .gif, .json, .csv, or a folder for PNGs")
        p.add_argument("--generator", default=None, help="'rig', a .safetensors or .onnx file (default: bundled)")
        p.add_argument("--size", type=int, default=None, help="resize the portrait's longer side to this")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--fps", type=float, default=25.0)
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("animate", help="animate a portrait with speech and an emotion")
    p.add_argument("image")
    p.add_argument("audio")
    p.add_argument("-e", "--emotion", default="", help="free-text emotion (default: neutral)")
    add_render_options(p)

    from .assets import DEMO_EMOTION

    p = sub.add_parser("demo", help="animate the bundled portrait and speech")
    p.add_argument("-e", "--emotion", default=DEMO_EMOTION, help=f"default: {DEMO_EMOTION!r}")
    add_render_options(p)

    try:
        from .generator.cli import add_cli
    except ImportError:
        pass
    else:
        add_cli(sub)
    from .evaluate.cli import register as add_eval_cli
    add_eval_cli(sub)
    return parser


def _think(args: argparse.Namespace) -> int:
    from .emotion import format_plan, think

    plan = think(args.text, backend=args.backend)
    print(json.dumps(plan.to_dict(), indent=2) if args.json else format_plan(plan))
    return 0


def _animate(args: argparse.Namespace) -> int:
    from .export import check_output_path
    from .talker import Talker

    check_output_path(args.output, inputs=(args.image, args.audio))
    started = time.perf_counter()
    talker = Talker(args.generator, fps=args.fps, progress=not args.quiet)
    anim = talker.animate(args.image, args.audio, args.emotion, seed=args.seed, size=args.size)
    anim.save(args.output)
    elapsed = time.perf_counter() - started
    duration = anim.motion.duration
    print(
        f"wrote {args.output}: {anim.motion.n_frames} frames at {anim.fps:g} fps ({duration:.2f} s), "
        f"{elapsed:.1f} s to make (real-time factor {elapsed / duration:.2f}), generator {anim.meta['generator']}"
    )
    for line in anim.plan.steps:
        print(f"  think: {line}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import assets

    args.image, args.audio = str(assets.portrait_path()), str(assets.speech_path())
    return _animate(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"think": _think, "animate": _animate, "demo": _demo}
    handler = handlers.get(args.command, getattr(args, "handler", None))
    warnings.simplefilter("default")
    try:
        return handler(args)
    except TbdError as exc:
        print(f"tbd: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
