"""Causal, block-wise generation for live sessions (docs/architecture.md, "Streaming").

A live session feeds audio-feature rows as they become ready; a *motion stream* returns
the motion of the frames it can finish. ``Timeline`` is the session's plan over absolute
time (emotion changes with cross-fades). Two streams:

* ``DiffusionStream``: the DRAW denoiser in short blocks (``block`` frames, default 3) with
  the previous ``context`` frames (default 16) as known context, one sampler step with the
  conditional branch (``STREAM_GUIDANCE``; progressive on request), fresh noise per block drawn from ``(seed, block index)``, so the motion depends on
  the audio and the seed, never on how the audio was chunked. A frame's block needs the
  audio of the block's last frame: the lookahead is ``block - 1`` frames plus half the
  feature window.
* ``tbd.generator.rig.RigStream`` wrapped in ``RigMotionStream``.

Both take AU45 from ``tbd.generator.rig.BlinkTrack``: clean single blinks at human rates,
and read the visemes from the audio as it comes (``VisemeStream``); after each ``push``,
``last_visemes`` holds the viseme weights ``[n, 15]`` of the frames it returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import N_FFT, SAMPLE_RATE, AudioFeatures
from ..motion import channels as ch
from ..plan import EmotionPlan
from .conditions import EMBED_DIM, GLOBAL_DIM, Conditions, build_conditions, frame_local, governed_channels, span_text
from .adherence import limit_unplanned
from .guidance import ProgressiveGuidance, as_guidance
from ..articulation.audio_model import default_classifier
from ..articulation.coarticulation import N_ARTICULATION_FEATURES, from_posteriors
from ..articulation.mouth import apply_speech_rules, loudness_opening
from ..articulation.visemes import N_VISEMES
from .rig import BlinkTrack, RigConfig, RigStream
from .sampling import get_sampler, get_sigmas_karras
from .windows import Window, clip_motion, window_inputs

AUDIO_FEATURES = AudioFeatures.N_FEATURES
FEATURE_LOOKAHEAD_S = (N_FFT // 2) / SAMPLE_RATE
"""Audio a frame's features need beyond the frame's midpoint (half the FFT window)."""

STREAM_STEPS = 1
"""Denoising steps per live block (batch uses the checkpoint's 16). A block starts from 16
known frames, so its denoiser prediction from pure noise is already the motion: on 96 held-out
takes one step and two give the same plan error (0.0578 / 0.0576), lip sync (r 0.805) and seams,
at half the CPU; three or more steps move less smoothly (benchmarks/RESULTS.md, "Live")."""

STREAM_GUIDANCE = "none"
"""Guidance of live blocks: the conditional branch ε(g, L) alone. With one or two steps,
progressive guidance spends them in its global phase and loses the local AUs (error 0.14 on the requested
AUs against 0.06, benchmarks/RESULTS.md "Live"); ``guidance="progressive"`` still works."""

AU_COL = {n: i for i, n in enumerate(ch.AU_CHANNELS)}
MOUTH_CHANNELS = ("AU25", "AU26", "AU27", "AU18", "AU22")
"""Channels an interrupt closes (lips apart, jaw drop, mouth stretch, pucker, funnel)."""


def silent_visemes(n: int) -> np.ndarray:
    """Viseme weights ``[n, 15]`` of silence (all on ``sil``)."""
    out = np.zeros((n, N_VISEMES), np.float32)
    out[:, 0] = 1.0
    return out


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


@dataclass
class Segment:
    """One emotion from ``start`` (session seconds), faded in over ``transition`` seconds."""

    plan: EmotionPlan
    start: float
    transition: float


class Timeline:
    """The plan of a live session over absolute time.

    ``set(plan, t, transition)`` starts ``plan`` at session time ``t``, cross-fading from what
    was showing over ``transition`` seconds (smoothstep). A plan whose times are seconds runs
    from ``t``; a plan with normalised times (what ``tbd.think`` gives) is laid over
    ``plan_seconds`` from ``t`` and then holds its last keyframe.
    """

    def __init__(self, plan: EmotionPlan, *, plan_seconds: float = 4.0, onset: float = 0.35) -> None:
        self.plan_seconds = float(plan_seconds)
        self.segments: list[Segment] = [Segment(EmotionPlan.neutral(), 0.0, 0.0)]
        self.set(plan, 0.0, onset)

    def set(self, plan: EmotionPlan, t: float, transition: float) -> None:
        if transition < 0:
            raise ValueError(f"transition must be >= 0 seconds, got {transition}")
        self.segments.append(Segment(plan, float(t), float(transition)))
        # Segments fully covered by a later one that has finished fading in are never seen again.
        for i in range(len(self.segments) - 1, 0, -1):
            seg = self.segments[i]
            if seg.start + seg.transition <= t:
                self.segments = self.segments[i:]
                break

    def current(self, t: float) -> EmotionPlan:
        """The plan set last at or before ``t``."""
        plan = self.segments[0].plan
        for seg in self.segments:
            if seg.start <= t + 1e-9:
                plan = seg.plan
        return plan

    def weights(self, times: np.ndarray) -> np.ndarray:
        """float ``[len(times), len(segments)]``: each segment's share of the mix."""
        times = np.asarray(times, np.float64).reshape(-1)
        w = np.zeros((len(times), len(self.segments)))
        for i, seg in enumerate(self.segments):
            if seg.transition > 0:
                a = smoothstep((times - seg.start) / seg.transition)
            else:
                a = (times >= seg.start - 1e-9).astype(np.float64)
            a = np.where(times >= seg.start - 1e-9, a, 0.0)
            w *= (1.0 - a)[:, None]
            w[:, i] = a
        return w

    def _local_times(self, seg: Segment, times: np.ndarray) -> np.ndarray:
        return times - seg.start

    def targets(self, times: np.ndarray) -> np.ndarray:
        """Cross-faded AU targets ``[len(times), N_AU]``."""
        w = self.weights(times)
        out = np.zeros((len(w), len(ch.AU_CHANNELS)), np.float32)
        for i, seg in enumerate(self.segments):
            if w[:, i].any():
                out += (w[:, i, None] * seg.plan.au_at(self._local_times(seg, times), self.plan_seconds)).astype(np.float32)
        return out

    def mood(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cross-faded valence and arousal at ``times``."""
        w = self.weights(times)
        val = sum(w[:, i] * seg.plan.valence for i, seg in enumerate(self.segments))
        aro = sum(w[:, i] * seg.plan.arousal for i, seg in enumerate(self.segments))
        return np.asarray(val, np.float64), np.asarray(aro, np.float64)

    def arousal_at(self, t: float) -> float:
        return float(self.mood(np.array([t]))[1][0])

    def active_local_channels(self, times: np.ndarray, scope: str = "planned") -> tuple[str, ...]:
        """The channels the local condition governs at ``times``: those of every plan cross-faded in."""
        w = self.weights(times)
        names = set()
        for i, seg in enumerate(self.segments):
            if w[:, i].any():
                names |= set(governed_channels(seg.plan, scope))
        return tuple(n for n in ch.AU_CHANNELS if n in names)

    def glob(self, times: np.ndarray, embeddings: Any) -> np.ndarray:
        """Cross-faded frame-aligned global condition ``[len(times), GLOBAL_DIM]``."""
        w = self.weights(times)
        out = np.zeros((len(w), GLOBAL_DIM), np.float32)
        for i, seg in enumerate(self.segments):
            if not w[:, i].any():
                continue
            plan = seg.plan
            spans = [k for k, e in enumerate(plan.emotions) if e.intensity > 0 and e.label.strip()]
            if not spans:
                continue
            sw = plan.span_weights(self._local_times(seg, times), self.plan_seconds)[:, spans]
            # A normalised plan's last span holds after its end (the plan holds its last keyframe).
            if plan.time_unit == "clip":
                late = self._local_times(seg, times) > self.plan_seconds
                last = int(np.argmax([plan.emotions[k].end for k in spans]))
                sw[late, last] = plan.emotions[spans[last]].intensity
            vectors = embeddings.matrix([span_text(plan.emotions[k].label) for k in spans])
            out[:, :EMBED_DIM] += (w[:, i, None] * (sw @ vectors)).astype(np.float32)
            out[:, EMBED_DIM] += (w[:, i] * sw.sum(1)).astype(np.float32)
        return out


class DiffusionStream:
    """DRAW in causal blocks. ``push(rows, final)`` takes audio-feature rows (``[n, F]``,
    ``AudioFeatures.matrix`` of the next frames) and returns ``(frames, values)`` for the
    frames finished; ``final`` ends the utterance (a short last block is generated)."""

    def __init__(self, gen: Any, timeline: Timeline, *, seed: int = 0, block: int = 3, context: int = 16,
                 steps: int | None = None, sampler: str | None = None,
                 guidance: str | ProgressiveGuidance | None = None, blink_config: RigConfig | None = None,
                 fps: float | None = None) -> None:
        if block < 1 or context < 0:
            raise ValueError(f"need block >= 1 and context >= 0, got {block}, {context}")
        self.gen, self.meta, self.timeline = gen, gen.meta, timeline
        self.fps = float(fps or self.meta.fps)
        if abs(self.fps - self.meta.fps) > 1e-6:
            raise ValueError(f"the weights run at {self.meta.fps} fps; a live session at {self.fps} fps needs the rig")
        self.seed, self.block, self.context = int(seed), int(block), int(context)
        self.seam_overlap = True
        self.steps = int(steps or STREAM_STEPS)
        self.sampler = get_sampler(sampler or gen.default_sampler)
        self.guidance = as_guidance(STREAM_GUIDANCE if guidance is None else guidance)
        self.sigmas = get_sigmas_karras(self.steps, self.meta.sigma_min, self.meta.sigma_max)
        self.mean = np.asarray(self.meta.motion_mean, np.float32)
        self.std = np.asarray(self.meta.motion_std, np.float32)
        self.blinks = BlinkTrack(seed, self.fps, blink_config)
        self._audio = np.zeros((0, 0), np.float32)  # pending rows, first one is frame self.next
        self.next = 0                 # first frame not generated yet
        self._hist = np.zeros((0, ch.N_CHANNELS), np.float32)   # normalised motion of the last frames
        self.visemes = VisemeStream() if self.meta.articulation else None
        width = AUDIO_FEATURES + (N_ARTICULATION_FEATURES if self.visemes is not None else 0)
        self._audio_hist = np.zeros((0, width), np.float32)  # their model audio rows
        self._opening_hist = np.zeros(0, np.float32)  # their loudness openings
        self._cond_cache: dict[int, tuple[EmotionPlan, Conditions]] = {}
        self._gate: dict[int, float] = {}  # frame -> mouth gate (interrupt)

    @property
    def lookahead_s(self) -> float:
        """Audio needed beyond a frame's end before it is emitted (the first frame of a block)."""
        return (self.block - 1.5) / self.fps + FEATURE_LOOKAHEAD_S if self.block > 1 else max(
            0.0, FEATURE_LOOKAHEAD_S - 0.5 / self.fps)

    def _block_size(self) -> int:
        """Frames in the next block: the session's first block is one frame (a quick first
        frame), then ``block`` frames each; the schedule depends only on the frame index."""
        return 1 if self.next == 0 else self.block

    def _conditions(self, plan: EmotionPlan) -> Conditions:
        key = id(plan)
        if key not in self._cond_cache:  # keeps the plan too, so its id is not reused
            self._cond_cache = {key: (plan, build_conditions(plan, self.gen.embeddings, self.meta.local_scope))}
        return self._cond_cache[key][1]

    def gate(self, frames: np.ndarray, values: np.ndarray) -> None:
        """Scale the mouth channels of upcoming ``frames`` by ``values`` (0 = closed)."""
        for f, v in zip(frames, values):
            self._gate[int(f)] = float(v)

    def drop_pending(self) -> None:
        self._audio = self._audio[:0]
        if self.visemes is not None:
            self.visemes.reset()

    def _model_rows(self, rows: np.ndarray) -> np.ndarray:
        """Feature rows of a block's new frames, with their articulation when the weights take it
        (read from the audio within the block: a block's later frames see less of their future)."""
        if self.visemes is None:
            self._block_articulation = None
            self._block_visemes = silent_visemes(len(rows))
            return rows
        art = self.visemes.articulation(rows, rows[:0])
        self._block_articulation = art
        self._block_visemes = silent_visemes(len(rows)) if art is None else art.weights
        feats = art.features() if art is not None else np.zeros((len(rows), N_ARTICULATION_FEATURES), np.float32)
        return np.concatenate([rows, feats], axis=1)

    def push(self, rows: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, np.float32)
        self._audio = rows if not len(self._audio) else np.concatenate([self._audio, rows])
        frames, values, visemes = [], [], []
        while len(self._audio) >= self._block_size() or (final and len(self._audio)):
            n = min(self._block_size(), len(self._audio))
            f, v = self._block(self._audio[:n])
            self._audio = self._audio[n:]
            frames.append(f)
            values.append(v)
            visemes.append(self._block_visemes)
        if not frames:
            self.last_visemes = silent_visemes(0)
            return np.zeros(0, np.int64), np.zeros((0, ch.N_CHANNELS), np.float32)
        self.last_visemes = np.concatenate(visemes)
        return np.concatenate(frames), np.concatenate(values)

    def _block(self, audio_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fps = self.fps
        opening = loudness_opening(audio_new[:, AUDIO_FEATURES - 1])  # the feature rows end with loudness
        audio_new = self._model_rows(audio_new)
        n_new = len(audio_new)
        known = min(self.context, len(self._hist))
        start = self.next - known
        frames = np.arange(start, self.next + n_new)
        times = frames / fps
        audio = np.concatenate([self._audio_hist[len(self._audio_hist) - known:], audio_new])
        plan = self.timeline.current(self.next / fps)
        cond = self._conditions(plan)
        branches = cond.branch_masks()
        keep_local, keep_global = [False, False, True], [False, True, True]
        if self.guidance.single_branch:
            branches, keep_local, keep_global = branches[2:], [True], [True]
        # Frame-aligned conditions from the timeline (cross-faded across emotion changes).
        targets = self.timeline.targets(times)
        names = self.timeline.active_local_channels(times, self.meta.local_scope)
        local = frame_local(plan, times, None, self.mean, self.std, targets=targets, names=names)
        glob = self.timeline.glob(times, self.gen.embeddings)
        generated = np.zeros((len(frames), ch.N_CHANNELS), np.float32)
        if known:
            generated[:known] = self._hist[-known:]
        # The last emitted frame is generated again (not given as known): its new version and
        # the emitted one differ by an offset that is carried into the block, fading out, so
        # the block continues the emitted frames without a step at the seam.
        overlap = 1 if known and self.seam_overlap else 0
        window = Window(0, len(frames), known - overlap)
        backend = self.gen.backend
        inputs = {k: backend.asarray(v) for k, v in window_inputs(
            audio, window, generated, cond, branches, local, keep_local, glob, keep_global).items()}
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, 0xD1, self.next])
        noise = rng.standard_normal((1, len(frames), ch.N_CHANNELS)).astype(np.float32)
        x = backend.asarray(noise * np.float32(self.sigmas[0]))
        nb = branches.shape[0]

        def model3(x: Any, sigma: float, inputs: dict = inputs) -> tuple[Any, Any, Any]:
            out = backend.denoise(backend.repeat(x, nb), sigma, inputs)
            if nb == 1:
                return out, out, out
            return out[0:1], out[1:2], out[2:3]

        mask = backend.asarray(cond.channel_mask)
        x = self.sampler(model3, x, self.sigmas, guidance=self.guidance, mask=mask, disable=True)
        out = backend.to_numpy(x)[0]
        new = out[known:]
        if overlap:
            offset = self._hist[-1] - out[known - 1]
            fade = 1.0 - np.arange(1, len(new) + 1, dtype=np.float32) / (len(new) + 1)
            new = new + fade[:, None] * offset[None, :]
        values = clip_motion(new * self.std + self.mean)
        values = apply_speech_rules(values, opening, targets[known:], self._block_articulation, fps=fps,
                                    past_opening=self._opening_hist)
        limit_unplanned(values, targets[known:])
        new_frames = frames[known:]
        # Clean blinks from the renewal process; a plan that closes the eyes keeps them closed.
        au45 = ch.index("AU45")
        values[:, au45] = np.maximum(self.blinks.values(new_frames, self.timeline.arousal_at), targets[known:, AU_COL["AU45"]])
        gates = np.array([self._gate.pop(int(f), 1.0) for f in new_frames], np.float32)
        if (gates < 1).any():
            values[:, ch.indices(MOUTH_CHANNELS)] *= gates[:, None]
        hist_new = (values - self.mean) / self.std
        self._hist = np.concatenate([self._hist, hist_new])[-max(self.context, 1):]
        self._audio_hist = np.concatenate([self._audio_hist, audio_new])[-max(self.context, 1):]
        self._opening_hist = np.concatenate([self._opening_hist, opening])[-max(self.context, 1):]
        self.next += n_new
        return new_frames, values


class VisemeStream:
    """The audio viseme classifier over a stream of feature rows: keeps the rows of the last
    ``past`` frames, so each frame's articulation equals the batch one whenever its lookahead
    rows have arrived (fewer at the end of an utterance or of a live block)."""

    def __init__(self) -> None:
        self.model = default_classifier()
        self.tracker: Any = None  # a TranscriptTracker of the words being spoken, if known
        self._hist = np.zeros((0, AUDIO_FEATURES), np.float32)

    def reset(self) -> None:
        self._hist = self._hist[:0]

    def articulation(self, rows: np.ndarray, ahead: np.ndarray) -> Any:
        """Articulation of the frames of ``rows`` (then remembered), seeing ``ahead`` rows after them."""
        if self.model is None or not len(rows):
            return None
        past = self.model.config.past
        window = np.concatenate([self._hist, rows, ahead[: self.model.config.ahead]])
        post = self.model.posteriors(window, first=len(self._hist), count=len(rows))
        if self.tracker is not None:
            post = self.tracker.filter(post)
        self._hist = np.concatenate([self._hist, rows])[-past:] if past else self._hist[:0]
        return from_posteriors(post)


class RigMotionStream:
    """``RigStream`` with the same ``push(rows, final)`` face as ``DiffusionStream``; rows are
    ``AudioFeatures.matrix`` rows (normalised log-mel, then loudness)."""

    def __init__(self, timeline: Timeline, *, seed: int = 0, fps: float = 25.0, config: RigConfig | None = None) -> None:
        self.timeline, self.fps = timeline, float(fps)
        self.rig = RigStream(seed, fps, config)
        self.rig.arousal_at = timeline.arousal_at
        self.visemes = VisemeStream()
        self.next = 0
        self._audio = np.zeros((0, 0), np.float32)
        self._gate: dict[int, float] = {}

    @property
    def lookahead_s(self) -> float:
        return (self.rig.LOOKAHEAD - 0.5) / self.fps + FEATURE_LOOKAHEAD_S

    def gate(self, frames: np.ndarray, values: np.ndarray) -> None:
        for f, v in zip(frames, values):
            self._gate[int(f)] = float(v)

    def drop_pending(self) -> None:
        self._audio = self._audio[:0]
        self.rig.reset_mouth()
        self.visemes.reset()

    def push(self, rows: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, np.float32)
        self._audio = rows if not len(self._audio) else np.concatenate([self._audio, rows])
        la = self.rig.LOOKAHEAD
        n = len(self._audio) if final else max(0, len(self._audio) - la)
        if n == 0:
            self.last_visemes = silent_visemes(0)
            return np.zeros(0, np.int64), np.zeros((0, ch.N_CHANNELS), np.float32)
        rows_now, rest = self._audio[:n], self._audio[n:]
        frames = np.arange(self.next, self.next + n)
        times = frames / self.fps
        loud = rows_now[:, -1].astype(np.float64)
        ahead = self.rig.mouth_raw(rest[:la, -1].astype(np.float64)) if len(rest) else np.zeros(0)
        if final and not len(ahead):
            ahead = np.full(la, self.rig.mouth_raw(loud[-1:])[0])
        val, aro = self.timeline.mood(times)
        art = self.visemes.articulation(rows_now, rest[:la])
        self.last_visemes = silent_visemes(n) if art is None else art.weights
        values = self.rig.finish(frames, loud, art, self.timeline.targets(times), val, aro, ahead)
        gates = np.array([self._gate.pop(int(f), 1.0) for f in frames], np.float32)
        if (gates < 1).any():
            values[:, ch.indices(MOUTH_CHANNELS)] *= gates[:, None]
        self._audio = rest
        self.next += n
        return frames, values
