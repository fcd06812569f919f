"""Animation: the result of ``Talker.animate``: motion, plan, and frames rendered on demand.

An Animation holds the motion (small: 29 floats a frame) and, when made from a portrait,
the renderer. Frames are rendered only when asked: ``anim.frames`` renders them all once
and keeps them (memory grows with the clip), ``anim.iter_frames()`` renders chunk by chunk,
and ``anim.save("out.mp4")`` streams chunks straight into the encoder, so any length is
written in bounded memory (docs/architecture.md, "Data types").
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from . import export
from .audio import Audio
from .motion import Motion
from .plan import EmotionPlan


class Animation:
    """Motion, plan and audio of one clip, with frames ``[T, H, W, 3]`` uint8 on demand.

    ``frames`` may be given (an array, kept as is) or produced by ``renderer`` (anything with
    ``iter_chunks(values)``) when first needed."""

    def __init__(self, frames: np.ndarray | None = None, motion: Motion | None = None,
                 plan: EmotionPlan | None = None, audio: Audio | None = None,
                 meta: dict[str, Any] | None = None, *, renderer: Any = None) -> None:
        if motion is None or plan is None:
            raise TypeError("Animation needs motion and plan")
        self.motion, self.plan, self.audio = motion, plan, audio
        self.meta: dict[str, Any] = dict(meta or {})
        self.renderer = renderer
        self._frames: np.ndarray | None = None
        if frames is not None:
            if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
                raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
            if len(frames) != motion.n_frames:
                raise ValueError(f"{len(frames)} frames but {motion.n_frames} motion frames")
            self._frames = frames
        elif renderer is None:
            raise ValueError("an Animation needs frames or a renderer")

    @property
    def frames(self) -> np.ndarray:
        """All frames uint8 ``[T, H, W, 3]`` (rendered on first access, then kept)."""
        if self._frames is None:
            out = None
            start = 0
            for chunk in self.iter_frames():
                if out is None:
                    out = np.empty((self.motion.n_frames, *chunk.shape[1:]), np.uint8)
                out[start : start + len(chunk)] = chunk
                start += len(chunk)
            self._frames = out
        return self._frames

    @property
    def frames_in_memory(self) -> bool:
        return self._frames is not None

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Frames in chunks ``[F, H, W, 3]`` (from memory if already rendered)."""
        if self._frames is not None:
            chunk = getattr(self.renderer, "chunk", 16) or 16
            for start in range(0, len(self._frames), chunk):
                yield self._frames[start : start + chunk]
            return
        yield from self.renderer.iter_chunks(self.motion.values)

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
        folder of PNG frames (a path without suffix). Video and PNG frames are rendered and
        written chunk by chunk. Returns the path written."""
        out = export.check_output_path(path)
        kind = export.output_kind(out)
        if kind == "video":
            samples = self.audio.samples if self.audio is not None else None
            rate = self.audio.rate if self.audio is not None else 16000
            export.write_video(out, self.iter_frames(), self.fps, samples, rate)
        elif kind == "gif":
            export.write_gif(out, self.iter_frames(), self.fps)
        elif kind == "png_dir":
            export.write_png_dir(out, self.iter_frames())
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
