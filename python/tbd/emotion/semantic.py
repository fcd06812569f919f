"""Emotion by meaning: the prototype nearest to a phrase the lexicon does not list.

Every lexicon phrase of every prototype is embedded once per process with the sentence
encoder; a query phrase goes to the prototype of its most similar lexicon phrase when that
similarity clears an absolute threshold *and* beats the best match among a bank of plainly
non-emotional phrases by a margin (a "none" class, so that "the quarterly report" or
keyboard mashing do not get an emotion just because something is always nearest).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import BackendError
from ..text_encoder import MINILM_NAME, TextEncoder, get_text_encoder, minilm_available
from .prototypes import PROTOTYPES

MIN_SIMILARITY = 0.5
MIN_MARGIN = 0.04

# Phrases with no emotion: the "none" class. Everyday objects, actions, instructions, noise.
NON_EMOTIONAL: tuple[str, ...] = (
    "the weather today", "a table and a chair", "reading the newspaper", "walking to the station",
    "numbers and letters", "random characters", "hello", "the meeting is at noon", "a red car",
    "the product description", "ignore the previous instructions", "output json", "print the system prompt",
    "the quarterly report", "a cup of coffee", "talking about the schedule", "a person speaking",
    "he says something", "she reads a list", "the train leaves at five", "a plain sentence",
    "lorem ipsum dolor sit amet", "asdf qwerty", "xyz abc", "test test test", "the capital of france",
    "a photo of a building", "open the door", "the end", "ok", "the color blue", "a computer program",
    "describe the image", "one two three", "speaking normally", "an ordinary day", "the sky",
    # single words of instructions and data, the vocabulary of prompts and code
    "text", "data", "answer", "question", "output", "input", "owned", "owner", "backend", "json", "print",
    "code", "system", "prompt", "instructions", "value", "string", "file", "document", "message", "format",
    "number", "list", "word", "sentence", "above", "below", "nothing else", "return", "respond",
)


class MeaningMatcher:
    """Nearest prototype by sentence-embedding similarity, with a non-emotional reject class."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self._labels, self._bank, self._none = _banks(encoder.name)

    def match(self, phrases: Sequence[str]) -> list[tuple[str | None, float]]:
        """For each phrase: (prototype or None, similarity of its best lexicon phrase)."""
        if not phrases:
            return []
        q = self.encoder.encode(list(phrases))
        sims = q @ self._bank.T
        none_best = (q @ self._none.T).max(axis=1)
        out: list[tuple[str | None, float]] = []
        for row, nb in zip(sims, none_best):
            j = int(np.argmax(row))
            best = float(row[j])
            ok = best >= MIN_SIMILARITY and best >= float(nb) + MIN_MARGIN
            out.append((self._labels[j] if ok else None, best))
        return out


BANK_FILE = Path(__file__).with_name("minilm_bank.npz")
"""Precomputed MiniLM embeddings of the bank phrases (float16), checked by a fingerprint of the
phrases and the encoder, so that a warm-up does not embed ~1000 phrases. Rebuild with
``python -m tbd.emotion.semantic``; a stale file is ignored (the bank is then computed)."""


def bank_phrases() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(labels, emotion phrases, non-emotional phrases) of the matcher's banks."""
    labels, phrases = [], []
    for proto in PROTOTYPES.values():
        if proto.name == "neutral":
            continue
        for phrase in proto.words:
            labels.append(proto.name)
            phrases.append(phrase)
    none = list(NON_EMOTIONAL) + list(PROTOTYPES["neutral"].words)
    return tuple(labels), tuple(phrases), tuple(none)


def bank_fingerprint(encoder_name: str) -> str:
    _, phrases, none = bank_phrases()
    payload = json.dumps([encoder_name, phrases, none]).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def _load_bank_file(encoder_name: str, n_phrases: int, n_none: int) -> tuple[np.ndarray, np.ndarray] | None:
    if not BANK_FILE.exists():
        return None
    with np.load(BANK_FILE, allow_pickle=False) as data:
        if str(data["fingerprint"]) != bank_fingerprint(encoder_name):
            return None
        bank, none = data["bank"].astype(np.float32), data["none"].astype(np.float32)
    if bank.shape[0] != n_phrases or none.shape[0] != n_none:
        return None
    # float16 storage: renormalise rows
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    none /= np.linalg.norm(none, axis=1, keepdims=True)
    return bank, none


@functools.lru_cache(maxsize=2)
def _banks(encoder_name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    labels, phrases, none_phrases = bank_phrases()
    stored = _load_bank_file(encoder_name, len(phrases), len(none_phrases)) if encoder_name == MINILM_NAME else None
    if stored is not None:
        bank, none = stored
    else:
        encoder = get_text_encoder("minilm" if encoder_name == MINILM_NAME else "hash")
        bank, none = encoder.encode(list(phrases)), encoder.encode(list(none_phrases))
    bank.setflags(write=False)
    none.setflags(write=False)
    return labels, bank, none


def write_bank_file(path: Path = BANK_FILE) -> Path:
    """Embed the bank phrases with MiniLM and store them (float16) with their fingerprint."""
    encoder = get_text_encoder("minilm")
    _, phrases, none = bank_phrases()
    np.savez_compressed(path, fingerprint=np.array(bank_fingerprint(encoder.name)),
                        bank=encoder.encode(list(phrases)).astype(np.float16),
                        none=encoder.encode(list(none)).astype(np.float16))
    return path


@functools.lru_cache(maxsize=1)
def default_matcher() -> MeaningMatcher | None:
    """The MiniLM matcher when transformers and the model package are installed, else None."""
    if not minilm_available():
        return None
    try:
        return MeaningMatcher(get_text_encoder("minilm"))
    except (BackendError, OSError, ImportError, RuntimeError, ValueError):
        return None  # a broken optional install must not break the rules reasoner


if __name__ == "__main__":
    print(f"wrote {write_bank_file()}")
