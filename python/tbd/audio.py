"""AUDIO: read speech, resample to 16 kHz mono, and compute frame-aligned features.

    audio = tbd.audio.load("speech.wav")          # or (samples, rate), or a file object
    feats = tbd.audio.features(audio, fps=25)     # log-mel, RMS energy, loudness per video frame

``features`` evens out the recording level first (`LevelConfig`): a quiet microphone or a
synthesiser that writes at -30 dBFS moves the mouth as a voice at the usual level does.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO, Union

import numpy as np

from .errors import AudioError

SAMPLE_RATE = 16000
N_MELS = 80
N_FFT = 1024
# Loudness maps RMS level in dBFS from SILENCE_DB..0 to 0..1.
SILENCE_DB = -60.0
MEL_FLOOR = 1e-6  # added to the mel power before the log
# Sample rates read (Hz): below, speech is unintelligible; above, a header is likely corrupt.
MIN_RATE, MAX_RATE = 4000, 768000

AudioSource = Union[str, "os.PathLike[str]", tuple, BinaryIO, "Audio"]


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in -1..1 at ``rate`` Hz."""

    samples: np.ndarray
    rate: int
    source: str = "audio"

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def n_frames(self, fps: float) -> int:
        """Video frames covering this audio at ``fps`` (at least one)."""
        return max(1, int(round(self.duration * fps)))


@dataclass(frozen=True)
class AudioFeatures:
    """Per-video-frame audio features; every array has ``n_frames`` rows."""

    mel: np.ndarray        # float32 [T, N_MELS], log-mel (natural log of power + MEL_FLOOR)
    energy: np.ndarray     # float32 [T], RMS amplitude of the frame's window
    loudness: np.ndarray   # float32 [T], RMS in dBFS mapped from SILENCE_DB..0 to 0..1
    fps: float

    N_FEATURES = N_MELS + 1

    @property
    def n_frames(self) -> int:
        return int(self.mel.shape[0])

    def matrix(self) -> np.ndarray:
        """The per-frame model input ``[T, N_FEATURES]``: normalised log-mel and loudness."""
        mel = (self.mel - _MEL_MEAN) / _MEL_STD
        return np.concatenate([mel, self.loudness[:, None]], axis=1).astype(np.float32)


# Rough log-mel statistics of speech at normal level, so model inputs are O(1).
_MEL_MEAN = -8.0
_MEL_STD = 4.0


def load(src: AudioSource, *, rate: int = SAMPLE_RATE) -> Audio:
    """Read audio from a path, a file object, ``(samples, sample_rate)`` or an ``Audio``;
    mix to mono and resample to ``rate`` with a polyphase filter.

    Raises AudioError when the file is missing, unreadable, not audio or empty.
    """
    if isinstance(src, Audio):
        samples, src_rate, name = src.samples, src.rate, src.source
    elif isinstance(src, tuple):
        samples, src_rate, name = _from_tuple(src)
    else:
        samples, src_rate, name = _read(src)

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise AudioError(f"{name}: the audio is empty (0 samples); give a clip with at least one frame of sound")
    if not np.isfinite(samples).all():
        raise AudioError(f"{name}: the audio contains NaN or infinite samples")
    if not MIN_RATE <= src_rate <= MAX_RATE:
        raise AudioError(f"{name}: sample rate {src_rate} Hz is outside {MIN_RATE}..{MAX_RATE} Hz; "
                         "resample the audio (e.g. to 16000 Hz) or check that the file is not corrupt")
    peak = float(np.abs(samples).max())
    if peak > 1.001:  # (integer PCM scaled by its max reaches -1.00003: not worth a warning)
        warnings.warn(f"{name}: the audio peaks at {peak:.3g}, beyond the -1..1 of full scale; "
                      f"scaled down by {peak:.3g} so nothing clips", stacklevel=2)
        samples = samples / peak
    elif peak > 1.0:
        samples = np.clip(samples, -1.0, 1.0)
    if src_rate != rate:
        samples = np.clip(_resample(samples, src_rate, rate), -1.0, 1.0)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), rate, name)


def _from_tuple(src: tuple) -> tuple[np.ndarray, int, str]:
    if len(src) != 2:
        raise AudioError("audio given as a tuple must be (samples, sample_rate)")
    samples, src_rate = src
    samples = np.asarray(samples)
    if not isinstance(src_rate, (int, np.integer)) or src_rate <= 0:
        raise AudioError(f"sample_rate must be a positive integer, got {src_rate!r}")
    if samples.ndim not in (1, 2):
        raise AudioError(f"samples must be [N] or [N, channels], got shape {samples.shape}")
    if samples.ndim == 2:
        samples = _samples_first(samples)
    if samples.dtype.kind == "i":
        samples = samples.astype(np.float32) / np.iinfo(samples.dtype).max
    elif samples.dtype.kind == "u":  # unsigned PCM (8-bit WAV's layout): silence at the middle code
        mid = (int(np.iinfo(samples.dtype).max) + 1) / 2
        samples = (samples.astype(np.float32) - mid) / mid
    elif samples.dtype.kind != "f":
        raise AudioError(f"samples must be float, signed or unsigned integer PCM, got dtype {samples.dtype}")
    return samples, int(src_rate), "samples"


MAX_CHANNELS = 8


def _samples_first(samples: np.ndarray) -> np.ndarray:
    """A 2-D array as [N, channels]: soundfile's layout, or [channels, N] (torchaudio's) transposed."""
    n, c = samples.shape
    if c <= MAX_CHANNELS < n or (c <= MAX_CHANNELS and n <= MAX_CHANNELS and c <= n):
        return samples
    if n <= MAX_CHANNELS < c:
        return samples.T
    raise AudioError(f"samples of shape {samples.shape} look like neither [N, channels] nor [channels, N] "
                     f"(at most {MAX_CHANNELS} channels); pass mono samples [N]")


def _read(src: Any) -> tuple[np.ndarray, int, str]:
    import soundfile as sf

    if isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        if os.path.isdir(name):
            raise AudioError(f"{name}: is a folder, not an audio file; give the path of a WAV, FLAC, OGG or MP3 file")
        if not os.path.isfile(name):
            if os.path.exists(name):
                raise AudioError(f"{name}: not a regular file (a device, pipe or socket); give a WAV, FLAC, OGG or "
                                 "MP3 file")
            raise AudioError(f"{name}: no such audio file")
        if os.path.getsize(name) == 0:
            raise AudioError(f"{name}: the file is empty (0 bytes); give a WAV, FLAC, OGG or MP3 file with speech")
    elif hasattr(src, "read"):
        name = getattr(src, "name", "audio stream")
    else:
        raise AudioError(
            f"cannot read audio from a {type(src).__name__}; give a path, a file object or (samples, sample_rate)"
        )
    try:
        samples, src_rate = sf.read(src, dtype="float32", always_2d=False)
    except MemoryError as exc:
        raise AudioError(f"{name}: not enough memory to read the audio; give a shorter clip") from exc
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, EOFError, io.UnsupportedOperation) as exc:
        raise AudioError(
            f"{name}: not a readable audio file ({exc}); use WAV, FLAC, OGG or MP3"
        ) from exc
    if isinstance(src, (str, os.PathLike)):
        _warn_if_truncated_wav(name, len(samples), int(src_rate))
    return samples, int(src_rate), str(name)


def _warn_if_truncated_wav(path: str, frames_read: int, rate: int) -> None:
    """Warn when a RIFF/WAVE file's data chunk declares more audio than the file holds (a cut-off
    download or copy): soundfile reads what is there without a word."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    at = 12
    while at + 8 <= len(head):
        chunk, size = head[at:at + 4], int.from_bytes(head[at + 4:at + 8], "little")
        if chunk == b"data":
            held = os.path.getsize(path) - (at + 8)
            if size != 0xFFFFFFFF and size > held and frames_read:
                declared_s = frames_read / rate * size / max(held, 1)
                warnings.warn(f"{path}: the file is cut short: its header declares {declared_s:.2f} s of audio, "
                              f"it holds {frames_read / rate:.2f} s; animating what is there", stacklevel=3)
            return
        at += 8 + size + (size & 1)


def _resample(samples: np.ndarray, src_rate: int, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    ratio = Fraction(rate, src_rate).limit_denominator(1000)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


@dataclass(frozen=True)
class LevelConfig:
    """How the recording level is evened out before the features reach the models.

    The noise floor falls at once to a quieter frame and rises slowly (digital silence leaves it
    as it is: a recording padded with zeros before its room noise still gates that noise). The
    speech level is a peak follower over the frames that stand clear of that floor (instant rise,
    slow fall, held in pauses); a level outside ``normal_db`` is brought to its nearer edge. Where
    the floor is audible (room noise, a hum) and has held for ``floor_hold_s`` (a pause, not the
    dip between two syllables), frames near it are lowered by ``gate_db`` or to ``min_speech_db``:
    a pause is silence to the mouth. The bundled speech and six synthesised voices (espeak-ng's
    en-us+f3, +m3 and en-029+f5, festival, flite's default and rms) peak at -18 to -12 dBFS on
    this follower and have no audible floor: their features are exactly as recorded.
    """

    normal_db: tuple[float, float] = (-19.0, -9.0)  # tracked speech level left as it is, dBFS
    max_boost_db: float = 24.0           # the most a quiet recording is raised
    max_cut_db: float = 12.0             # the most a hot one is lowered
    release_db_per_s: float = 3.0        # how fast the tracked level falls toward quieter speech
    gain_rise_db_per_s: float = 50.0     # how fast the gain may rise (it falls at once)
    gain_after_s: float = 0.2            # speech heard before any gain: a voice's first onset is not its level
    floor_rise_db_per_s: float = 3.0     # how fast the noise floor follows a louder background
    above_floor_db: tuple[float, float] = (3.0, 9.0)  # a frame this far over the floor takes none .. all of the gain
    min_speech_db: float = -60.0         # quieter frames never count as speech (dither); nor is a quieter floor gated
    gate_db: float = 24.0                # how far a frame at an audible floor is lowered (at least to min_speech_db)
    gate_band_db: tuple[float, float] = (3.0, 6.0)  # a frame this far over the floor is lowered fully .. not at all
    floor_hold_s: float = 0.3            # the sound must stay near its floor this long before the floor is gated
    floor_hold_alone_s: float = 0.6      # as long, before any speech has stood clear of it (a held vowel, a hum)
    min_floor_db: float = -90.0          # quieter frames are digital silence: they leave the floor as it is
    dc_offset: float = 0.02              # a running mean beyond this is a DC offset, removed from there on
    dc_time_s: float = 0.5               # the running mean's time constant (speech alone keeps it under 0.013)

    def __post_init__(self) -> None:
        for name in ("normal_db", "above_floor_db", "gate_band_db"):
            low, high = getattr(self, name)
            if not low < high:
                raise ValueError(f"LevelConfig.{name} must be (low, high) with low < high, got {(low, high)}")
        for name in ("max_boost_db", "max_cut_db", "release_db_per_s", "gain_rise_db_per_s", "gain_after_s",
                     "floor_rise_db_per_s", "gate_db", "floor_hold_s", "floor_hold_alone_s", "dc_offset"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"LevelConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not self.dc_time_s > 0:
            raise ValueError(f"LevelConfig.dc_time_s must be > 0, got {self.dc_time_s}")


class LevelTracker:
    """Causal level evening over frame features, one frame at a time (`LevelConfig`).

    ``apply(feats)`` returns the features with each frame's gain applied and keeps its state, so
    that a live session's rows, fed chunk by chunk, get what one call on the whole utterance gives
    (``reset_floor`` between utterances keeps the speech level for the next one).
    Stationary noise never stands clear of its own floor: it is not raised, and where it is
    audible it is gated (a hum, a fan, a noisy room).
    """

    def __init__(self, config: LevelConfig, fps: float) -> None:
        self.config, self.fps = config, float(fps)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frame starts a recording."""
        self._level: float | None = None  # tracked speech level, dBFS (None until speech is heard)
        self._heard = 0                   # speech frames so far
        self._gain = 0.0                  # gain applied to frames clear of the floor, dB
        self.reset_floor()

    def reset_floor(self) -> None:
        """Forget the noise floor but keep the speech level: the next frame starts another utterance of the
        same speaker (the floor is learnt again from it, as in a recording of that utterance alone)."""
        self._floor: float | None = None  # noise floor, dBFS
        self._held = 0                    # frames in a row near the floor
        self._gated = False               # whether the floor has held long enough to be gated

    def gains(self, db: np.ndarray) -> np.ndarray:
        """Gain in dB per frame [T] for frames of level ``db`` [T] (dBFS), in order."""
        c = self.config
        lo, hi = c.normal_db
        release, gain_rise = c.release_db_per_s / self.fps, c.gain_rise_db_per_s / self.fps
        gain_after = c.gain_after_s * self.fps
        floor_rise = c.floor_rise_db_per_s / self.fps
        out = np.zeros(len(db))
        for t, d in enumerate(np.asarray(db, np.float64)):
            if d < c.min_floor_db:  # digital silence says nothing of the background: the floor waits for sound
                floor, clear, self._held = self._floor, 0.0, 0
            else:
                floor = d if self._floor is None or d < self._floor else self._floor + floor_rise
                self._floor = floor
                clear = _ramp(d - floor, c.above_floor_db)
                self._held = self._held + 1 if clear <= 0.0 else 0
                hold = c.floor_hold_s if self._level is not None else c.floor_hold_alone_s
                self._gated = self._gated or self._held >= hold * self.fps
            if clear >= 1.0 and d > c.min_speech_db:
                self._level = d if self._level is None else max(self._level - release, d)
                self._heard += 1
            target = 0.0
            if self._heard >= gain_after and self._level < lo:
                target = min(lo - self._level, c.max_boost_db)
            elif self._heard >= gain_after and self._level > hi:
                target = max(hi - self._level, -c.max_cut_db)
            self._gain = min(target, self._gain + gain_rise)
            gated = self._gated and floor is not None and floor > c.min_speech_db
            depth = max(c.gate_db, d - c.min_speech_db)  # at least down to where nothing counts as speech
            gate = depth * (1.0 - _ramp(d - floor, c.gate_band_db)) if gated else 0.0
            out[t] = self._gain * clear - gate
        return out

    def apply(self, feats: AudioFeatures) -> AudioFeatures:
        """``feats`` with each frame's gain applied to its log-mel, energy and loudness."""
        db = _decibels(feats.energy)
        gain = self.gains(db)
        rows = np.flatnonzero(gain)  # the others stay bit for bit
        if not len(rows):
            return feats
        g = gain[rows]
        mel, energy, loudness = feats.mel.copy(), feats.energy.copy(), feats.loudness.copy()
        power = np.maximum(np.exp(mel[rows].astype(np.float64)) - MEL_FLOOR, 0.0) * 10 ** (g[:, None] / 10)
        mel[rows] = np.log(power + MEL_FLOOR)
        energy[rows] = energy[rows] * 10 ** (g / 20)
        loudness[rows] = _loudness(db[rows] + g)
        return AudioFeatures(mel=mel, energy=energy, loudness=loudness, fps=feats.fps)


class DcRemover:
    """Removes a recording's DC offset (a cheap microphone's, or a bad file's), sample by sample.

    The offset is the samples' running mean (`LevelConfig.dc_time_s`); once it exceeds
    `LevelConfig.dc_offset` it is subtracted from every sample on. Speech alone never gets there,
    so a clean recording's samples are left bit for bit. Chunked calls give what one call gives.
    """

    def __init__(self, config: LevelConfig, rate: int) -> None:
        self.config, self.rate = config, int(rate)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros(1)   # the running mean's filter state
        self._removing = False

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        from scipy.signal import lfilter

        if not len(samples):
            return samples
        a = 1.0 / (self.config.dc_time_s * self.rate)
        mean, self._state = lfilter([a], [1.0, a - 1.0], samples.astype(np.float64), zi=self._state)
        if not self._removing:
            over = np.flatnonzero(np.abs(mean) > self.config.dc_offset)
            if not len(over):
                return samples
            self._removing, start = True, int(over[0])
        else:
            start = 0
        out = samples.astype(np.float32, copy=True)
        out[start:] = (samples[start:] - mean[start:]).astype(np.float32)
        return out


def _ramp(x: float, band: tuple[float, float]) -> float:
    """0 below ``band[0]``, 1 from ``band[1]`` on, linear between (a float: it runs once per frame)."""
    return min(max((x - band[0]) / (band[1] - band[0]), 0.0), 1.0)


FEATURE_BLOCK = 2048
"""Frames whose spectra ``features`` computes at once (about 80 s at 25 fps; every frame is independent)."""


def features(audio: Audio, fps: float = 25.0, *, level: LevelConfig | None = LevelConfig()) -> AudioFeatures:
    """Log-mel, RMS energy and loudness, one row per video frame at ``fps``.

    Frame ``i`` covers the window centred on its midpoint ``(i + 0.5) / fps`` seconds. ``level``
    evens out the recording level, causally (`DcRemover`, `LevelTracker`; ``None``: the level as recorded).
    """
    if not fps > 0 or not np.isfinite(fps):
        raise ValueError(f"fps must be a positive finite number, got {fps}")
    n = audio.n_frames(fps)
    centres = frame_centres(np.arange(n), audio.rate, fps)
    # At a low frame rate the last frame's midpoint, or its loudness window of one frame's
    # samples, can reach past the clip's end: pad beyond it.
    beyond = max(0, int(centres[-1]) + int(audio.rate / fps) - len(audio.samples)) if n else 0
    samples = DcRemover(level, audio.rate)(audio.samples) if level is not None else audio.samples
    padded = np.pad(samples, (N_FFT // 2, N_FFT // 2 + N_FFT + beyond))
    # Long clips in blocks: the windowed spectra of an hour at once would take gigabytes.
    blocks = [features_at(padded, centres[i : i + FEATURE_BLOCK], audio.rate, fps) for i in range(0, n, FEATURE_BLOCK)]
    if level is not None:
        tracker = LevelTracker(level, fps)  # one tracker across the blocks: it runs in order, frame by frame
        blocks = [tracker.apply(b) for b in blocks]
    if len(blocks) == 1:
        return blocks[0]
    return AudioFeatures(mel=np.concatenate([b.mel for b in blocks]), energy=np.concatenate([b.energy for b in blocks]),
                         loudness=np.concatenate([b.loudness for b in blocks]), fps=float(fps))


def frame_centres(frames: np.ndarray, rate: int, fps: float) -> np.ndarray:
    """Sample index of the midpoint of each video frame (``(i + 0.5) / fps`` seconds)."""
    return ((np.asarray(frames) + 0.5) * rate / fps).astype(np.int64)


def features_at(padded: np.ndarray, centres: np.ndarray, rate: int, fps: float) -> AudioFeatures:
    """Features of the frames whose midpoints are ``centres``; ``padded`` holds the samples
    with ``N_FFT // 2`` samples before sample 0 (zeros at a clip's start). Batch ``features``
    and the live sessions' incremental features both go through here, so they agree exactly."""
    half = N_FFT // 2
    frames = padded[centres[:, None] + np.arange(N_FFT)[None, :]]  # window centred on centres

    window = np.hanning(N_FFT).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 / (window**2).sum()
    mel = np.log(power @ _mel_filterbank(rate).T + MEL_FLOOR).astype(np.float32)

    # RMS over one video frame's worth of samples, so energy follows syllables, not the FFT window.
    hop = max(1, int(rate / fps))
    lo = np.clip(centres - hop // 2 + half, 0, len(padded))
    seg = padded[lo[:, None] + np.arange(hop)[None, :]]
    energy = np.sqrt((seg.astype(np.float64) ** 2).mean(axis=1)).astype(np.float32)
    return AudioFeatures(mel=mel, energy=energy, loudness=_loudness(_decibels(energy)), fps=float(fps))


def _decibels(energy: np.ndarray) -> np.ndarray:
    """RMS amplitude -> dBFS, in the amplitude's dtype (-160 for digital silence)."""
    return 20 * np.log10(np.maximum(energy, 1e-8))


def _loudness(db: np.ndarray) -> np.ndarray:
    """dBFS -> loudness 0..1 (float32): SILENCE_DB..0 mapped linearly."""
    return np.clip((db - SILENCE_DB) / -SILENCE_DB, 0.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _mel_filterbank(rate: int, n_mels: int = N_MELS, fmin: float = 60.0, fmax: float | None = None) -> np.ndarray:
    """Triangular HTK-mel filters ``[n_mels, N_FFT // 2 + 1]``."""
    fmax = fmax or rate / 2
    to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    to_hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = to_hz(np.linspace(to_mel(fmin), to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
