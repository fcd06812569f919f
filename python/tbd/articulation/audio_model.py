"""Visemes from audio alone: a small classifier over the generator's own audio features.

Input per frame: the ``AudioFeatures.matrix`` rows of ``past`` frames before it, itself and
up to ``ahead`` frames after it (a row that has not arrived yet, in a live session, is zeros
with its flag off: the model was trained with such gaps, so it works within any lookahead).
Output: the probabilities of the 15 visemes. Two ReLU layers, run in numpy (no torch at
inference); the weights ship with the package (``weights/visemes-v1.npz``, loaded with
``allow_pickle=False``). Trained by ``tbd train-visemes`` on the built-in corpus, with the
forced-aligned phones as labels (``tbd.articulation.training``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from ..audio import AudioFeatures
from ..errors import WeightsError
from .visemes import N_VISEMES

FORMAT = "tbd-visemes"
WEIGHTS_FILE = "visemes-v1.npz"


@dataclass(frozen=True)
class VisemeModelConfig:
    """Sizes of the viseme classifier (stored with its weights)."""

    n_features: int = AudioFeatures.N_FEATURES
    past: int = 6       # frames before the frame
    ahead: int = 2      # frames after it (at most; fewer in a live block)
    hidden: int = 256

    @property
    def width(self) -> int:
        return self.past + 1 + self.ahead

    @property
    def n_inputs(self) -> int:
        return self.width * self.n_features + self.ahead


def window_inputs(rows: np.ndarray, config: VisemeModelConfig, available: int | None = None,
                  first: int = 0, count: int | None = None) -> np.ndarray:
    """The classifier's inputs ``[count, n_inputs]`` for frames ``first .. first + count`` of
    ``rows`` (``[T, F]``). Rows before 0 are silence; rows at or after ``available`` (default:
    all of ``rows``) are missing (zeros, flag off)."""
    rows = np.asarray(rows, np.float32)
    t_total = len(rows)
    available = t_total if available is None else int(available)
    count = t_total - first if count is None else int(count)
    idx = np.arange(first, first + count)[:, None] + np.arange(-config.past, config.ahead + 1)[None, :]
    silent = silent_row(config.n_features)
    padded = np.concatenate([np.repeat(silent[None], config.past, 0), rows,
                             np.zeros((config.ahead + 1, config.n_features), np.float32)])
    win = padded[np.clip(idx + config.past, 0, len(padded) - 1)]
    present = idx < available
    win = win * present[..., None]
    flags = present[:, config.past + 1:].astype(np.float32)
    return np.concatenate([win.reshape(count, -1), flags], axis=1)


@functools.lru_cache(maxsize=4)
def silent_row(n_features: int) -> np.ndarray:
    """The feature row of digital silence (log-mel floor, zero loudness)."""
    from ..audio import _MEL_MEAN, _MEL_STD, MEL_FLOOR

    row = np.full(n_features, (np.log(MEL_FLOOR) - _MEL_MEAN) / _MEL_STD, np.float32)
    row[-1] = 0.0
    return row


POSTERIOR_BLOCK = 4096
"""Frames ``posteriors`` classifies at once (every frame's window is independent)."""
SMALL_ROWS = 16


def _small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,jk->ik", a, b, optimize=False)


class VisemeClassifier:
    """``posteriors(rows)`` -> viseme probabilities ``[T, 15]`` from audio-feature rows."""

    def __init__(self, params: dict[str, np.ndarray], config: VisemeModelConfig, *, meta: dict | None = None) -> None:
        self.config = config
        self.meta = meta or {}
        names = ("mean", "std", "w1", "b1", "w2", "b2", "w3", "b3")
        missing = [n for n in names if n not in params]
        if missing:
            raise WeightsError(f"viseme weights lack {missing}")
        p = {n: np.asarray(params[n], np.float32) for n in names}
        if p["w1"].shape != (config.n_inputs, config.hidden) or p["w3"].shape != (config.hidden, N_VISEMES):
            raise WeightsError(f"viseme weights have shapes {p['w1'].shape}, {p['w3'].shape}; the config "
                               f"needs ({config.n_inputs}, {config.hidden}), ({config.hidden}, {N_VISEMES})")
        self.params = p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "VisemeClassifier":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError) as exc:
            raise WeightsError(f"{path}: not a readable viseme weights file ({exc})") from exc
        import json

        try:
            header = json.loads(bytes(arrays.pop("header")).decode("utf-8"))
        except (KeyError, ValueError) as exc:
            raise WeightsError(f"{path}: no tbd-visemes header") from exc
        if header.get("format") != FORMAT:
            raise WeightsError(f"{path}: format {header.get('format')!r}, expected {FORMAT!r}")
        known = {f.name for f in fields(VisemeModelConfig)}
        config = VisemeModelConfig(**{k: v for k, v in header.get("config", {}).items() if k in known})
        return cls(arrays, config, meta=header)

    def save(self, path: str | os.PathLike[str]) -> None:
        import json

        header = {**self.meta, "format": FORMAT, "config": asdict(self.config)}
        np.savez(path, header=np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8), **self.params)

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        p = self.params
        # A live block has a few rows: a plain loop (einsum) there, because a BLAS call wakes
        # BLAS's worker threads, whose spinning costs more CPU than the product itself.
        mul = _small_matmul if len(inputs) <= SMALL_ROWS else np.matmul
        h = (inputs - p["mean"]) / p["std"]
        h = np.maximum(mul(h, p["w1"]) + p["b1"], 0.0)
        h = np.maximum(mul(h, p["w2"]) + p["b2"], 0.0)
        return mul(h, p["w3"]) + p["b3"]

    def posteriors(self, rows: np.ndarray, available: int | None = None, first: int = 0,
                   count: int | None = None) -> np.ndarray:
        """Viseme probabilities ``[count, 15]`` of frames ``first ..`` (see ``window_inputs``)."""
        count = len(rows) - first if count is None else int(count)
        if count > POSTERIOR_BLOCK:  # an hour of frames at once would take about a gigabyte of inputs
            return np.concatenate([self.posteriors(rows, available, i, min(POSTERIOR_BLOCK, first + count - i))
                                   for i in range(first, first + count, POSTERIOR_BLOCK)])
        z = self.logits(window_inputs(rows, self.config, available, first, count))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def bundled_path() -> Path:
    return Path(__file__).resolve().parent.parent / "generator" / "weights" / WEIGHTS_FILE


@functools.lru_cache(maxsize=1)
def default_classifier() -> VisemeClassifier | None:
    """The bundled classifier, or None when this install ships none (articulation then
    follows loudness alone)."""
    path = bundled_path()
    return VisemeClassifier.load(path) if path.is_file() else None
