"""Animation: the result of ``Talker.animate``: frames, motion, plan, and how they were made."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import export
from .audio import Audio
from .motion import Motion
from .plan import EmotionPlan


@dataclass
class Animation:
    """Rendered frames ``[T, H, W, 3]`` uint8 with the motion and plan that drove them."""

    frames: np.ndarray
    motion: Motion
    plan: EmotionPlan
    audio: Audio | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {self.frames.dtype} {self.frames.shape}")
        if len(self.frames) != self.motion.n_frames:
            raise ValueError(f"{len(self.frames)} frames but {self.motion.n_frames} motion frames")

    @property
    def fps(self) -> float:
        return self.motion.fps

    @property
    def aus(self) -> np.ndarray:
        """Motion values ``[T, n_channels]`` (AUs, pose, gaze); names in ``channels``."""
        return self.motion.values

    @property
    def channels(self) -> tuple[str, ...]:
        return self.motion.channels

    @property
    def blendshapes(self) -> dict[str, np.ndarray]:
        """ARKit-52 blendshape curves, name -> float32 ``[T]``."""
        return self.motion.blendshapes()

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write by suffix: ``.mp4`` (H.264 + AAC), ``.gif``, ``.json``/``.csv`` curves, or a
        folder of PNG frames (a path without suffix). Returns the path written."""
        out = export.check_output_path(path)
        kind = export.output_kind(out)
        if kind == "video":
            samples = self.audio.samples if self.audio is not None else None
            rate = self.audio.rate if self.audio is not None else 16000
            export.write_video(out, self.frames, self.fps, samples, rate)
        elif kind == "gif":
            export.write_gif(out, self.frames, self.fps)
        elif kind == "png_dir":
            export.write_png_dir(out, self.frames)
        else:
            export.write_curves(out, self.motion, {"plan": self.plan.to_dict(), "meta": _jsonable(self.meta)})
        return str(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
