"""The fixed map from motion channels to Apple ARKit's 52 face blendshapes.

Each blendshape is a non-negative weighted sum of AU channels (FACS-to-ARKit
correspondences as used by face-tracking rigs), clipped to 0..1. Gaze is split into
its positive and negative halves first, so the map is linear on each half.
Head pose is not a blendshape in ARKit (it is the face anchor's transform).
"""

from __future__ import annotations

import numpy as np

from . import channels as ch

ARKIT_BLENDSHAPES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)

# Source terms: motion channel names, plus "gaze_x+", "gaze_x-", "gaze_y+", "gaze_y-" halves.
_BOTH = ("Left", "Right")
_TERMS: dict[str, dict[str, float]] = {
    "browInnerUp": {"AU1": 1.0},
    "mouthShrugLower": {"AU17": 1.0},
    "mouthShrugUpper": {"AU17": 0.3, "AU10": 0.2},
    "mouthPucker": {"AU18": 1.0},
    "mouthFunnel": {"AU22": 1.0},
    "mouthRollLower": {"AU24": 0.3},
    "mouthRollUpper": {"AU24": 0.2},
    "jawOpen": {"AU26": 0.6, "AU27": 1.0},
}
for _side in _BOTH:
    _s = _side[0]
    _TERMS.update({
        f"browOuterUp{_side}": {"AU2": 1.0},
        f"browDown{_side}": {"AU4": 1.0, "AU9": 0.2},
        f"eyeWide{_side}": {"AU5": 1.0},
        f"cheekSquint{_side}": {"AU6": 1.0},
        f"eyeSquint{_side}": {"AU7": 1.0, "AU6": 0.4},
        f"eyeBlink{_side}": {"AU45": 1.0},
        f"noseSneer{_side}": {"AU9": 1.0},
        f"mouthUpperUp{_side}": {"AU10": 1.0, "AU25": 0.1},
        f"mouthSmile{_side}": {f"AU12{_s}": 1.0},
        f"mouthDimple{_side}": {f"AU14{_s}": 1.0},
        f"mouthFrown{_side}": {"AU15": 1.0},
        f"mouthLowerDown{_side}": {"AU16": 1.0, "AU25": 0.3},
        f"mouthStretch{_side}": {"AU20": 1.0},
        f"mouthPress{_side}": {"AU24": 1.0, "AU23": 0.5},
        f"eyeLookUp{_side}": {"gaze_y-": 1.0},
        f"eyeLookDown{_side}": {"gaze_y+": 1.0},
    })
# Gaze to image right is the subject's left: the left eye looks out, the right eye in.
_TERMS.update({
    "eyeLookOutLeft": {"gaze_x+": 1.0}, "eyeLookInRight": {"gaze_x+": 1.0},
    "eyeLookInLeft": {"gaze_x-": 1.0}, "eyeLookOutRight": {"gaze_x-": 1.0},
})

_SOURCES: tuple[str, ...] = ch.AU_CHANNELS + ("gaze_x+", "gaze_x-", "gaze_y+", "gaze_y-")


def _matrix() -> np.ndarray:
    m = np.zeros((len(_SOURCES), len(ARKIT_BLENDSHAPES)), dtype=np.float32)
    src = {n: i for i, n in enumerate(_SOURCES)}
    for j, name in enumerate(ARKIT_BLENDSHAPES):
        for term, w in _TERMS.get(name, {}).items():
            m[src[term], j] = w
    return m


ARKIT_MATRIX: np.ndarray = _matrix()
"""[n_sources, 52] weights; read-only."""
ARKIT_MATRIX.setflags(write=False)


def to_arkit(values: np.ndarray) -> dict[str, np.ndarray]:
    """ARKit-52 blendshape curves (name -> float32 [T], 0..1) from motion values ``[T, n_channels]``."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != ch.N_CHANNELS:
        raise ValueError(f"motion values must be [T, {ch.N_CHANNELS}], got shape {values.shape}")
    aus = values[:, ch.indices(ch.AU_CHANNELS)]
    gx = values[:, ch.index("gaze_x")]
    gy = values[:, ch.index("gaze_y")]
    halves = np.stack([np.maximum(gx, 0), np.maximum(-gx, 0), np.maximum(gy, 0), np.maximum(-gy, 0)], axis=1)
    out = np.clip(np.concatenate([aus, halves], axis=1) @ ARKIT_MATRIX, 0.0, 1.0)
    return {name: out[:, j].copy() for j, name in enumerate(ARKIT_BLENDSHAPES)}
