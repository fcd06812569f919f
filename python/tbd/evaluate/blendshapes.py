"""What MediaPipe's blendshapes read in a render, against what was requested and against a neutral render.

The requested values come through tbd's fixed AU -> ARKit map (``tbd.motion.arkit``): from
an Animation's motion curves, or from the plan of an emotion text (its peak AUs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion.arkit import ARKIT_BLENDSHAPES
from .track import FaceTrack

# The shapes that show each basic emotion most directly; Left/Right pairs are averaged.
RESPONSES: dict[str, tuple[str, ...]] = {
    "browDown": ("browDownLeft", "browDownRight"),        # angry (AU4)
    "eyeWide": ("eyeWideLeft", "eyeWideRight"),            # surprised, afraid (AU5)
    "mouthFrown": ("mouthFrownLeft", "mouthFrownRight"),   # sad (AU15)
    "noseSneer": ("noseSneerLeft", "noseSneerRight"),      # disgusted (AU9)
    "mouthUpperUp": ("mouthUpperUpLeft", "mouthUpperUpRight"),  # disgusted (AU10; MediaPipe's noseSneer stays near 0)
    "browInnerUp": ("browInnerUp",),                       # afraid, sad (AU1)
    "mouthSmile": ("mouthSmileLeft", "mouthSmileRight"),   # happy (AU12)
    "cheekSquint": ("cheekSquintLeft", "cheekSquintRight"),  # happy (AU6)
    "jawOpen": ("jawOpen",),                               # speech, surprised (AU26/27)
    "eyeBlink": ("eyeBlinkLeft", "eyeBlinkRight"),         # blinks (AU45)
}


@dataclass
class BlendshapeResult:
    """Mean over the middle of the clip, per ARKit shape; ``delta`` = render - baseline render."""

    measured: dict[str, float]
    baseline: dict[str, float] | None
    delta: dict[str, float] | None
    requested: dict[str, float] | None
    responses: dict[str, float]              # grouped shapes (RESPONSES): delta when a baseline is given, else measured
    per_frame: dict[str, list[float | None]]  # the RESPONSES groups per frame (None: no face)


def _middle_means(track: FaceTrack, span: slice) -> dict[str, float]:
    rows = track.blendshapes[span][track.found[span]]
    if not len(rows):
        rows = track.blendshapes[track.found]
    mean = rows.mean(axis=0)
    return {name: round(float(v), 5) for name, v in zip(ARKIT_BLENDSHAPES, mean)}


def _group(values: dict[str, float]) -> dict[str, float]:
    return {k: round(float(np.mean([values[n] for n in names])), 5) for k, names in RESPONSES.items()}


def compare(
    track: FaceTrack,
    span: slice,
    *,
    baseline: FaceTrack | None = None,
    baseline_span: slice | None = None,
    requested: dict[str, np.ndarray] | None = None,
) -> BlendshapeResult:
    """Blendshape readings of ``track`` over ``span``, minus ``baseline``'s over its own middle."""
    measured = _middle_means(track, span)
    base = _middle_means(baseline, baseline_span or span) if baseline is not None else None
    delta = {k: round(measured[k] - base[k], 5) for k in measured} if base is not None else None
    asked = None
    if requested is not None:
        asked = {}
        for name in ARKIT_BLENDSHAPES:
            curve = np.asarray(requested.get(name, np.zeros(1)), np.float64)
            part = curve[span] if len(curve) == track.n_frames else curve
            asked[name] = round(float(part.mean()) if part.size else 0.0, 5)
    per_frame = {}
    for key, names in RESPONSES.items():
        curve = np.mean([track.shape(n) for n in names], axis=0)
        per_frame[key] = [None if not np.isfinite(v) else round(float(v), 5) for v in curve]
    return BlendshapeResult(measured, base, delta, asked, _group(delta if delta is not None else measured), per_frame)


def requested_from_plan(plan: object, n_frames: int) -> dict[str, np.ndarray]:
    """Constant ARKit curves of a plan's peak AUs (for a video evaluated against an emotion text)."""
    from ..motion import channels as ch
    from ..motion.arkit import to_arkit

    values = np.zeros((1, ch.N_CHANNELS), np.float32)
    for au, v in getattr(plan, "aus", {}).items():
        if au in ch.CHANNELS:
            values[0, ch.index(au)] = v
    return {k: np.repeat(v, n_frames) for k, v in to_arkit(values).items()}
