"""Word and phone timings of known text in speech: pocketsphinx forced alignment.

Used at run time for ``transcript=`` (``Talker.animate``, ``Talker.motion``, ``--transcript``)
and to label the built-in corpus. Needs the optional ``pocketsphinx`` package
(``pip install "tbd[align]"``): en-US acoustic model and CMU dictionary, offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import BackendError


@dataclass(frozen=True)
class Segment:
    """A word or phone from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Alignment:
    words: list[Segment]
    phones: list[Segment]


def pocketsphinx_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pocketsphinx") is not None


class Aligner:
    """Forced alignment of known text with pocketsphinx (en-US acoustic model, CMU dictionary)."""

    FRAME_S = 0.01

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise BackendError("forced alignment needs pocketsphinx: pip install pocketsphinx") from exc
        # Very wide beams: the default ones lose the path on some espeak voices (low pitch, accents).
        self._decoder = Decoder(samprate=16000, bestpath=False, loglevel="FATAL",
                                beam=1e-200, wbeam=1e-200, pbeam=1e-200)

    def pronounce(self, text: str) -> list[list[str]]:
        """The CMU dictionary's phones of each word of ``text`` (words it lacks are left out)."""
        out = []
        for word in words_of(text):
            phones = self._decoder.lookup_word(word)
            if phones:
                out.append(phones.split())
        return out

    def align(self, samples_16k: np.ndarray, text: str) -> Alignment | None:
        """Word and phone timings of ``text`` in 16 kHz ``samples_16k`` (None if alignment fails)."""
        words = words_of(text)
        if not words:
            return None
        pcm = (np.clip(samples_16k, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        d = self._decoder
        try:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            if d.hyp() is None:
                return None
            d.set_alignment()
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            result = d.get_alignment()
        except (RuntimeError, ValueError, KeyError):
            return None
        if result is None:
            return None
        out_words, out_phones = [], []
        for w in result:
            name = re.sub(r"\(\d+\)$", "", w.name)
            out_words.append(Segment(name, w.start * self.FRAME_S, (w.start + w.duration) * self.FRAME_S))
            for p in w:
                out_phones.append(Segment(p.name, p.start * self.FRAME_S, (p.start + p.duration) * self.FRAME_S))
        return Alignment(out_words, out_phones)


def words_of(text: str) -> list[str]:
    """The words of ``text`` as the CMU dictionary spells them (lower case, apostrophes kept)."""
    return re.findall(r"[a-z']+", text.lower())
