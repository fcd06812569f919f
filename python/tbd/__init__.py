"""tbd: Think-Before-Draw expressive talking heads.

    import tbd
    plan = tbd.think("a polite smile that slowly turns into disbelief")
    anim = tbd.Talker().animate("face.png", "speech.wav", "nervous but hopeful")
    anim.save("out.mp4")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
    AudioError,
    BackendError,
    ImageError,
    NoFaceError,
    OptionError,
    OutputError,
    PlanError,
    TbdError,
    WeightsError,
)
from .motion import Motion
from .plan import EmotionPlan, EmotionSpan, Keyframe

__version__ = "0.1.0"

# Heavier parts load on first use so that `import tbd` stays fast and light.
_LAZY = {
    "think": ("tbd.emotion", "think"),
    "Talker": ("tbd.talker", "Talker"),
    "Animation": ("tbd.animation", "Animation"),
    "evaluate": ("tbd.evaluate", "evaluate"),
    "EvalReport": ("tbd.evaluate", "EvalReport"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'tbd' has no attribute {name!r}")


__all__ = [
    "think", "Talker", "Animation", "evaluate", "EvalReport", "Motion", "EmotionPlan", "EmotionSpan", "Keyframe",
    "TbdError", "NoFaceError", "AudioError", "PlanError", "WeightsError", "OutputError", "BackendError", "ImageError",
    "OptionError",
    "__version__",
]
