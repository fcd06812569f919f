"""``tbd eval``: evaluate a rendered video from the command line."""

from __future__ import annotations

import argparse


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add ``eval`` to the ``tbd`` parser's subparsers."""
    from .._cli_guard import number_in
    from ..talker import MAX_FPS, MIN_FPS

    p = subparsers.add_parser("eval", help="read a rendered video with independent detectors (FER, blendshapes, "
                                           "lip sync, blinks, identity, colour)")
    p.add_argument("video", help="a .mp4/.mov/.mkv/.gif file or a folder of PNG frames")
    p.add_argument("--portrait", default=None, help="the source portrait (identity and colour checks)")
    p.add_argument("--audio", default=None, help="the speech (default: the video's soundtrack)")
    p.add_argument("-e", "--emotion", default=None, help="the emotion text the video was asked to show")
    p.add_argument("--baseline", default=None, help="the same portrait rendered neutral (blendshapes relative to it)")
    p.add_argument("--fps", type=number_in(MIN_FPS, MAX_FPS, lo_inclusive=True), default=None,
                   help="frame rate of a PNG folder (default 25)")
    p.add_argument("--json", default=None, help="write the full report here")
    p.add_argument("--sheet", default=None, help="write a contact sheet PNG here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace) -> int:
    from ..export import check_file_output
    from .api import evaluate

    for path, what in ((args.json, "JSON report"), (args.sheet, "contact sheet")):
        if path is not None:
            check_file_output(path, what)  # before the detectors run, not after
    report = evaluate(args.video, portrait=args.portrait, audio=args.audio, emotion=args.emotion,
                      baseline=args.baseline, fps=args.fps, sheet=args.sheet, progress=not args.quiet)
    print(report.table())
    if args.json:
        report.to_json(args.json)
        print(f"wrote {args.json}")
    if args.sheet:
        print(f"wrote {args.sheet}")
    return 0
