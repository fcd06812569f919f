"""The tbd exception family: every error a user can act on derives from TbdError."""

from __future__ import annotations


class TbdError(Exception):
    """Base class of every error raised by tbd on bad input, weights or environment."""


class NoFaceError(TbdError):
    """No face could be found in the given image."""


class AudioError(TbdError):
    """The audio could not be read or is not usable."""


class PlanError(TbdError):
    """The emotion text or plan is invalid (empty text, malformed plan dict)."""


class WeightsError(TbdError):
    """A weights file is missing, of the wrong format, or made for other channels or encoders."""


class OutputError(TbdError):
    """An output path cannot be written (missing folder, unknown suffix)."""


class BackendError(TbdError):
    """An optional backend (face detector, LLM, video writer) is not installed or failed."""


class ImageError(TbdError):
    """The image could not be read or has an unusable format."""


class OptionError(TbdError, ValueError):
    """An argument has a wrong type or value (frame rate, size, seed, backend name); also a ValueError."""
