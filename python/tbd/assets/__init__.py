"""Bundled demo assets (see README "Bundled assets" for provenance and licenses)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

DEMO_EMOTION = "a polite smile that slowly turns into disbelief"


def portrait_path() -> Path:
    """Head-and-shoulders crop of scikit-image's ``astronaut`` (NASA, public domain)."""
    return _HERE / "portrait.png"


def speech_path() -> Path:
    """A 4.3 s English sentence synthesised with espeak-ng (text in ``speech.txt``)."""
    return _HERE / "speech.wav"


def speech_text() -> str:
    return (_HERE / "speech.txt").read_text().strip()
