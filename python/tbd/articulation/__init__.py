"""Articulation: phones and visemes, coarticulation, and the mouth shapes of speech
(docs/architecture.md, "Articulation")."""

from .coarticulation import N_ARTICULATION_FEATURES, Articulation, from_phones, from_posteriors
from .mouth import MouthConfig, speech_mouth
from .sources import articulation_for, from_audio, from_transcript
from .visemes import MOUTH_AUS, N_VISEMES, PHONE_TO_VISEME, SHAPES, VISEMES, phone_viseme

__all__ = [
    "MOUTH_AUS", "N_ARTICULATION_FEATURES", "N_VISEMES", "PHONE_TO_VISEME", "SHAPES", "VISEMES", "Articulation",
    "MouthConfig", "articulation_for", "from_audio", "from_phones", "from_posteriors", "from_transcript",
    "phone_viseme", "speech_mouth",
]
