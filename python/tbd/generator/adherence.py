"""DRAW keeps to the plan at the lip corners: corner AUs the plan does not ask for stay near rest.

The diffusion generator only gets local (AU) guidance on the channels the plan lists; the others
follow the global emotion alone, and there the learned model mixes in AUs of neighbouring emotions
(draw-v4 on a held-out espeak-ng voice, mean over the middle of the clip: AU15 0.21 on "surprised",
0.15 on "angry", 0.13 on "happy"; AU12R 0.09 on "angry"). At the lip corners that is a different
emotion (a frown on a surprised or smiling face, half a smile on an angry one) and a rig receives
mouthFrown or mouthSmile that the plan never showed. Only the corner pullers are held: the upper
face's traces (AU6 0.17 on "angry") narrow the eyes as anger does, and holding them lost more than it
gained (benchmarks/RESULTS.md, Fidelity). Speech moves the lips through AU18-AU27, not these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion import channels as ch

CORNER_CHANNELS: tuple[str, ...] = ("AU12L", "AU12R", "AU14L", "AU14R", "AU15")
"""The lip-corner pullers, which only the emotion moves (speech rounds and spreads the lips with AU18-AU22)."""

_COLUMNS = np.array([ch.AU_CHANNELS.index(name) for name in CORNER_CHANNELS])
_CHANNELS = np.array(ch.indices(CORNER_CHANNELS))


@dataclass(frozen=True)
class AdherenceConfig:
    """How closely a learned generator's lip corners keep to the plan."""

    unplanned_max: float = 0.05
    """Most that a corner AU the plan does not ask for may reach (a trace of life, not an expression)."""
    planned_min: float = 0.02
    """A plan curve that reaches this within the frames at hand asks for its AU (it is then left to DRAW)."""


def limit_unplanned(values: np.ndarray, emotion_aus: np.ndarray,
                    config: AdherenceConfig = AdherenceConfig()) -> np.ndarray:
    """Motion values ``[T, N_CHANNELS]`` whose lip-corner AUs absent from the plan's AU curves
    ``emotion_aus`` (``[T, len(AU_CHANNELS)]``, the same frames) are held at most
    ``config.unplanned_max`` (in place; returned). AUs the plan asks for anywhere in these frames
    keep DRAW's values, timing and all."""
    if len(values) == 0:
        return values
    aus = np.asarray(emotion_aus, np.float32)
    if aus.shape != (len(values), len(ch.AU_CHANNELS)):
        raise ValueError(f"emotion_aus must be [{len(values)}, {len(ch.AU_CHANNELS)}], got {list(aus.shape)}")
    unplanned = aus[:, _COLUMNS].max(axis=0) < config.planned_min
    cols = _CHANNELS[unplanned]
    values[:, cols] = np.minimum(values[:, cols], config.unplanned_max)
    return values
