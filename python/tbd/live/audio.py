"""Incremental audio for live sessions: resampling to 16 kHz and frame features as samples arrive.

``FeatureStream`` computes exactly the rows ``tbd.audio.features`` gives for a session's first
utterance (the same functions compute both, the recording's evening out included; later
utterances keep the speech level heard so far), as soon as a frame's analysis window has
arrived, whatever the chunk sizes. ``StreamResampler`` is a windowed-sinc resampler whose
output does not depend on the chunking either.
"""

from __future__ import annotations

import numpy as np

from ..audio import N_FFT, SAMPLE_RATE, AudioFeatures, DcRemover, LevelConfig, LevelTracker, features_at, frame_centres
from ..errors import AudioError


def as_float_samples(samples: object) -> np.ndarray:
    """Mono float32 in -1..1 from float or int16 samples (1-D, or [n, 1])."""
    a = np.asarray(samples)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise AudioError(f"push() takes mono samples (1-D), got shape {a.shape}")
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0)
    if np.issubdtype(a.dtype, np.integer):
        raise AudioError(f"integer samples must be int16, got {a.dtype}")
    a = a.astype(np.float32, copy=False)
    if a.size and not np.isfinite(a).all():
        raise AudioError("samples contain NaN or infinity")
    return a


class StreamResampler:
    """Kaiser-windowed sinc resampling from ``src`` Hz to ``dst`` Hz, chunk by chunk."""

    def __init__(self, src: int, dst: int = SAMPLE_RATE, half_width: int = 16) -> None:
        if src <= 0:
            raise AudioError(f"sample_rate must be positive, got {src}")
        self.src, self.dst = int(src), int(dst)
        self.cutoff = min(1.0, self.dst / self.src)
        self.half = int(np.ceil(half_width / self.cutoff))
        self._buf = np.zeros(self.half, np.float32)  # zeros before the first sample
        self._base = -self.half                      # input index of _buf[0]
        self._out = 0                                # next output index

    def _weights(self, frac_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        left = np.floor(frac_pos).astype(np.int64)
        taps = np.arange(-self.half + 1, self.half + 1)
        idx = left[:, None] + taps[None, :]
        d = frac_pos[:, None] - idx
        w = self.cutoff * np.sinc(self.cutoff * d) * np.kaiser(2 * self.half + 1, 8.0)[
            np.clip(np.round(d + self.half).astype(np.int64), 0, 2 * self.half)]
        w[np.abs(d) > self.half] = 0.0
        return idx, w.astype(np.float32)

    def push(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        if self.src == self.dst:
            return samples
        self._buf = np.concatenate([self._buf, samples])
        end = self._base + len(self._buf)  # inputs known: [.., end)
        if final:
            self._buf = np.concatenate([self._buf, np.zeros(self.half + 1, np.float32)])
            total_out = int(np.floor(end * self.dst / self.src))
            last = total_out
        else:
            last = int(np.floor((end - self.half - 1) * self.dst / self.src)) + 1
        if last <= self._out:
            return np.zeros(0, np.float32)
        j = np.arange(self._out, last)
        pos = j * (self.src / self.dst)
        idx, w = self._weights(pos)
        out = (self._buf[idx - self._base] * w).sum(1).astype(np.float32)
        self._out = last
        keep_from = int(np.floor(self._out * self.src / self.dst)) - self.half - 1
        if keep_from > self._base:
            self._buf = self._buf[keep_from - self._base:]
            self._base = keep_from
        return out


class FeatureStream:
    """Frame features of one utterance at a time, as its samples (16 kHz) arrive.

    ``push(samples)`` returns the ``AudioFeatures.matrix`` rows of the frames that became
    computable; ``finish()`` those of the rest (the utterance's frame count is
    ``round(duration * fps)``, at least one, as in batch) and starts a new utterance.
    The first utterance's rows are what ``tbd.audio.features`` gives for it; later ones keep
    the speech level and DC offset heard so far (a speaker's level does not change between
    sentences: a quiet voice is raised from its next utterance's first syllable on).
    """

    def __init__(self, fps: float, rate: int = SAMPLE_RATE, level: LevelConfig | None = LevelConfig()) -> None:
        self.fps, self.rate = float(fps), int(rate)
        self._level = LevelTracker(level, fps) if level is not None else None
        self._dc = DcRemover(level, rate) if level is not None else None
        self.reset()

    def reset(self) -> None:
        """Start a new utterance (the speech level and DC offset heard so far are kept)."""
        if self._level is not None:
            self._level.reset_floor()
        self._buf = np.zeros(N_FFT // 2, np.float32)  # padded: N_FFT // 2 zeros before sample 0
        self._base = -(N_FFT // 2)                    # sample index of _buf[0]
        self.n_samples = 0
        self.next_frame = 0

    @property
    def pending_samples(self) -> int:
        return self.n_samples

    def _rows(self, stop: int) -> np.ndarray:
        frames = np.arange(self.next_frame, stop)
        if not len(frames):
            return np.zeros((0, AudioFeatures.N_FEATURES), np.float32)
        centres = frame_centres(frames, self.rate, self.fps)
        padded_centres = centres - (self._base + N_FFT // 2)
        feats = features_at(self._buf, padded_centres, self.rate, self.fps)
        if self._level is not None:
            feats = self._level.apply(feats)
        self.next_frame = stop
        keep_from = int(frame_centres(np.array([stop]), self.rate, self.fps)[0]) - N_FFT
        if keep_from > self._base:
            self._buf = self._buf[keep_from - self._base:]
            self._base = keep_from
        return feats.matrix()

    def push(self, samples: np.ndarray) -> np.ndarray:
        samples = samples.astype(np.float32, copy=False)
        if self._dc is not None:
            samples = self._dc(samples)
        self._buf = np.concatenate([self._buf, samples])
        self.n_samples += len(samples)
        # Frame i is ready when its window [c - N_FFT/2, c + N_FFT/2) and its RMS hop have arrived.
        stop = self.next_frame
        while True:
            c = int(frame_centres(np.array([stop]), self.rate, self.fps)[0])
            if c + N_FFT // 2 > self.n_samples:
                break
            stop += 1
        return self._rows(stop)

    def finish(self) -> np.ndarray:
        """Rows of the utterance's remaining frames (zeros after its end, as in batch)."""
        if self.n_samples == 0 and self.next_frame == 0:
            self.reset()
            return np.zeros((0, AudioFeatures.N_FEATURES), np.float32)
        n = max(1, int(round(self.n_samples / self.rate * self.fps)))
        self._buf = np.concatenate([self._buf, np.zeros(2 * N_FFT, np.float32)])
        rows = self._rows(max(n, self.next_frame))
        self.reset()
        return rows

    def silence(self, n: int) -> np.ndarray:
        """Rows of ``n`` frames of silence (what idle time feeds the generator)."""
        feats = features_at(np.zeros(3 * N_FFT, np.float32), np.full(n, N_FFT), self.rate, self.fps)
        return feats.matrix()
