"""The generator's commands for the ``tbd`` tool: ``corpus``, ``train``, ``export-onnx``.

``tbd.cli`` calls ``add_cli(subparsers)``; each command sets ``handler`` on its namespace.
"""

from __future__ import annotations

import argparse
import shlex


def add_cli(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``corpus``, ``train``, ``train-visemes`` and ``export-onnx`` on the ``tbd`` parser's subparsers."""
    p = subparsers.add_parser("corpus", help="generate the built-in training corpus (espeak-ng speech + rig motion)")
    p.add_argument("-o", "--output", required=True, help="corpus folder (created; an existing corpus is extended)")
    p.add_argument("--clips", type=int, default=1200, help="utterances to generate (default 1200)")
    p.add_argument("--takes", type=int, default=None,
                   help="random plans per utterance (default 3; with --refresh-motion: add takes up to this many)")
    p.add_argument("--split", default="train", choices=("train", "test"),
                   help="'test' also uses held-out voices (default train)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--no-align", action="store_true", help="skip pocketsphinx forced alignment")
    p.add_argument("--festival", action="store_true",
                   help="festival voices (another synthesiser) speak a share of the utterances "
                        "(training.corpus.FESTIVAL_SHARE); apt-get install festival festvox-kdlpc16k")
    p.add_argument("--refresh-motion", action="store_true",
                   help="remake the motion of an existing corpus with this tbd's rig (keeps speech and alignment)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_corpus)

    p = subparsers.add_parser("train", help="train the DRAW motion denoiser (works under torchrun)")
    p.add_argument("data", nargs="+", help="corpus folders (from `tbd corpus`) or real-data folders")
    p.add_argument("-o", "--output", required=True, help="checkpoint to write (.safetensors)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--d-model", type=int, default=192)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--p-drop-global", type=float, default=0.2, help="dropout of the global tokens g")
    p.add_argument("--p-drop-local", type=float, default=0.2, help="dropout of the local tokens L")
    p.add_argument("--text-encoder", default="auto", choices=("auto", "minilm", "hash"))
    # conditions.LOCAL_SCOPES, spelled out: importing conditions here adds 0.2 s to every CLI start.
    p.add_argument("--local-scope", default="planned", choices=("planned", "expression"),
                   help="channels the local condition governs: the planned AUs (default, as draw-v4), or also "
                        "every expression AU at rest (the draw-v5 candidate)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall time")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads per process")
    p.add_argument("--resume", default=None, help="checkpoint (or its .state.safetensors) to continue from")
    p.add_argument("--no-articulation", dest="articulation", action="store_false",
                   help="do not condition on the visemes stored in the corpus")
    p.set_defaults(handler=_train)

    p = subparsers.add_parser("train-visemes", help="train the audio-to-viseme classifier on a corpus")
    p.add_argument("data", help="a corpus folder from `tbd corpus` (aligned)")
    p.add_argument("-o", "--output", required=True, help="the .npz weights to write")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_train_visemes)

    p = subparsers.add_parser("export-onnx", help="export the DRAW denoiser to ONNX (dynamic length)")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--weights", default=None, help="a .safetensors checkpoint (default: the bundled one)")
    p.set_defaults(handler=_export)


def _corpus(args: argparse.Namespace) -> int:
    from ..training.corpus import FESTIVAL_SHARE, CorpusConfig, make_corpus, refresh_motion

    if args.refresh_motion:
        n = refresh_motion(args.output, takes=args.takes, progress=not args.quiet)
        print(f"remade the motion of {n} clips in {args.output}")
        return 0
    takes = 3 if args.takes is None else args.takes
    cfg = CorpusConfig(n_clips=args.clips, takes=takes, split=args.split, seed=args.seed, fps=args.fps,
                       align=not args.no_align, festival_share=FESTIVAL_SHARE if args.festival else 0.0)
    out = make_corpus(args.output, cfg, progress=not args.quiet)
    print(f"wrote {cfg.n_clips} {cfg.split} clips x {cfg.takes} takes to {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ..training.dataset import SamplerConfig
    from ..training.trainer import TrainConfig, main_from_args

    cfg = TrainConfig(
        data=list(args.data), out=args.output, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        warmup=args.warmup, ema_decay=args.ema_decay, d_model=args.d_model, n_layers=args.layers,
        n_heads=args.heads, text_encoder=args.text_encoder, seed=args.seed, log_every=args.log_every,
        save_every=args.save_every, max_minutes=args.max_minutes, threads=args.threads, resume=args.resume,
        sampler=SamplerConfig(p_drop_global=args.p_drop_global, p_drop_local=args.p_drop_local),
        articulation=args.articulation, local_scope=args.local_scope, command=_train_command(args),
    )
    return main_from_args(cfg)


def _train_visemes(args: argparse.Namespace) -> int:
    from ..articulation.training import VisemeTrainConfig, train_visemes

    train_visemes(args.data, args.output, config=VisemeTrainConfig(epochs=args.epochs, seed=args.seed))
    return 0


def _train_command(args: argparse.Namespace) -> str:
    """The full ``tbd train`` command line of ``args`` (every option spelled out, to reproduce the run)."""
    parts = ["tbd", "train", *args.data, "-o", args.output]
    for name, value in sorted(vars(args).items()):
        if name in ("data", "output", "handler", "command") or value is None:
            continue
        if name == "articulation":
            parts += [] if value else ["--no-articulation"]
            continue
        parts += [f"--{name.replace('_', '-')}", str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def _export(args: argparse.Namespace) -> int:
    from .export import export_onnx

    path = export_onnx(args.output, args.weights)
    print(f"wrote {path}")
    return 0
