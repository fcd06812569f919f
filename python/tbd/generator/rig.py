"""The deterministic rig: EmotionPlan + audio features -> Motion, without learned weights.

Speech drives the jaw and lips (silence closes the mouth), the plan's AU keyframes drive the
expression with an onset ramp, blinks follow a renewal process at human rates, and the head
and gaze move a little, coupled to speech and tinted by the plan's valence and arousal.
It is the fallback generator and the source of the built-in training corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..audio import AudioFeatures
from ..motion import Motion
from ..motion import channels as ch
from ..plan import EmotionPlan
from ..articulation.coarticulation import Articulation
from ..articulation.sources import from_audio
from ..articulation.mouth import (MOUTH_SMOOTH_S, SPEECH_GATE, SPEECH_RANGE, MouthConfig, loudness_opening, smooth_opening,
                                  speech_mouth)


@dataclass(frozen=True)
class RigConfig:
    """Tunable constants of the rig, in physical units."""

    speech_gate: float = SPEECH_GATE  # loudness below this is silence (mouth closed)
    speech_range: float = SPEECH_RANGE  # loudness above gate + range opens the mouth fully
    mouth_smooth_s: float = MOUTH_SMOOTH_S  # smoothing of the mouth opening (co-articulation)
    mouth_keeps_dips: bool = True     # the smoothed opening never exceeds a frame's own: a stop's short silence closes the lips
    onset_s: float = 0.35             # ramp of the emotion from a neutral start
    blink_interval_s: float = 3.4     # mean time between blinks (~17.6 per minute)
    blink_min_interval_s: float = 1.0
    # One blink lasts 250-400 ms, above half-closed for 150-240 ms (mostly 5-6 frames at 25 fps). A face tracker reads
    # a half-shut lid as less than half a blink: at 120 ms (3 frames, half the blinks before) a render read 80 ms.
    blink_duration_s: tuple[float, float] = (0.25, 0.40)
    blink_shape: tuple[float, float, float] = (0.3, 0.2, 0.5)  # closing, closed, opening shares of a blink
    head_amplitude: float = 0.045     # radians, std of speech-driven head motion
    gaze_amplitude: float = 0.12
    mouth: MouthConfig = MouthConfig()  # how loudness and visemes drive the lips and jaw


class RigGenerator:
    """Deterministic, rule-based motion generator (``Talker(generator="rig")``)."""

    name = "rig"

    def __init__(self, config: RigConfig | None = None) -> None:
        self.config = config or RigConfig()

    def sample(
        self,
        plan: EmotionPlan,
        feats: AudioFeatures,
        *,
        seed: int = 0,
        progress: bool = False,
        articulation: Articulation | None = None,
        **options: Any,
    ) -> Motion:
        """Motion for ``plan`` over the frames of ``feats``; the same seed gives the same motion.
        ``articulation`` shapes the lips (default: visemes read from the audio by the bundled
        classifier, ``tbd.articulation.from_audio``)."""
        if options:
            raise TypeError(f"the rig generator takes no options {sorted(options)}")
        cfg, fps, n = self.config, feats.fps, feats.n_frames
        rng = np.random.default_rng(seed)
        values = np.zeros((n, ch.N_CHANNELS), dtype=np.float32)

        aus = self._emotion_aus(plan, n, fps, rng)
        if articulation is None:
            articulation = from_audio(feats)
        aus = speech_mouth(aus, self.mouth_opening(feats), articulation, cfg.mouth)
        blink_col = ch.AU_CHANNELS.index("AU45")
        blinks = BlinkTrack(seed, fps, cfg).values(np.arange(n), float(plan.arousal))
        aus[:, blink_col] = np.maximum(aus[:, blink_col], blinks)
        values[:, ch.indices(ch.AU_CHANNELS)] = np.clip(aus, 0.0, 1.0)

        values[:, ch.indices(ch.POSE_CHANNELS)] = self._head(feats, plan, rng)
        values[:, ch.indices(ch.GAZE_CHANNELS)] = self._gaze(n, fps, plan, rng)
        meta = {"generator": "rig", "weights": None, "sampler": None, "steps": 0, "guidance": None, "seed": seed,
                "articulation": None if articulation is None else articulation.source}
        return Motion(values, fps=fps, meta=meta,
                      viseme_weights=None if articulation is None else articulation.weights)

    # --- parts -------------------------------------------------------------------
    def mouth_opening(self, feats: AudioFeatures) -> np.ndarray:
        """Mouth opening 0..1 per frame from loudness: zero in silence, smooth in speech, and never above the
        frame's own opening (``mouth_keeps_dips``): at 25 fps a p/b closure is often a single quiet frame, which
        smoothing alone filled in, so the rig missed the bilabials its audio classifier did not hear."""
        cfg = self.config
        raw = loudness_opening(feats.loudness, cfg.speech_gate, cfg.speech_range)
        return smooth_opening(raw, cfg.mouth_smooth_s * feats.fps, cfg.mouth_keeps_dips)

    def _emotion_aus(self, plan: EmotionPlan, n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
        aus = plan.au_curves(n)
        ramp = np.clip((np.arange(n) + 1) / max(self.config.onset_s * fps, 1.0), 0.0, 1.0)
        ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no kink at the apex
        # Slow, small variation so a held expression is alive, not frozen.
        wobble = 1.0 + 0.06 * _smooth_noise(rng, n, fps * 0.8)
        return aus * (ramp * wobble)[:, None]

    def _head(self, feats: AudioFeatures, plan: EmotionPlan, rng: np.random.Generator) -> np.ndarray:
        n, fps = feats.n_frames, feats.fps
        amp = self.config.head_amplitude * (0.7 + 0.6 * float(np.clip(plan.arousal, 0, 1)))
        emphasis = gaussian_filter1d(np.clip(np.diff(feats.loudness, prepend=0.0), 0, None), 0.1 * fps)
        emphasis = emphasis / (emphasis.max() + 1e-6)
        pitch = amp * (0.6 * _smooth_noise(rng, n, 1.2 * fps) + 0.8 * emphasis)
        yaw = amp * 1.2 * _smooth_noise(rng, n, 2.0 * fps)
        roll = amp * 0.5 * _smooth_noise(rng, n, 2.5 * fps)
        pitch = pitch - 0.06 * float(plan.valence)  # low mood lowers the chin (positive pitch)
        return np.stack([pitch, yaw, roll], axis=1)

    def _gaze(self, n: int, fps: float, plan: EmotionPlan, rng: np.random.Generator) -> np.ndarray:
        """Fixations held 0.8-2.5 s with quick saccades between them."""
        amp = self.config.gaze_amplitude
        gaze = np.zeros((n, 2), dtype=np.float32)
        start = 0
        target = np.zeros(2)
        while start < n:
            hold = int(rng.uniform(0.8, 2.5) * fps)
            gaze[start : start + hold] = target
            target = rng.normal(0.0, amp, size=2)
            start += max(hold, 1)
        gaze = gaussian_filter1d(gaze, 0.03 * fps, axis=0) if fps > 10 else gaze
        gaze[:, 1] += 0.15 * max(0.0, -float(plan.valence))  # sadness looks down
        return np.clip(gaze, -1.0, 1.0)


def _smooth_noise(rng: np.random.Generator, n: int, scale_frames: float) -> np.ndarray:
    """Gaussian noise low-passed over ``scale_frames``, with unit std in expectation.

    Normalised by the filter's known gain, not the sample std, so short clips do not blow up."""
    pad = int(4 * scale_frames) + 1
    noise = gaussian_filter1d(rng.standard_normal(n + 2 * pad), scale_frames)[pad : pad + n]
    gain = 1.0 / np.sqrt(2.0 * np.sqrt(np.pi) * max(scale_frames, 0.5))
    return (noise / gain).astype(np.float32)


# --- streaming parts (docs/architecture.md, "Streaming") -------------------------------------

class BlinkTrack:
    """Blinks as a renewal process in absolute time, drawn lazily: ``values(frames)`` gives AU45
    at any frame indices, the same for a given seed however the frames are asked for.

    Every blink is one closure of `RigConfig.blink_duration_s` (250-400 ms): the lids fall in 30 % of it, stay
    shut for 20 % (at least one frame at full closure) and rise in 50 % (`RigConfig.blink_shape`), so each blink is
    above half-closed for 150-240 ms. Gaps are gamma-distributed around the rig's ``blink_interval_s`` (shorter with
    arousal), never below ``blink_min_interval_s``. Every generator, batch and live, takes AU45 from here.
    """

    def __init__(self, seed: int, fps: float, config: RigConfig | None = None) -> None:
        self.config = config or RigConfig()
        self.fps = float(fps)
        self._rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xB1, 0x45])
        self._next = float(self._rng.uniform(0.4, 1.6))
        self.events: list[tuple[float, float]] = []  # (start s, duration s)

    def _extend(self, t_end: float, arousal: Any) -> None:
        cfg = self.config
        while self._next < t_end + cfg.blink_duration_s[1]:
            level = float(arousal(self._next)) if callable(arousal) else float(arousal)
            dur = float(self._rng.uniform(*cfg.blink_duration_s))
            close = cfg.blink_shape[0] * dur
            start = round((self._next + close) * self.fps) / self.fps - close  # a frame at full closure
            self.events.append((start, dur))
            mean_gap = cfg.blink_interval_s * (1.1 - 0.2 * float(np.clip(level, 0, 1)))
            self._next = start + dur + max(cfg.blink_min_interval_s, float(self._rng.gamma(4.0, mean_gap / 4.0)))

    def values(self, frames: np.ndarray, arousal: Any = 0.0) -> np.ndarray:
        """AU45 (0..1) at the frame indices ``frames`` (ascending). ``arousal``: a number or a
        function of time (seconds) giving the arousal when each gap is drawn."""
        frames = np.asarray(frames, dtype=np.float64).reshape(-1)
        out = np.zeros(len(frames), np.float32)
        if not len(frames):
            return out
        times = frames / self.fps
        self._extend(float(times.max()), arousal)
        lo = float(times.min()) - 1.0
        while len(self.events) > 1 and self.events[0][0] + self.events[0][1] < lo:
            self.events.pop(0)  # events before these times are never asked for again
        c, h, _ = self.config.blink_shape
        for start, dur in self.events:
            rel = (times - start) / dur
            inside = (rel >= 0) & (rel <= 1)
            if not inside.any():
                continue
            shape = np.where(rel < c, rel / c, np.where(rel < c + h, 1.0, 1.0 - (rel - c - h) / (1 - c - h)))
            out = np.maximum(out, (np.clip(shape, 0.0, 1.0) * inside).astype(np.float32))
        return out


class SmoothNoiseStream:
    """``_smooth_noise`` as a stream: white noise drawn lazily by frame index and low-passed
    with a Gaussian of ``scale_frames`` (it looks ahead into its own noise, never into audio)."""

    def __init__(self, rng: np.random.Generator, scale_frames: float, width: int = 1) -> None:
        self.rng = rng
        self.scale = max(float(scale_frames), 0.5)
        self.radius = int(3 * self.scale) + 1
        k = np.arange(-self.radius, self.radius + 1)
        w = np.exp(-0.5 * (k / self.scale) ** 2)
        w /= w.sum()
        self.kernel = (w / np.sqrt((w**2).sum())).astype(np.float64)  # unit std in expectation
        self.width = width
        self._noise = np.zeros((0, width))
        self._offset = -self.radius  # frame index of _noise[0]

    def values(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        need = int(frames.max()) + self.radius + 1 - self._offset
        if need > len(self._noise):
            extra = max(need - len(self._noise), 64)
            self._noise = np.concatenate([self._noise, self.rng.standard_normal((extra, self.width))])
        drop = int(frames.min()) - self.radius - self._offset - 64
        if drop > 0:
            self._noise, self._offset = self._noise[drop:], self._offset + drop
        idx = frames[:, None] - self._offset + np.arange(-self.radius, self.radius + 1)[None, :]
        return np.einsum("tkw,k->tw", self._noise[idx], self.kernel).astype(np.float32)


class RigStream:
    """The rig, frame by frame (causal, with ``LOOKAHEAD`` frames of audio for the mouth).

    ``step(frames, feats_rows, targets, valence, arousal)`` is called by a live session with
    the frames whose audio features are known; it returns the motion of the frames it can
    finish. The plan enters as per-frame AU targets (cross-faded by the session) and the
    current valence/arousal, so emotion changes are smooth and nothing depends on the clip's length.
    """

    LOOKAHEAD = 2  # frames: the mouth's co-articulation smoothing looks this far ahead
    arousal_at: Any = 0.0  # a number or a function of session time (set by the session's timeline)

    def __init__(self, seed: int, fps: float, config: RigConfig | None = None) -> None:
        self.config = config or RigConfig()
        self.fps = float(fps)
        def rng(k: int) -> np.random.Generator:  # one generator per noise track: chunking cannot reorder draws
            return np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x51, k])

        self.blinks = BlinkTrack(seed, fps, self.config)
        self._wobble = SmoothNoiseStream(rng(0), fps * 0.8)
        self._head = [SmoothNoiseStream(rng(k + 1), s * fps) for k, s in enumerate((1.2, 2.0, 2.5))]
        self._gaze_rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x6A])
        self._gaze_until, self._gaze_target = 0, np.zeros(2)
        sigma = self.config.mouth_smooth_s * fps
        k = np.arange(-self.LOOKAHEAD, self.LOOKAHEAD + 1)
        w = np.exp(-0.5 * (k / max(sigma, 1e-3)) ** 2)
        self._mouth_kernel = w / w.sum()
        self._raw: list[float] = []     # raw mouth opening of the last LOOKAHEAD frames finished
        self._emphasis = 0.0
        self._last_loud = 0.0
        self._gaze_smooth = np.zeros(2)

    @property
    def lookahead(self) -> int:
        return self.LOOKAHEAD

    def mouth_raw(self, loudness: np.ndarray) -> np.ndarray:
        return loudness_opening(loudness, self.config.speech_gate, self.config.speech_range)

    def finish(self, frames: np.ndarray, loudness: np.ndarray, articulation: Articulation | None,
               targets: np.ndarray, valence: np.ndarray, arousal: np.ndarray, ahead: np.ndarray) -> np.ndarray:
        """Motion ``[len(frames), N_CHANNELS]`` of ``frames`` given their loudness, articulation,
        AU targets ``[n, N_AU]``, valence/arousal ``[n]`` and the raw mouth opening of up to
        ``LOOKAHEAD`` frames after them (``ahead``; repeated at the end of an utterance)."""
        cfg, fps, n = self.config, self.fps, len(frames)
        raw = np.concatenate([self._history(), self.mouth_raw(loudness), ahead])
        hist = len(raw) - n - len(ahead)
        pad_l = self.LOOKAHEAD - hist
        padded = np.concatenate([np.full(max(pad_l, 0), raw[0]), raw[max(-pad_l, 0):]]) if len(raw) else raw
        need = n + 2 * self.LOOKAHEAD
        if len(padded) < need:
            padded = np.concatenate([padded, np.full(need - len(padded), padded[-1])])
        opening = np.array([padded[i : i + 2 * self.LOOKAHEAD + 1] @ self._mouth_kernel for i in range(n)])
        if cfg.mouth_keeps_dips:
            opening = np.minimum(opening, padded[self.LOOKAHEAD : self.LOOKAHEAD + n])
        self._remember(self.mouth_raw(loudness))

        values = np.zeros((n, ch.N_CHANNELS), np.float32)
        wobble = 1.0 + 0.06 * self._wobble.values(frames)[:, 0]
        aus = speech_mouth(targets * wobble[:, None], opening, articulation, cfg.mouth)
        col = ch.AU_CHANNELS.index("AU45")
        aus[:, col] = np.maximum(aus[:, col], self.blinks.values(frames, self.arousal_at))
        values[:, ch.indices(ch.AU_CHANNELS)] = np.clip(aus, 0.0, 1.0)

        amp = cfg.head_amplitude * (0.7 + 0.6 * np.clip(arousal, 0, 1))
        alpha = 1.0 - np.exp(-1.0 / (0.1 * fps))
        emphasis = np.zeros(n)
        for i in range(n):
            self._emphasis += alpha * (max(loudness[i] - self._last_loud, 0.0) - self._emphasis)
            self._last_loud = float(loudness[i])
            emphasis[i] = min(1.0, self._emphasis / 0.03)
        noise = [s.values(frames)[:, 0] for s in self._head]
        pitch = amp * (0.6 * noise[0] + 0.8 * emphasis) - 0.06 * valence
        values[:, ch.indices(ch.POSE_CHANNELS)] = np.stack([pitch, amp * 1.2 * noise[1], amp * 0.5 * noise[2]], 1)
        values[:, ch.indices(ch.GAZE_CHANNELS)] = self._gaze(frames, valence)
        return values

    def _history(self) -> np.ndarray:
        return np.asarray(self._raw[-self.LOOKAHEAD :], dtype=np.float64) if self._raw else np.zeros(0)

    def _remember(self, raw: np.ndarray) -> None:
        self._raw = (self._raw + list(raw))[-self.LOOKAHEAD :]

    def reset_mouth(self) -> None:
        """Forget the mouth history (after an interrupt: the next frames start closed)."""
        self._raw = [0.0] * self.LOOKAHEAD
        self._emphasis = 0.0

    def _gaze(self, frames: np.ndarray, valence: np.ndarray) -> np.ndarray:
        """Fixations held 0.8-2.5 s with quick saccades (a one-pole filter of ~30 ms)."""
        amp, fps = self.config.gaze_amplitude, self.fps
        out = np.zeros((len(frames), 2), np.float32)
        alpha = 1.0 - np.exp(-1.0 / max(0.03 * fps, 1e-3))
        for i, f in enumerate(frames):
            if f >= self._gaze_until:
                self._gaze_until = int(f) + max(int(self._gaze_rng.uniform(0.8, 2.5) * fps), 1)
                self._gaze_target = self._gaze_rng.normal(0.0, amp, size=2) if f > 0 else np.zeros(2)
            self._gaze_smooth = self._gaze_smooth + alpha * (self._gaze_target - self._gaze_smooth)
            out[i] = self._gaze_smooth
        out[:, 1] += 0.15 * np.maximum(0.0, -valence)
        return np.clip(out, -1.0, 1.0)
