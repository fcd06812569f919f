"""DRAW generator quality and speed on held-out corpus clips, with the rig as baseline.

    python benchmarks/bench_generator.py --corpus out/corpus-v3 [--takes 48] [--weights W] [--onnx]
        [--articulation audio|transcript]

Held-out clips: the corpus's ``test`` split (`tbd corpus --split test`: unseen sentences,
seeds and two unseen voices). For each take (one plan on one utterance) it measures

* AU error against the plan, per face region: mean |AU − plan target| over the planned AU
  channels (not the blink or the speech-driven jaw/lip-part channels), after the 0.35 s onset;
* lip-sync: Pearson r between the mouth opening (AU25 + AU26) and the speech loudness, and
  the mouth channels' error against the corpus reference motion (the rig with the visemes of
  the aligned phones);
* guidance ablations on the requested local AUs (the channels of the local tokens, M):
  progressive vs global-only vs local-only vs joint vs none, and on the channels a local
  edit changed (where the emotion label alone cannot know the target);
* speed: real-time factor of the generator on the demo clip (median of repeats).

Rows are means over takes with a 95% bootstrap interval; the rig row is the baseline.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

REGIONS = ("brows", "eyes", "cheeks", "nose", "mouth", "jaw")
SPEECH_CHANNELS = ("AU25", "AU26", "AU27", "AU45")
ONSET_S = 0.35


@dataclass
class TakeScores:
    region: dict[str, float]
    planned: float
    local: float
    edited: float | None
    lip_r: float
    mouth_err: float
    accel: float
    """Smoothness: mean |second difference| of all channels per frame (lower is smoother)."""


def live_values(gen, plan, feats, seed: int, kind: str, guidance=None, steps: int | None = None) -> np.ndarray:
    """Motion from a live stream fed the clip's feature rows (the plan resolved in seconds
    against the clip, as batch does)."""
    from tbd.generator.streaming import DiffusionStream, RigMotionStream, Timeline
    from tbd.plan import clip_duration

    timeline = Timeline(plan.in_seconds(clip_duration(feats.n_frames, feats.fps)), onset=ONSET_S)
    stream = (DiffusionStream(gen, timeline, seed=seed, guidance=guidance, steps=steps) if kind == "diffusion"
              else RigMotionStream(timeline, seed=seed, fps=feats.fps))
    _, values = stream.push(feats.matrix(), final=True)
    return values


def channel_regions() -> dict[str, str]:
    from tbd.emotion.aus import action_unit
    from tbd.motion import channels as ch

    return {c: action_unit(c).region for c in ch.AU_CHANNELS}


def score_take(values: np.ndarray, reference: np.ndarray, plan, loudness: np.ndarray, fps: float,
               local_channels: tuple[str, ...], edited: tuple[str, ...]) -> TakeScores:
    from tbd.motion import channels as ch

    n = values.shape[0]
    target = plan.au_curves(n)
    aus = values[:, ch.indices(ch.AU_CHANNELS)]
    start = min(int(ONSET_S * fps), n - 1)
    err = np.abs(aus - target)[start:].mean(0)  # per AU channel
    regions = channel_regions()
    planned = [i for i, c in enumerate(ch.AU_CHANNELS) if c not in SPEECH_CHANNELS and target[:, i].max() > 0.05]
    region_err = {}
    for r in REGIONS:
        cols = [i for i in planned if regions[ch.AU_CHANNELS[i]] == r]
        region_err[r] = float(err[cols].mean()) if cols else float("nan")
    local_cols = [ch.AU_CHANNELS.index(c) for c in local_channels if c not in SPEECH_CHANNELS]
    edit_cols = [ch.AU_CHANNELS.index(c) for c in edited if c not in SPEECH_CHANNELS]
    mouth = values[:, ch.index("AU25")] + values[:, ch.index("AU26")]
    lip_r = float(np.corrcoef(mouth, loudness)[0, 1]) if mouth.std() > 1e-6 and loudness.std() > 1e-6 else 0.0
    mouth_cols = ch.indices(("AU25", "AU26"))
    return TakeScores(
        region=region_err,
        planned=float(err[planned].mean()) if planned else float("nan"),
        local=float(err[local_cols].mean()) if local_cols else float("nan"),
        edited=float(err[edit_cols].mean()) if edit_cols else None,
        lip_r=lip_r,
        mouth_err=float(np.abs(values[:, mouth_cols] - reference[:, mouth_cols]).mean()),
        accel=float(np.abs(np.diff(values, 2, axis=0)).mean()) if n > 2 else float("nan"),
    )


def mean_ci(xs: list[float], rng: np.random.Generator) -> tuple[float, float, float]:
    a = np.asarray([x for x in xs if x is not None and np.isfinite(x)])
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    boots = [rng.choice(a, a.size).mean() for _ in range(1000)]
    return float(a.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def paired_delta(a: list[float | None], b: list[float | None], rng: np.random.Generator) -> tuple[float, float, float]:
    pairs = np.asarray([(x, y) for x, y in zip(a, b) if x is not None and y is not None
                        and np.isfinite(x) and np.isfinite(y)])
    if pairs.size == 0:
        return float("nan"), float("nan"), float("nan")
    d = pairs[:, 0] - pairs[:, 1]
    boots = [rng.choice(d, d.size).mean() for _ in range(2000)]
    return float(d.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def fmt(m: tuple[float, float, float], digits: int = 4) -> str:
    return f"{m[0]:.{digits}f} [{m[1]:.{digits}f}, {m[2]:.{digits}f}]"


def realtime_factor(generator, repeats: int) -> float:
    from tbd import assets
    from tbd.audio import features, load

    feats = features(load(assets.speech_path()))
    plan = __import__("tbd").think(assets.DEMO_EMOTION)
    generator.sample(plan, feats, seed=0)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        generator.sample(plan, feats, seed=0)
        times.append(time.perf_counter() - t)
    return statistics.median(times) / (feats.n_frames / feats.fps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="corpus folder with a test split")
    parser.add_argument("--weights", default=None, help=".safetensors checkpoint (default: bundled)")
    parser.add_argument("--takes", type=int, default=48, help="held-out takes to evaluate")
    parser.add_argument("--offset", type=int, default=0,
                        help="skip this many takes first (tune settings on one slice, report on another)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=["progressive", "global", "local", "joint", "none"])
    parser.add_argument("--t-star", type=float, nargs="*", default=[], help="extra progressive t* values to sweep")
    parser.add_argument("--w-l", type=float, nargs="*", default=[], help="extra progressive w_l values to sweep")
    parser.add_argument("--w-g", type=float, nargs="*", default=[], help="extra global-only w_g values to sweep")
    parser.add_argument("--no-speed", action="store_true", help="skip the real-time factor measurement")
    parser.add_argument("--onnx", action="store_true", help="also time the ONNX path")
    parser.add_argument("--live", action="store_true", help="also score the live (causal, block-wise) streams")
    parser.add_argument("--live-steps", type=int, nargs="*", default=[],
                        help="extra live rows with these sampler steps per block (implies --live)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--articulation", choices=("audio", "transcript"), default="audio",
                        help="visemes read from the audio (default) or from the clip's aligned phones")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    from tbd.generator.conditions import local_channels
    from tbd.generator.diffusion import DiffusionGenerator
    from tbd.generator.rig import RigGenerator
    from tbd.training.dataset import load_corpus

    clips = load_corpus(args.corpus, split="test")
    if not clips:
        print(f"{args.corpus} has no test split: run `tbd corpus -o {args.corpus} --split test`", file=sys.stderr)
        return 2
    takes = [(clip, t) for clip in clips for t in range(len(clip.motions))][args.offset : args.offset + args.takes]
    gen = DiffusionGenerator(args.weights, steps=args.steps)
    rig = RigGenerator()

    configs: list[tuple[str, dict]] = [("rig", {})]
    configs += [(f"diffusion {m}", {"guidance": m}) for m in args.modes]
    configs += [(f"diffusion progressive t*={t}", {"guidance": "progressive", "t_star": t}) for t in args.t_star]
    configs += [(f"diffusion progressive w_l={w}", {"guidance": "progressive", "w_l": w}) for w in args.w_l]
    configs += [(f"diffusion global w_g={w}", {"guidance": "global", "w_g": w}) for w in args.w_g]
    if args.live or args.live_steps:
        from tbd.generator.streaming import STREAM_STEPS

        steps = f"{STREAM_STEPS} step{'s' if STREAM_STEPS > 1 else ''}"
        configs += [("rig live", {"live": "rig"}), (f"diffusion live (default: {steps}, guidance none)", {"live": "diffusion"}),
                    (f"diffusion live ({steps}, progressive)", {"live": "diffusion", "guidance": "progressive"})]
        configs += [(f"diffusion live ({n} steps, guidance none)", {"live": "diffusion", "steps": n}) for n in args.live_steps]

    from pathlib import Path

    from tbd.audio import features, load

    scores: dict[str, list[TakeScores]] = {name: [] for name, _ in configs}
    started = time.perf_counter()
    for k, (clip, t) in enumerate(takes):
        plan = clip.plans[t]
        feats = features(load(Path(args.corpus) / "clips" / f"{clip.id}.wav"), fps=25.0)
        loud = feats.loudness
        edited = tuple(e["channel"] for e in clip.info["takes"][t]["edits"] if e["op"] in ("add", "scale"))
        locals_ = local_channels(plan)
        art = None
        if args.articulation == "transcript" and clip.info.get("phones"):
            from tbd.articulation import from_phones
            from tbd.articulation.align import Segment

            art = from_phones([Segment(**p) for p in clip.info["phones"]], feats.n_frames, feats.fps)
        for name, opts in configs:
            if name == "rig":
                values = rig.sample(plan, feats, seed=k, articulation=art).values
            elif "live" in opts:
                values = live_values(gen, plan, feats, k, opts["live"], opts.get("guidance"), opts.get("steps"))
            else:
                values = gen.sample(plan, feats, seed=k, articulation=art, **opts).values
            scores[name].append(score_take(values, clip.motions[t], plan, loud, 25.0, locals_, edited))
        if (k + 1) % 8 == 0:
            print(f"  {k + 1}/{len(takes)} takes, {time.perf_counter() - started:.0f} s", file=sys.stderr)

    rng = np.random.default_rng(0)
    weights = gen.weights_name
    print(f"# DRAW generator benchmark: {len(takes)} held-out takes (from #{args.offset}) of the "
          f"{len(clips)} test clips of {args.corpus}")
    print(f"# articulation: {args.articulation} (live rows: always the audio)")
    print(f"# weights {weights}, sampler {gen.default_sampler}, {gen.default_steps} steps, "
          f"text encoder {gen.meta.text_encoder}; machine: {platform.machine()}, {torch.get_num_threads()} threads")
    print()
    print("## AU error against the plan, per region (mean |AU - target|, lower is better)")
    print("| generator | " + " | ".join(REGIONS) + " | all planned |")
    print("|---|" + "---|" * (len(REGIONS) + 1))
    for name, _ in configs:
        s = scores[name]
        cells = [f"{np.nanmean([x.region[r] for x in s]):.4f}" for r in REGIONS]
        print(f"| {name} | " + " | ".join(cells) + f" | {fmt(mean_ci([x.planned for x in s], rng))} |")
    print()
    print("## Lip-sync (r: mouth opening vs loudness, higher is better; error vs reference mouth, lower is better)")
    print("| generator | r(AU25+AU26, loudness) | mouth error vs reference | mean abs second difference (smoothness) |")
    print("|---|---|---|---|")
    for name, _ in configs:
        s = scores[name]
        print(f"| {name} | {fmt(mean_ci([x.lip_r for x in s], rng), 3)} | {fmt(mean_ci([x.mouth_err for x in s], rng))} | "
              f"{fmt(mean_ci([x.accel for x in s], rng))} |")
    print()
    print("## Guidance ablation on the requested local AUs (mean |AU - target| on the local tokens' channels)")
    base = "diffusion progressive"
    n_edit = sum(x.edited is not None for x in scores[base]) if base in scores else 0
    print(f"| generator | local AUs | edited AUs ({n_edit} takes) | local: delta vs progressive [95% CI] |")
    print("|---|---|---|---|")
    for name, _ in configs:
        s = scores[name]
        delta = paired_delta([x.local for x in s], [x.local for x in scores[base]], rng) if base in scores else None
        print(f"| {name} | {fmt(mean_ci([x.local for x in s], rng))} | {fmt(mean_ci([x.edited for x in s], rng))} | "
              + (f"{fmt(delta)} |" if delta else "|"))
    print()
    if args.no_speed:
        print(f"\n({time.perf_counter() - started:.0f} s)")
        return 0
    print("## Speed (real-time factor on the demo clip: generation time / audio duration, median)")
    print("| generator | RTF |")
    print("|---|---|")
    print(f"| rig | {realtime_factor(rig, args.repeats):.4f} |")
    print(f"| diffusion (torch, progressive) | {realtime_factor(gen, args.repeats):.3f} |")
    if args.onnx:
        import tempfile

        from tbd.generator.export import export_onnx
        from tbd.generator.onnx_generator import OnnxGenerator

        with tempfile.TemporaryDirectory() as tmp:
            path = export_onnx(f"{tmp}/denoiser.onnx", generator=gen)
            print(f"| diffusion (onnxruntime, progressive) | {realtime_factor(OnnxGenerator(path), args.repeats):.3f} |")
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
