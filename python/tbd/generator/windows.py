"""Windowed generation shared by the torch and the onnxruntime denoisers.

Motion is generated in windows of ``meta.window`` frames (about 4 s); each window after the
first starts ``overlap`` frames (or more, for a short last window) before the previous one
ended, and those frames enter the model as known context, so the next window continues the
previous one and any audio length works. Conditions, noise, windowing and normalisation are
numpy; only the denoiser call goes through a backend (torch module or ONNX session), and the
sampler math runs on the backend's arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..articulation.coarticulation import N_ARTICULATION_FEATURES, Articulation
from ..articulation.mouth import apply_speech_rules, loudness_opening
from ..articulation.sources import from_audio
from ..audio import AudioFeatures
from ..errors import WeightsError
from ..motion import channels as ch
from ..motion import Motion
from ..plan import EmotionPlan
from .adherence import limit_unplanned
from .checkpoint import ModelMeta
from .conditions import Conditions, EmbeddingTable, build_conditions, clip_global, local_targets
from .guidance import ProgressiveGuidance, as_guidance
from .sampling import get_sampler, get_sigmas_karras

Array = Any


class DenoiserBackend(Protocol):
    """Runs the denoiser on one array type (torch tensors or numpy arrays)."""

    def asarray(self, a: np.ndarray) -> Array: ...

    def to_numpy(self, a: Array) -> np.ndarray: ...

    def repeat(self, x: Array, n: int) -> Array: ...

    def denoise(self, x: Array, sigma: float, inputs: dict[str, Array]) -> Array: ...


@dataclass(frozen=True)
class Window:
    """Frames ``[start, stop)``; the first ``known`` of them are already generated."""

    start: int
    stop: int
    known: int


def plan_windows(n_frames: int, window: int, overlap: int) -> list[Window]:
    """Cover ``n_frames`` with windows of ``window`` frames overlapping by ``overlap``;
    the last window is moved back to full length (with more known frames) when it would be short."""
    if n_frames <= 0:
        raise ValueError(f"need at least one frame, got {n_frames}")
    if not 0 <= overlap < window:
        raise ValueError(f"overlap must be in 0..window-1, got {overlap} for window {window}")
    out = [Window(0, min(window, n_frames), 0)]
    while out[-1].stop < n_frames:
        done = out[-1].stop
        start = done - overlap
        stop = min(start + window, n_frames)
        if stop - start < window:
            start = max(0, n_frames - window)
        out.append(Window(start, stop, done - start))
    return out


def resample_time(values: np.ndarray, n_out: int) -> np.ndarray:
    """Linear interpolation of ``values`` [T, ...] to ``n_out`` rows over the same duration."""
    n_in = values.shape[0]
    if n_in == n_out:
        return values
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    lo = np.clip(np.floor(src).astype(np.int64), 0, n_in - 1)
    hi = np.clip(lo + 1, 0, n_in - 1)
    frac = np.clip(src - lo, 0.0, 1.0).reshape(-1, *([1] * (values.ndim - 1)))
    return ((1 - frac) * values[lo] + frac * values[hi]).astype(values.dtype)


def clip_motion(values: np.ndarray) -> np.ndarray:
    """Clamp AUs to 0..1 and gaze to -1..1 (in place) and return ``values``."""
    values[:, ch.indices(ch.AU_CHANNELS)] = np.clip(values[:, ch.indices(ch.AU_CHANNELS)], 0.0, 1.0)
    values[:, ch.indices(ch.GAZE_CHANNELS)] = np.clip(values[:, ch.indices(ch.GAZE_CHANNELS)], -1.0, 1.0)
    return values


def window_inputs(
    audio: np.ndarray,
    window: Window,
    generated: np.ndarray,
    conditions: Conditions,
    branches: np.ndarray,
    local: np.ndarray,
    keep_local: list[bool],
    glob: np.ndarray,
    keep_global: list[bool],
) -> dict[str, np.ndarray]:
    """The denoiser's inputs for one window, batched over the guidance ``branches`` (token
    masks; ``keep_local[i]`` / ``keep_global[i]`` say whether branch i sees the frame-aligned
    local targets / global condition). ``audio``, ``local``, ``glob`` and ``generated`` are
    indexed by frame like the window."""
    length = window.stop - window.start
    nb = branches.shape[0]
    positions = (np.arange(length) / 100.0)[:, None]
    context = np.zeros((length, ch.N_CHANNELS), np.float32)
    context_mask = np.zeros(length, np.float32)
    if window.known:
        context[: window.known] = generated[window.start : window.start + window.known]
        context_mask[: window.known] = 1.0
    tile = lambda a: np.repeat(a[None], nb, axis=0)  # noqa: E731  (a fresh, writable copy per branch)
    return {
        "audio": tile(audio[window.start : window.stop].astype(np.float32)),
        "positions": tile(positions.astype(np.float32)),
        "context": tile(context),
        "context_mask": tile(context_mask),
        "local": np.stack([local[window.start : window.stop] * float(k) for k in keep_local]).astype(np.float32),
        "glob": np.stack([glob[window.start : window.stop] * float(k) for k in keep_global]).astype(np.float32),
        "tokens": tile(conditions.tokens),
        "token_mask": np.ascontiguousarray(branches),
    }


def generate(
    backend: DenoiserBackend,
    meta: ModelMeta,
    embeddings: EmbeddingTable,
    plan: EmotionPlan,
    feats: AudioFeatures,
    *,
    seed: int,
    sampler: str,
    steps: int,
    guidance: ProgressiveGuidance,
    progress: bool = False,
    articulation: Articulation | None = None,
) -> np.ndarray:
    """Motion values float32 ``[feats.n_frames, N_CHANNELS]`` for ``plan`` over ``feats``
    (``articulation``, for weights trained with it: default, the visemes read from the audio)."""
    sample = get_sampler(sampler)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    audio = model_audio(meta, feats, articulation)
    n_out = feats.n_frames
    n = max(1, int(round(n_out * meta.fps / feats.fps)))
    audio = resample_time(audio, n)

    conditions = build_conditions(plan, embeddings, meta.local_scope)
    branches = conditions.branch_masks()
    keep_local, keep_global = [False, False, True], [False, True, True]
    if guidance.single_branch:
        branches, keep_local, keep_global = branches[2:], [True], [True]
    local = local_targets(plan, n, meta.motion_mean, meta.motion_std, meta.fps, meta.local_scope)
    glob = clip_global(plan, n, embeddings, meta.fps)
    mask = backend.asarray(conditions.channel_mask)
    sigmas = get_sigmas_karras(steps, meta.sigma_min, meta.sigma_max)
    mean = np.asarray(meta.motion_mean, np.float32)
    std = np.asarray(meta.motion_std, np.float32)
    rng = np.random.default_rng(seed)
    generated = np.zeros((n, ch.N_CHANNELS), np.float32)

    windows = plan_windows(n, meta.window, meta.overlap)
    if progress:
        from tqdm.auto import tqdm

        windows = tqdm(windows, desc="draw", unit="window", leave=False)
    for window in windows:
        inputs = {k: backend.asarray(v) for k, v in window_inputs(audio, window, generated, conditions, branches, local, keep_local, glob, keep_global).items()}
        noise = rng.standard_normal((1, window.stop - window.start, ch.N_CHANNELS)).astype(np.float32)
        x = backend.asarray(noise * np.float32(sigmas[0]))

        def model3(x: Array, sigma: float, inputs: dict[str, Array] = inputs) -> tuple[Array, Array, Array]:
            out = backend.denoise(backend.repeat(x, branches.shape[0]), sigma, inputs)
            if branches.shape[0] == 1:
                return out, out, out
            return out[0:1], out[1:2], out[2:3]

        x = sample(model3, x, sigmas, guidance=guidance, mask=mask, disable=True)
        new = backend.to_numpy(x)[0]
        generated[window.start + window.known : window.stop] = new[window.known :]

    values = resample_time(clip_motion(generated * std + mean), n_out)
    usable = articulation if articulation is not None and articulation.n_frames == n_out else None
    emotion_aus = plan.au_curves(n_out, feats.fps)
    apply_speech_rules(values, loudness_opening(feats.loudness), emotion_aus, usable, fps=feats.fps)
    limit_unplanned(values, emotion_aus)
    return clean_blinks(values, plan, seed, feats.fps)


def model_audio(meta: ModelMeta, feats: AudioFeatures, articulation: Articulation | None = None) -> np.ndarray:
    """The denoiser's per-frame audio input: the feature rows, then the articulation features
    when the weights were trained with them (``ModelMeta.articulation``)."""
    rows = feats.matrix()
    if not meta.articulation:
        return rows
    if articulation is None:
        articulation = from_audio(feats)
    art = (articulation.features() if articulation is not None
           else np.zeros((len(rows), N_ARTICULATION_FEATURES), np.float32))
    if len(art) != len(rows):
        raise ValueError(f"articulation has {len(art)} frames, the audio {len(rows)}")
    return np.concatenate([rows, art], axis=1)


def clean_blinks(values: np.ndarray, plan: EmotionPlan, seed: int, fps: float) -> np.ndarray:
    """AU45 from the blink renewal process (``tbd.generator.rig.BlinkTrack``, the same one a
    live session uses): single closures of 150-300 ms at human rates, instead of the
    denoiser's own blink channel, which can flicker. A plan that asks for closed eyes keeps them."""
    from .rig import BlinkTrack

    n = len(values)
    col = ch.index("AU45")
    blinks = BlinkTrack(seed, fps).values(np.arange(n), float(plan.arousal))
    values[:, col] = np.maximum(blinks, plan.au_curves(n, fps)[:, ch.AU_CHANNELS.index("AU45")])
    return values


def sample_motion(
    gen: Any,
    plan: EmotionPlan,
    feats: AudioFeatures,
    *,
    seed: int,
    progress: bool,
    sampler: str | None,
    steps: int | None,
    guidance: str | ProgressiveGuidance | None,
    generator_name: str,
    articulation: Articulation | None = None,
    **guidance_options: Any,
) -> Motion:
    """Shared body of DiffusionGenerator.sample and OnnxGenerator.sample."""
    if not isinstance(plan, EmotionPlan):
        raise TypeError(f"plan must be an EmotionPlan, got {type(plan).__name__}")
    if guidance is None and not guidance_options:
        schedule = gen.default_guidance
    else:
        base = guidance if guidance is not None else gen.default_guidance.mode
        schedule = as_guidance(base, **guidance_options)
    sampler = sampler or gen.default_sampler
    steps = int(steps or gen.default_steps)
    if articulation is None:
        articulation = from_audio(feats)
    values = generate(gen.backend, gen.meta, gen.embeddings, plan, feats, seed=seed, sampler=sampler,
                      steps=steps, guidance=schedule, progress=progress, articulation=articulation)
    if not np.isfinite(values).all():
        raise WeightsError(f"{gen.weights_name}: the generator produced NaN or infinite motion, so its weights are "
                           "corrupt; use another checkpoint (or generator='rig')")
    meta = {
        "generator": generator_name,
        "weights": gen.weights_name,
        "sampler": sampler,
        "steps": steps,
        "guidance": schedule.mode,
        "guidance_weights": schedule.describe(),
        "seed": seed,
        "text_encoder": gen.meta.text_encoder,
        "articulation": None if articulation is None else articulation.source,
    }
    return Motion(values, fps=feats.fps, meta=meta,
                  viseme_weights=None if articulation is None else articulation.weights)


class WindowedGenerator:
    """State and ``sample`` shared by the DRAW generators (torch and onnxruntime);
    a subclass loads its weights and calls ``_setup`` with its denoiser backend."""

    name = "draw"

    def _setup(
        self,
        meta: ModelMeta,
        embeddings: EmbeddingTable,
        weights_name: str,
        sampler: str | None,
        steps: int | None,
        guidance: str | ProgressiveGuidance,
        backend: DenoiserBackend,
    ) -> None:
        self.meta = meta
        self.embeddings = embeddings
        self.weights_name = weights_name
        self.default_sampler = sampler or meta.sampler
        self.default_steps = int(steps or meta.steps)
        self.default_guidance = as_guidance(guidance)
        self.backend = backend

    def sample(
        self,
        plan: EmotionPlan,
        feats: AudioFeatures,
        *,
        seed: int = 0,
        progress: bool = False,
        sampler: str | None = None,
        steps: int | None = None,
        guidance: str | ProgressiveGuidance | None = None,
        articulation: Articulation | None = None,
        **guidance_options: Any,
    ) -> Motion:
        """Motion for ``plan`` over ``feats``. ``articulation``: the utterance's visemes
        (``tbd.articulation``; default: read from the audio). ``guidance``: ``"progressive"`` (default),
        ``"global"``, ``"local"``, ``"joint"``, ``"none"`` or a ProgressiveGuidance;
        ``guidance_options`` (``w_g``, ``w_l``, ``t_star``, ``crossfade``, ``width``) adjust a named mode."""
        return sample_motion(self, plan, feats, seed=seed, progress=progress, sampler=sampler, steps=steps,
                             guidance=guidance, generator_name=self.name, articulation=articulation,
                             **guidance_options)

