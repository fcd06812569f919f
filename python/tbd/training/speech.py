"""Synthetic speech for the built-in corpus: random sentences, espeak-ng voices, forced alignment.

``random_sentence`` composes English sentences from a small grammar (varied phonemes, commas
and full stops for pauses); ``synthesize`` speaks them with espeak-ng at a given voice, rate
and pitch; ``tbd.articulation.align`` gives word and phone timings from pocketsphinx forced
alignment against the known text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

from ..errors import BackendError

VOICES_TRAIN: tuple[str, ...] = (
    "en-us", "en-us+m3", "en-us+f2", "en-us+f4", "en-gb", "en-gb+m2", "en-gb+f3",
    "en-gb-scotland", "en-gb-x-rp+f1", "en-us-nyc+m4", "en-gb-x-gbclan", "en+m7",
)
VOICES_HELD_OUT: tuple[str, ...] = ("en-029+f5", "en-gb-x-gbcwmd+m1")
"""Voices only the test split uses, so evaluation hears unseen speakers."""
VOICES_FESTIVAL: tuple[str, ...] = ("festival:ked",)
"""Festival voices a corpus may add (``tbd corpus --festival``): another synthesiser, so the viseme
classifier learns more than espeak-ng's sound. Festival's ``kal`` and ``slt`` are left out: flite,
the synthesiser the benchmarks hold out, speaks from the same recordings."""
FESTIVAL_PREFIX = "festival:"

_SUBJECTS = (
    "the old captain", "my sister", "a quiet neighbour", "the children", "our teacher", "the doctor",
    "everyone at work", "the little dog", "a stranger", "the pilot", "my best friend", "the baker",
    "nobody", "the whole village", "your brother", "the musician", "a tired traveller", "the judge",
)
_VERBS = (
    "found", "painted", "carried", "forgot", "borrowed", "watched", "fixed", "bought", "opened",
    "followed", "described", "remembered", "lost", "delivered", "cooked", "measured", "rebuilt", "shared",
)
_OBJECTS = (
    "a broken umbrella", "the yellow boat", "seven apples", "an enormous map", "the secret letter",
    "a cup of warm milk", "the violin", "three heavy boxes", "the garden fence", "a blue bicycle",
    "the morning paper", "a jar of honey", "the key to the shed", "a pair of muddy boots", "the photograph",
)
_PLACES = (
    "by the river", "before sunrise", "in the middle of the night", "behind the station",
    "during the storm", "on the top floor", "after the long meeting", "near the old bridge",
    "at the market", "under the stairs", "on Thursday morning", "without telling anyone",
)
_CLAUSES = (
    "I can hardly believe it", "we should talk about this", "that was not the plan",
    "please listen to me", "it happens every summer", "you would have laughed", "nobody expected that",
    "it took us hours", "I thought you knew", "let me explain", "what a strange day it was",
    "maybe next time", "we will see", "it was perfectly fine", "honestly, I don't mind",
)
_QUESTIONS = (
    "did you hear what happened", "where were you yesterday", "why would anyone do that",
    "can you imagine", "is that really true", "how did they manage",
)


def random_sentence(rng: np.random.Generator, min_words: int = 6) -> str:
    """One to three clauses of random English (a statement, a remark, maybe a question)."""
    parts: list[str] = []
    while sum(len(p.split()) for p in parts) < min_words or (len(parts) < 3 and rng.random() < 0.35):
        kind = rng.random()
        if kind < 0.5:
            s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
            if rng.random() < 0.6:
                s += f" {rng.choice(_PLACES)}"
            parts.append(s.capitalize() + rng.choice([".", ".", ",", "!"]))
        elif kind < 0.8:
            parts.append(str(rng.choice(_CLAUSES)).capitalize() + rng.choice([".", ",", "..."]))
        else:
            parts.append(str(rng.choice(_QUESTIONS)).capitalize() + "?")
    text = " ".join(parts)
    return text[:-1] + "." if text.endswith(",") else text


@dataclass(frozen=True)
class Voice:
    """Synthesiser settings of one utterance: an espeak-ng voice name, or ``"festival:<voice>"``."""

    name: str
    rate: int  # words per minute
    pitch: int  # 0..99 (festival: a speaker-size change, resampling by up to +-8 %)
    amplitude: int  # 0..200 (100: as synthesised)

    @classmethod
    def random(cls, rng: np.random.Generator, voices: tuple[str, ...] = VOICES_TRAIN) -> "Voice":
        return cls(str(rng.choice(voices)), int(rng.integers(120, 200)), int(rng.integers(25, 75)),
                   int(rng.integers(70, 160)))


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def festival_available() -> bool:
    return shutil.which("text2wave") is not None


def synthesize(text: str, voice: Voice) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng or festival; returns (float32 mono samples, sample rate)."""
    if voice.name.startswith(FESTIVAL_PREFIX):
        return _festival(text, voice)
    import soundfile as sf

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise BackendError("the built-in corpus needs espeak-ng: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        cmd = [exe, "-v", voice.name, "-s", str(voice.rate), "-p", str(voice.pitch), "-a", str(voice.amplitude),
               "-w", wav, text]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not os.path.isfile(wav):
            raise BackendError(f"espeak-ng failed for voice {voice.name!r}: {result.stderr.strip()}")
        samples, rate = sf.read(wav, dtype="float32", always_2d=False)
    return samples, int(rate)


def _festival(text: str, voice: Voice) -> tuple[np.ndarray, int]:
    import soundfile as sf
    from scipy.signal import resample_poly

    exe = shutil.which("text2wave")
    if exe is None:
        raise BackendError("festival voices need festival: apt-get install festival festvox-kdlpc16k")
    name = voice.name[len(FESTIVAL_PREFIX):]
    stretch = 170.0 / max(voice.rate, 60)  # festival's default rate is about 170 words per minute
    with tempfile.TemporaryDirectory() as tmp:
        wav, txt = os.path.join(tmp, "speech.wav"), os.path.join(tmp, "text.txt")
        with open(txt, "w", encoding="utf-8") as f:
            f.write(text)
        cmd = [exe, "-o", wav, "-eval", f"(voice_{name}_diphone)", "-eval",
               f"(Parameter.set 'Duration_Stretch {stretch:.3f})", txt]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not os.path.isfile(wav):
            raise BackendError(f"festival failed for voice {name!r}: {(result.stderr or result.stdout).strip()}")
        samples, rate = sf.read(wav, dtype="float32", always_2d=False)
    # A smaller or larger speaker: played faster or slower, pitch and formants move together.
    factor = 1.0 + 0.08 * (voice.pitch - 50) / 50.0
    up, down = int(round(100 / factor)), 100
    samples = resample_poly(samples, up, down).astype(np.float32)
    samples = samples * (voice.amplitude / 100.0)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    return (samples * (0.99 / peak) if peak > 0.99 else samples).astype(np.float32), int(rate)


# Alignment moved to tbd.articulation.align (transcripts are aligned at run time too).
from ..articulation.align import Aligner, Alignment, Segment, pocketsphinx_available  # noqa: E402,F401
