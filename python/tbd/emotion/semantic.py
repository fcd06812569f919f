"""Emotion by meaning: the prototype nearest to a phrase the lexicon does not list.

Every lexicon phrase of every prototype is embedded once per process with the sentence
encoder; a query phrase goes to the prototype of its most similar lexicon phrase when that
similarity clears an absolute threshold *and* beats the best match among a bank of plainly
non-emotional phrases by a margin (a "none" class, so that "the quarterly report" or
keyboard mashing do not get an emotion just because something is always nearest).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from ..text_encoder import TextEncoder, get_text_encoder, minilm_available
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


@functools.lru_cache(maxsize=2)
def _banks(encoder_name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    encoder = get_text_encoder("minilm" if encoder_name != "hash-384-v1" else "hash")
    labels, phrases = [], []
    for proto in PROTOTYPES.values():
        if proto.name == "neutral":
            continue
        for phrase in proto.words:
            labels.append(proto.name)
            phrases.append(phrase)
    bank = encoder.encode(phrases)
    none = encoder.encode(list(NON_EMOTIONAL) + list(PROTOTYPES["neutral"].words))
    bank.setflags(write=False)
    none.setflags(write=False)
    return tuple(labels), bank, none


@functools.lru_cache(maxsize=1)
def default_matcher() -> MeaningMatcher | None:
    """The MiniLM matcher when transformers and the model package are installed, else None."""
    if not minilm_available():
        return None
    try:
        return MeaningMatcher(get_text_encoder("minilm"))
    except Exception:  # a broken optional install must not break the rules reasoner
        return None
