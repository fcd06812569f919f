"""The 15 OVR/OpenXR visemes, the phones they stand for, and their mouth shapes in AU channels.

A viseme is a mouth shape shared by several phones (PP for p/b/m, FF for f/v, ...). Phones
use the CMU/ARPAbet set that pocketsphinx aligns with. Each viseme's ``SHAPES`` entry is the
articulation target on the mouth's AU channels at full strength (a neutral face, normal
speech loudness); ``tbd.articulation.coarticulation`` blends these over time and
``tbd.articulation.articulate`` combines them with the emotion's AUs.
"""

from __future__ import annotations

import numpy as np

from ..motion import channels as ch

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
"""OVR LipSync / OpenXR viseme order (index 0 is silence)."""
N_VISEMES = len(VISEMES)
VISEME_INDEX = {v: i for i, v in enumerate(VISEMES)}

PHONE_TO_VISEME: dict[str, str] = {
    "SIL": "sil", "+SPN+": "sil", "+NSN+": "sil",
    "P": "PP", "B": "PP", "M": "PP",
    "F": "FF", "V": "FF",
    "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD",
    "K": "kk", "G": "kk", "NG": "kk", "HH": "kk",
    "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS",
    "N": "nn", "L": "nn",
    "R": "RR", "ER": "RR",
    "AA": "aa", "AE": "aa", "AH": "aa", "AO": "aa", "AW": "aa", "AY": "aa",
    "EH": "E", "EY": "E",
    "IH": "ih", "IY": "ih", "Y": "ih",
    "OW": "oh", "OY": "oh",
    "UW": "ou", "UH": "ou", "W": "ou",
}
"""ARPAbet phone (no stress digit) -> viseme."""

MOUTH_AUS: tuple[str, ...] = ("AU10", "AU17", "AU18", "AU20", "AU22", "AU23", "AU24", "AU25", "AU26", "AU27")
"""The channels articulation drives (upper lip raiser, chin raiser, pucker, stretch, funnel,
tightener, press, lips apart, jaw drop, mouth stretch)."""

SHAPES: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {"AU24": 0.55, "AU23": 0.2},                       # lips meet and press; jaw closed
    "FF": {"AU25": 0.25, "AU10": 0.35, "AU17": 0.3, "AU26": 0.05},  # lower lip up under the upper teeth
    "TH": {"AU25": 0.45, "AU26": 0.18},
    "DD": {"AU25": 0.5, "AU26": 0.22},
    "kk": {"AU25": 0.55, "AU26": 0.32},
    "CH": {"AU25": 0.4, "AU26": 0.14, "AU22": 0.55, "AU18": 0.2},
    "SS": {"AU25": 0.35, "AU26": 0.06, "AU20": 0.35},
    "nn": {"AU25": 0.4, "AU26": 0.16},
    "RR": {"AU25": 0.38, "AU26": 0.16, "AU22": 0.35, "AU18": 0.35},
    "aa": {"AU25": 0.9, "AU26": 0.72, "AU27": 0.1},
    "E": {"AU25": 0.65, "AU26": 0.38, "AU20": 0.3},
    "ih": {"AU25": 0.5, "AU26": 0.22, "AU20": 0.5},
    "oh": {"AU25": 0.6, "AU26": 0.45, "AU22": 0.5, "AU18": 0.35},
    "ou": {"AU25": 0.35, "AU26": 0.16, "AU18": 0.75, "AU22": 0.5},
}


def phone_viseme(phone: str) -> str:
    """The viseme of an ARPAbet phone (stress digits and ``(2)`` variants ignored; unknown -> sil)."""
    base = phone.upper().split("(")[0].rstrip("012")
    return PHONE_TO_VISEME.get(base, "sil")


def shape_matrix() -> np.ndarray:
    """float32 ``[N_VISEMES, len(MOUTH_AUS)]``: each viseme's target on the mouth channels."""
    m = np.zeros((N_VISEMES, len(MOUTH_AUS)), np.float32)
    col = {n: j for j, n in enumerate(MOUTH_AUS)}
    for i, v in enumerate(VISEMES):
        for au, value in SHAPES[v].items():
            m[i, col[au]] = value
    return m


def mouth_columns() -> list[int]:
    """Positions of ``MOUTH_AUS`` in a motion frame."""
    return ch.indices(MOUTH_AUS)
