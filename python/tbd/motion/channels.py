"""The motion channels: the contract between think, draw, render and export.

One frame of motion is a float32 vector with these channels, in this order. Other
modules look channels up by name (``index("AU12L")``), never by literal index.
"""

from __future__ import annotations

AU_CHANNELS: tuple[str, ...] = (
    "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10",
    "AU12L", "AU12R", "AU14L", "AU14R", "AU15", "AU16", "AU17", "AU18",
    "AU20", "AU22", "AU23", "AU24", "AU25", "AU26", "AU27", "AU45",
)
"""Action-unit intensities in 0..1. L/R are the subject's left and right; AU45 is the blink."""

POSE_CHANNELS: tuple[str, ...] = ("pitch", "yaw", "roll")
"""Head rotation in radians, relative to the portrait's own pose: pitch (positive = chin down),
yaw (positive = nose toward image right, the subject's left), roll (positive = clockwise on screen)."""

GAZE_CHANNELS: tuple[str, ...] = ("gaze_x", "gaze_y")
"""Gaze direction in -1..1: positive x = image right, positive y = down."""

CHANNELS: tuple[str, ...] = AU_CHANNELS + POSE_CHANNELS + GAZE_CHANNELS
N_CHANNELS: int = len(CHANNELS)

_INDEX = {name: i for i, name in enumerate(CHANNELS)}

# Plain AU names that stand for a left/right pair of channels.
BILATERAL: dict[str, tuple[str, str]] = {"AU12": ("AU12L", "AU12R"), "AU14": ("AU14L", "AU14R")}


def index(name: str) -> int:
    """Position of channel ``name`` in a motion frame."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"unknown motion channel {name!r}; known channels: {', '.join(CHANNELS)}") from None


def indices(names) -> list[int]:
    """Positions of several channels."""
    return [index(n) for n in names]


def expand_au(name: str) -> tuple[str, ...]:
    """Channel names for an AU name: ``"AU12"`` -> ``("AU12L", "AU12R")``, ``"AU6"`` -> ``("AU6",)``."""
    if name in BILATERAL:
        return BILATERAL[name]
    index(name)
    return (name,)
