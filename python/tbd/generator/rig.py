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


@dataclass(frozen=True)
class RigConfig:
    """Tunable constants of the rig, in physical units."""

    speech_gate: float = 0.3          # loudness below this is silence (mouth closed)
    speech_range: float = 0.4         # loudness above gate + range opens the mouth fully
    jaw_gain: float = 0.75            # AU26 at full opening
    lips_gain: float = 1.0            # AU25 at full opening
    mouth_smooth_s: float = 0.03      # smoothing of the mouth opening (co-articulation)
    onset_s: float = 0.35             # ramp of the emotion from a neutral start
    blink_interval_s: float = 3.4     # mean time between blinks (~17.6 per minute)
    blink_min_interval_s: float = 1.0
    blink_duration_s: tuple[float, float] = (0.15, 0.3)
    head_amplitude: float = 0.045     # radians, std of speech-driven head motion
    gaze_amplitude: float = 0.12


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
        **options: Any,
    ) -> Motion:
        """Motion for ``plan`` over the frames of ``feats``; the same seed gives the same motion."""
        if options:
            raise TypeError(f"the rig generator takes no options {sorted(options)}")
        cfg, fps, n = self.config, feats.fps, feats.n_frames
        rng = np.random.default_rng(seed)
        values = np.zeros((n, ch.N_CHANNELS), dtype=np.float32)

        aus = self._emotion_aus(plan, n, fps, rng)
        opening = self.mouth_opening(feats)
        speech = {
            "AU26": cfg.jaw_gain * opening,
            "AU25": np.clip(cfg.lips_gain * 1.6 * opening, 0, 1),
            "AU18": 0.35 * opening * _rounding(feats),
        }
        for name, curve in speech.items():
            col = ch.AU_CHANNELS.index(name)
            aus[:, col] = np.maximum(aus[:, col], curve)
        blink_col = ch.AU_CHANNELS.index("AU45")
        aus[:, blink_col] = np.maximum(aus[:, blink_col], self.blinks(n, fps, plan.arousal, rng))
        values[:, ch.indices(ch.AU_CHANNELS)] = np.clip(aus, 0.0, 1.0)

        values[:, ch.indices(ch.POSE_CHANNELS)] = self._head(feats, plan, rng)
        values[:, ch.indices(ch.GAZE_CHANNELS)] = self._gaze(n, fps, plan, rng)
        meta = {"generator": "rig", "weights": None, "sampler": None, "steps": 0, "guidance": None, "seed": seed}
        return Motion(values, fps=fps, meta=meta)

    # --- parts -------------------------------------------------------------------
    def mouth_opening(self, feats: AudioFeatures) -> np.ndarray:
        """Mouth opening 0..1 per frame from loudness: zero in silence, smooth in speech."""
        cfg = self.config
        raw = np.clip((feats.loudness - cfg.speech_gate) / cfg.speech_range, 0.0, 1.0)
        sigma = cfg.mouth_smooth_s * feats.fps
        return gaussian_filter1d(raw, sigma, mode="nearest") if sigma > 0.3 else raw

    def _emotion_aus(self, plan: EmotionPlan, n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
        aus = plan.au_curves(n)
        ramp = np.clip((np.arange(n) + 1) / max(self.config.onset_s * fps, 1.0), 0.0, 1.0)
        ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no kink at the apex
        # Slow, small variation so a held expression is alive, not frozen.
        wobble = 1.0 + 0.06 * _smooth_noise(rng, n, fps * 0.8)
        return aus * (ramp * wobble)[:, None]

    def blinks(self, n: int, fps: float, arousal: float, rng: np.random.Generator) -> np.ndarray:
        """AU45 curve with blinks at human rates: a renewal process with gamma-distributed gaps."""
        cfg = self.config
        curve = np.zeros(n, dtype=np.float32)
        mean_gap = cfg.blink_interval_s * (1.1 - 0.2 * float(np.clip(arousal, 0, 1)))
        t = rng.uniform(0.4, 1.6)
        while t < n / fps:
            dur = rng.uniform(*cfg.blink_duration_s)
            close, reopen = 0.4 * dur, 0.6 * dur  # lids fall faster than they rise
            t = round((t + close) * fps) / fps - close  # a frame lands on full closure
            times = np.arange(n) / fps - t
            shape = np.where(times < close, times / close, 1.0 - (times - close) / reopen)
            curve = np.maximum(curve, np.clip(shape, 0.0, 1.0) * ((times >= 0) & (times <= dur)))
            t += dur + max(cfg.blink_min_interval_s, rng.gamma(4.0, mean_gap / 4.0))
        return curve

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


def _rounding(feats: AudioFeatures) -> np.ndarray:
    """0..1 lip rounding cue: energy concentrated in low mel bands (o/u-like vowels)."""
    power = np.exp(feats.mel)
    split = feats.mel.shape[1] // 4
    low_share = power[:, :split].sum(1) / (power.sum(1) + 1e-9)
    return np.clip((low_share - 0.6) / 0.3, 0.0, 1.0).astype(np.float32)
