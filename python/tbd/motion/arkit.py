"""The fixed map from motion channels to Apple ARKit's 52 face blendshapes.

Each blendshape is a non-negative weighted sum of AU channels (FACS-to-ARKit
correspondences as used by face-tracking rigs), clipped to 0..1. Gaze is split into
its positive and negative halves first, so the map is linear on each half.
Head pose is not a blendshape in ARKit (it is the face anchor's transform).

Two speech shapes are combinations that no sum expresses, and are added on top the way the
renderer draws them (`tbd.render.RenderConfig`): lips pressed together over an open jaw
(a bilabial p/b/m after a vowel) are ARKit's ``mouthClose`` (which cancels jawOpen's parting of
the lips), and the lower lip tucked under the upper teeth (f/v: AU10 with AU17) is
``mouthRollLower`` (with ``mouthLowerDown`` held back).
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
    "mouthRollLower": {"AU24": 0.3},  # plus the f/v tuck, see _speech_terms
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

PRESS_CLOSES = 0.25
"""Lips pressed (AU24) shut the mouth once AU24 leads the larger of AU25/AU26 by this much (as
`RenderConfig.press_closes`): ``mouthClose`` then takes back all of jawOpen's parting of the lips."""
TUCK_FULL, TUCK_JAW, TUCK_NOSE = 0.3, 0.3, 0.15
"""The lower lip tucks fully under the upper teeth at min(AU10, AU17) = TUCK_FULL, not at all once
AU26 + AU27 reach TUCK_JAW, nor once AU9 reaches TUCK_NOSE: with a wrinkled nose, AU10 with AU17 is disgust,
not f/v (as `RenderConfig.tuck_full`, ``tuck_jaw``, ``tuck_nose``)."""
TUCK_ROLL = 0.7
"""``mouthRollLower`` of a full tuck (ARKit's f/v pose rolls the lower lip in about this far)."""


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
    _speech_terms(np.clip(aus, 0.0, 1.0), out)
    return {name: out[:, j].copy() for j, name in enumerate(ARKIT_BLENDSHAPES)}


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def lip_closure(aus: np.ndarray) -> np.ndarray:
    """How shut pressed lips hold the mouth [T] (0..1) for AU intensities [T, n_AU]."""
    a = {name: aus[:, ch.AU_CHANNELS.index(name)] for name in ("AU24", "AU25", "AU26")}
    return _smoothstep((a["AU24"] - np.maximum(a["AU25"], a["AU26"])) / PRESS_CLOSES).astype(np.float32)


def lip_tuck(aus: np.ndarray, full: float = TUCK_FULL, jaw: float = TUCK_JAW, nose: float = TUCK_NOSE) -> np.ndarray:
    """How far the lower lip tucks under the upper teeth [T] (0..1) for AU intensities [T, n_AU] (the renderer
    passes its `RenderConfig.tuck_full`, ``tuck_jaw`` and ``tuck_nose``)."""
    a = {name: aus[:, ch.AU_CHANNELS.index(name)] for name in ("AU9", "AU10", "AU17", "AU26", "AU27")}
    both = np.clip(np.minimum(a["AU10"], a["AU17"]) / full, 0.0, 1.0)
    return (both * np.clip(1.0 - (a["AU26"] + a["AU27"]) / jaw, 0.0, 1.0)
            * np.clip(1.0 - a["AU9"] / nose, 0.0, 1.0)).astype(np.float32)


def _speech_terms(aus: np.ndarray, out: np.ndarray) -> None:
    """Add the combined speech shapes to blendshape weights ``out`` [T, 52] (in place)."""
    col = {name: j for j, name in enumerate(ARKIT_BLENDSHAPES)}
    close = lip_closure(aus)
    out[:, col["mouthClose"]] = np.clip(np.maximum(out[:, col["mouthClose"]], close * out[:, col["jawOpen"]]), 0, 1)
    tuck = lip_tuck(aus)
    out[:, col["mouthRollLower"]] = np.clip(out[:, col["mouthRollLower"]] + TUCK_ROLL * tuck, 0.0, 1.0)
    for side in ("Left", "Right"):  # the tucked or pressed lower lip rises instead of parting
        out[:, col[f"mouthLowerDown{side}"]] *= (1.0 - tuck) * (1.0 - close)
