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
from ._cli_guard import Interrupted, int_in, native_logs_silenced, number_in, printable, signals_interrupt
from .errors import TbdError

AS_RECORDED_HELP = "skip the recording's evening out (DC offset removed, quiet voice raised, steady noise gated)"


def _audio_level(args: argparse.Namespace):
    """The Talker's ``audio_level`` for ``--audio-as-recorded`` (None) or its absence (the defaults)."""
    from .audio import LevelConfig

    return None if args.audio_as_recorded else LevelConfig()


def _parser() -> argparse.ArgumentParser:
    from .image import MAX_SIZE, MIN_SIZE
    from .talker import MAX_FPS, MIN_FPS

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
        p.add_argument("--size", type=int_in(MIN_SIZE, MAX_SIZE), default=None,
                       help=f"resize the portrait's longer side to this ({MIN_SIZE}..{MAX_SIZE} px)")
        p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
        p.add_argument("--fps", type=number_in(MIN_FPS, MAX_FPS, lo_inclusive=True), default=25.0,
                       help=f"frame rate ({MIN_FPS:g} to {MAX_FPS:g})")
        p.add_argument("--backend", default="auto", help="emotion text reader: 'auto', 'rules', a local model "
                                                          "path or an http(s) URL (an LLM reads other languages)")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        p.add_argument("--audio-as-recorded", action="store_true", help=AS_RECORDED_HELP)

    p = sub.add_parser("animate", help="animate a portrait with speech and an emotion")
    p.add_argument("image")
    p.add_argument("audio")
    p.add_argument("-e", "--emotion", default="neutral", help="free-text emotion (default: neutral)")
    p.add_argument("--transcript", default=None,
                   help="the words spoken (text, or @FILE): aligned for exact lip shapes (needs tbd[align])")
    add_render_options(p)

    from .assets import DEMO_EMOTION

    p = sub.add_parser("demo", help="animate the bundled portrait and speech")
    p.add_argument("-e", "--emotion", default=DEMO_EMOTION, help=f"default: {DEMO_EMOTION!r}")
    add_render_options(p)

    p = sub.add_parser("live", help="run a live session over an audio file (20 ms chunks), print latency")
    p.add_argument("audio")
    p.add_argument("image", nargs="?", default=None, help="portrait (default: the bundled one; none with --no-render)")
    p.add_argument("-e", "--emotion", default="neutral", help="free-text emotion (default: neutral)")
    p.add_argument("-o", "--output", default=None, help=".mp4 (needs rendering), .json or .csv curves")
    p.add_argument("--no-render", action="store_true", help="motion and blendshapes only")
    p.add_argument("--realtime", action="store_true", help="pace the chunks like a microphone")
    p.add_argument("--chunk-ms", type=number_in(0, 10000), default=20.0)
    p.add_argument("--transcript", default=None, help="the words spoken (text, or @FILE): visemes follow the text")
    p.add_argument("--generator", default=None, help="'rig', a .safetensors or .onnx file (default: bundled)")
    p.add_argument("--size", type=int_in(MIN_SIZE, MAX_SIZE), default=256,
                   help="longer side of the rendered frames (default 256)")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    p.add_argument("--threads", type=int_in(1, 1024), default=1, help="torch threads (default 1)")
    p.add_argument("--backend", default="auto", help="emotion text reader (see tbd think --backend)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--audio-as-recorded", action="store_true", help=AS_RECORDED_HELP)
    p.add_argument("--vmc", metavar="HOST:PORT", type=_vmc_address, default=None,
                   help="send each frame to a VMC receiver (VSeeFace, VNyan...); default port 39539; tbd[vmc]")
    p.add_argument("--vrm", type=int, choices=(0, 1), default=None, help="with --vmc: also send VRM 0.x or 1.0 presets")
    p.set_defaults(handler=_live)

    try:
        from .generator.cli import add_cli
    except ImportError:
        pass
    else:
        add_cli(sub)
    from .evaluate.cli import register as add_eval_cli
    add_eval_cli(sub)
    return parser


def _vmc_address(text: str) -> tuple[str, int]:
    from .integrations import parse_address

    try:
        return parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _think(args: argparse.Namespace) -> int:
    from .emotion import format_plan, think

    plan = think(args.text, backend=args.backend)
    print(json.dumps(plan.to_dict(), indent=2) if args.json else printable(format_plan(plan)))
    return 0


def _animate(args: argparse.Namespace) -> int:
    from .export import check_output_path
    from .talker import Talker

    check_output_path(args.output, inputs=(args.image, args.audio))
    started = time.perf_counter()
    talker = Talker(args.generator, fps=args.fps, progress=not args.quiet, think_backend=args.backend,
                    audio_level=_audio_level(args))
    anim = talker.animate(args.image, args.audio, args.emotion, seed=args.seed, size=args.size,
                          transcript=_transcript(getattr(args, "transcript", None)))
    anim.save(args.output)
    elapsed = time.perf_counter() - started
    duration = anim.motion.duration
    print(
        f"wrote {args.output}: {anim.motion.n_frames} frames at {anim.fps:g} fps ({duration:.2f} s), "
        f"{elapsed:.1f} s to make (real-time factor {elapsed / duration:.2f}), generator {anim.meta['generator']}"
    )
    for line in anim.plan.steps:
        print(f"  think: {printable(line)}")
    return 0


def _transcript(value: str | None) -> str | None:
    """``--transcript``: the text itself, or ``@path`` to read it from a file."""
    if value is None or not value.startswith("@"):
        return value
    from .errors import PlanError

    try:
        with open(value[1:], encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise PlanError(f"cannot read the transcript file {value[1:]!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PlanError(f"the transcript file {value[1:]!r} is not UTF-8 text (byte {exc.start}); "
                        "save it as UTF-8 or pass the words with --transcript \"...\"") from exc


def _demo(args: argparse.Namespace) -> int:
    from . import assets

    args.image, args.audio = str(assets.portrait_path()), str(assets.speech_path())
    from .articulation.align import pocketsphinx_available

    args.transcript = assets.speech_text() if pocketsphinx_available() else None
    return _animate(args)


def _live(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from . import assets
    from . import audio as audio_mod
    from .export import check_output_path, output_kind, write_curves, write_video
    from .live.runner import RunStats, drive
    from .motion import Motion
    from .talker import Talker

    render = not args.no_render
    if args.output:
        check_output_path(args.output, inputs=(args.audio, args.image))
        if output_kind(args.output) not in ("video", "curves") or (output_kind(args.output) == "video" and not render):
            print("tbd: error: -o takes .mp4 (with rendering) or .json/.csv", file=sys.stderr)
            return 2
    sound = audio_mod.load(args.audio)
    talker = Talker(args.generator, progress=False, threads=args.threads, think_backend=args.backend,
                    audio_level=_audio_level(args))
    avatar = talker.prepare(args.image or str(assets.portrait_path()), size=args.size) if render else None
    session = talker.stream(avatar, emotion=args.emotion, seed=args.seed, transcript=_transcript(args.transcript))
    stats = RunStats()
    kept: list = []
    vmc = None
    if args.vmc:
        from .integrations.vmc import VMCConfig, VMCSender

        vmc = VMCSender(*args.vmc, vrm=args.vrm, config=VMCConfig(pace=args.realtime))

    def on_frames(fs: list) -> None:
        kept.extend(f.values for f in fs)
        if vmc is not None:
            vmc.send_frames(fs)

    batches = drive(session, sound.samples, sound.rate, chunk_s=args.chunk_ms / 1000, realtime=args.realtime,
                    stats=stats, on_frames=on_frames)
    if args.output and output_kind(args.output) == "video":
        write_video(Path(args.output), (np.stack([f.image for f in fs]) for fs in batches), talker.fps,
                    sound.samples, sound.rate)
    else:
        for _ in batches:
            pass
    if args.output and output_kind(args.output) == "curves":
        write_curves(Path(args.output), Motion(np.stack(kept), fps=talker.fps, meta={"generator": session.generator_name}))
    summary = stats.summary()
    print(f"live: generator {session.generator_name}, lookahead {1000 * session.latency:.0f} ms, "
          f"{summary['frames']} frames for {summary['audio_s']:.2f} s of audio in {args.chunk_ms:g} ms chunks"
          + (" (paced)" if args.realtime else ""))
    print(f"  first frame after {summary['first_frame_ms']} ms; CPU {summary['cpu_per_audio_s']:.3f} s per audio s; "
          f"wall {summary['wall_s']:.2f} s" + (f"; frame delay p50 {summary['delay_p50_ms']} ms, "
                                               f"p99 {summary['delay_p99_ms']} ms" if args.realtime else ""))
    if vmc is not None:
        vmc.close()
        print(f"  sent {vmc.sent} VMC bundles to {vmc.host}:{vmc.port}")
    if args.output:
        print(f"  wrote {args.output}")
    session.close()
    return 0


def _one_line(message: object, newline: str) -> str:
    """``message`` safe to print as one terminal line: escape codes stripped, newlines (e.g. quoted
    from a file name) shown as ``newline``."""
    return printable(str(message)).replace("\n", newline)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The text encoder's loader (transformers) draws its own "Loading weights" bar: not tbd's progress.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    handlers = {"think": _think, "animate": _animate, "demo": _demo}
    handler = handlers.get(args.command, getattr(args, "handler", None))
    warnings.simplefilter("default")
    format_warning = warnings.formatwarning
    # One line per warning, as the errors are (they may quote the input: escape codes stripped).
    warnings.formatwarning = lambda message, *a, **k: f"tbd: warning: {_one_line(message, ' ')}\n"
    try:
        with signals_interrupt(), native_logs_silenced():
            return handler(args)
    except TbdError as exc:
        print("tbd: error: " + _one_line(exc, "\\n"), file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        name = str(exc) if isinstance(exc, Interrupted) else "SIGINT"
        print(f"tbd: interrupted ({name}); stopped, no output file was left", file=sys.stderr)
        return code
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        warnings.formatwarning = format_warning


if __name__ == "__main__":
    sys.exit(main())
