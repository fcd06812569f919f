"""Lip sync: does the mouth open with the sound? Pearson r of inner-lip gap and audio loudness per frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio import Audio, features


@dataclass(frozen=True)
class LipSyncConfig:
    """``signal``: "loudness" (dB mapped to 0..1) or "energy" (RMS); ``max_lag``: frames searched
    either way for the best-aligned r (reported beside the lag-0 r, which is the score)."""

    signal: str = "loudness"
    max_lag: int = 3


@dataclass
class LipSyncResult:
    r: float | None                 # Pearson r at lag 0 (None: too few frames with a face, or a flat signal)
    best_r: float | None
    best_lag: int                   # frames; positive: the mouth follows the sound
    lip_gap: list[float | None]     # per frame (inter-ocular units)
    audio: list[float | None]       # the audio signal per frame


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def lip_sync(lip_gap: np.ndarray, audio: Audio, fps: float, config: LipSyncConfig = LipSyncConfig()) -> LipSyncResult:
    """Correlate ``lip_gap`` [T] (NaN: no face) with the audio's per-frame ``config.signal``."""
    if config.signal not in ("loudness", "energy"):
        raise ValueError(f"signal must be 'loudness' or 'energy', got {config.signal!r}")
    feats = features(audio, fps=fps, level=None)  # the sound as recorded: the detector owes nothing to tbd's front end
    sound = np.asarray(getattr(feats, config.signal), np.float64)
    n = len(lip_gap)
    sound = np.pad(sound[:n], (0, max(0, n - len(sound))), constant_values=np.nan)
    gap = np.asarray(lip_gap, np.float64)
    r = _pearson(gap, sound)
    best_r, best_lag = r, 0
    for lag in range(-config.max_lag, config.max_lag + 1):
        if lag == 0:
            continue
        shifted = _pearson(gap[lag:], sound[:n - lag]) if lag > 0 else _pearson(gap[:lag], sound[-lag:])
        if shifted is not None and (best_r is None or shifted > best_r):
            best_r, best_lag = shifted, lag
    return LipSyncResult(
        r=None if r is None else round(r, 5),
        best_r=None if best_r is None else round(best_r, 5),
        best_lag=best_lag,
        lip_gap=[None if not np.isfinite(v) else round(float(v), 5) for v in gap],
        audio=[None if not np.isfinite(v) else round(float(v), 5) for v in sound],
    )
