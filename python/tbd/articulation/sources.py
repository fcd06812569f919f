"""Where articulation comes from: a transcript (forced alignment) or the audio alone."""

from __future__ import annotations

import warnings

import numpy as np

from ..audio import Audio, AudioFeatures
from .audio_model import VisemeClassifier, default_classifier
from .coarticulation import Articulation, from_phones, from_posteriors


def from_audio(feats: AudioFeatures | np.ndarray, classifier: VisemeClassifier | None = None) -> Articulation | None:
    """Visemes read from audio features (``AudioFeatures`` or its ``matrix()`` rows) by the
    bundled classifier; None when this install ships no classifier."""
    model = classifier or default_classifier()
    if model is None:
        return None
    rows = feats.matrix() if isinstance(feats, AudioFeatures) else np.asarray(feats, np.float32)
    return from_posteriors(model.posteriors(rows))


def from_transcript(sound: Audio, transcript: str, n_frames: int, fps: float) -> Articulation | None:
    """Visemes from ``transcript`` aligned to ``sound`` with pocketsphinx; None (with a warning)
    when the alignment fails, so the caller can fall back to ``from_audio``. Raises
    BackendError when pocketsphinx is not installed."""
    if not transcript or not transcript.strip():
        return None
    alignment = _aligner().align(_at_16k(sound), transcript)
    if alignment is None or not alignment.phones:
        warnings.warn("the transcript could not be aligned to the audio (words missing from the CMU "
                      "dictionary, or another text?); reading the visemes from the audio instead", stacklevel=3)
        return None
    return from_phones(alignment.phones, n_frames, fps)


def articulation_for(sound: Audio, feats: AudioFeatures, transcript: str | None = None) -> Articulation | None:
    """The transcript's articulation when given and alignable, else the audio's."""
    art = from_transcript(sound, transcript, feats.n_frames, feats.fps) if transcript else None
    return art if art is not None else from_audio(feats)


_ALIGNER = None


def _aligner():
    global _ALIGNER
    if _ALIGNER is None:
        from .align import Aligner

        _ALIGNER = Aligner()
    return _ALIGNER


def _at_16k(sound: Audio) -> np.ndarray:
    if sound.rate == 16000:
        return sound.samples
    from ..audio import _resample

    return _resample(sound.samples, sound.rate, 16000)
