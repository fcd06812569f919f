"""Read what is to be evaluated: a video file, a GIF, a folder of frames, an array or a tbd.Animation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import Audio
from ..errors import BackendError, ImageError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class VideoError(ImageError):
    """A video, GIF or frame folder could not be read, or holds no usable frames."""


@dataclass
class Clip:
    """Frames ``[T, H, W, 3]`` uint8 at ``fps``, with whatever came with them.

    ``audio``: the soundtrack (from the video or the Animation), ``requested``: the ARKit-52
    curves the generator asked for (from an Animation), ``plan``: its EmotionPlan.
    """

    frames: np.ndarray
    fps: float
    source: str
    audio: Audio | None = None
    requested: dict[str, np.ndarray] | None = None
    plan: Any = None

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps


def middle(n: int, span: tuple[float, float] = (0.25, 0.75)) -> slice:
    """The frames of the middle ``span`` (fractions) of an ``n``-frame clip; never empty."""
    lo = int(np.floor(span[0] * n))
    hi = int(np.ceil(span[1] * n))
    lo = min(max(lo, 0), max(n - 1, 0))
    return slice(lo, max(hi, lo + 1))


def load_clip(src: Any, *, fps: float | None = None) -> Clip:
    """A Clip from a path (.mp4/.mov/.mkv/.webm, .gif, a folder of PNG/JPEG frames), an
    ``np.ndarray`` ``[T, H, W, 3]`` uint8, or a ``tbd.Animation``.

    ``fps`` overrides the file's frame rate (needed for frame folders and arrays, default 25).
    Raises VideoError when the input cannot be read or has no frames.
    """
    if hasattr(src, "frames") and hasattr(src, "motion"):  # a tbd.Animation (duck-typed: no import cycle)
        return Clip(_checked(np.asarray(src.frames), "Animation"), float(fps or src.fps), "Animation",
                    audio=src.audio, requested=src.blendshapes, plan=src.plan)
    if isinstance(src, np.ndarray):
        return Clip(_checked(src, "array"), float(fps or 25.0), "array")
    if not isinstance(src, (str, os.PathLike)):
        raise TypeError(f"expected a video path, frame folder, frames array or tbd.Animation, got {type(src).__name__}")
    path = Path(src)
    if path.is_dir():
        return Clip(_read_folder(path), float(fps or 25.0), str(path))
    if not path.is_file():
        raise VideoError(f"{path}: no such video file or frame folder")
    suffix = path.suffix.lower()
    if suffix == ".gif":
        frames, gif_fps = _read_gif(path)
        return Clip(frames, float(fps or gif_fps), str(path))
    if suffix in VIDEO_SUFFIXES:
        frames, video_fps, audio = _read_video(path)
        return Clip(frames, float(fps or video_fps), str(path), audio=audio)
    raise VideoError(f"{path}: unknown video type {suffix!r}; use .mp4, .mov, .mkv, .webm, .gif or a folder of PNGs")


def _checked(frames: np.ndarray, name: str) -> np.ndarray:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise VideoError(f"{name}: frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
    if len(frames) == 0:
        raise VideoError(f"{name}: there are no frames to evaluate")
    return np.ascontiguousarray(frames)


def _read_folder(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
    if not files:
        raise VideoError(f"{path}: the folder holds no PNG or JPEG frames")
    frames = []
    for file in files:
        try:
            with Image.open(file) as im:
                frames.append(np.asarray(im.convert("RGB")))
        except (UnidentifiedImageError, OSError) as exc:
            raise VideoError(f"{file}: not a readable image ({exc})") from exc
    if len({f.shape for f in frames}) != 1:
        raise VideoError(f"{path}: the frames differ in size; give frames of one size")
    return _checked(np.stack(frames), str(path))


def _read_gif(path: Path) -> tuple[np.ndarray, float]:
    """Frames on a constant clock: a frame shown k times the shortest duration is repeated k times
    (GIF writers merge identical consecutive frames into one longer one)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            frames, durations = [], []
            for f in ImageSequence.Iterator(im):
                frames.append(np.asarray(f.convert("RGB")))
                durations.append(max(float(f.info.get("duration") or 40.0), 10.0))
    except (UnidentifiedImageError, OSError) as exc:
        raise VideoError(f"{path}: not a readable GIF ({exc})") from exc
    # The frame period: the durations' common divisor (merged frames last whole multiples of it),
    # unless the durations are irregular (e.g. 33 and 34 ms), then the shortest one.
    base = float(np.gcd.reduce([int(round(d)) for d in durations]))
    if base < 0.5 * min(durations):
        base = min(durations)
    repeats = [max(1, round(d / base)) for d in durations]
    stacked = np.repeat(np.stack(frames), repeats, axis=0)
    return _checked(stacked, str(path)), 1000.0 / base


def _read_video(path: Path) -> tuple[np.ndarray, float, Audio | None]:
    try:
        import av
    except ImportError as exc:
        raise BackendError("reading video needs PyAV: pip install 'tbd[video]'") from exc
    from .. import audio as audio_mod

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: the file has no video stream")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 25.0)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        audio = None
        with av.open(str(path)) as container:
            if container.streams.audio:
                chunks = [f.to_ndarray() for f in container.decode(container.streams.audio[0])]
                sample_rate = container.streams.audio[0].rate
                if chunks:
                    # Planar float frames are [channels, n]; packed ones [1, n * channels]: mix to mono.
                    channels = container.streams.audio[0].channels or 1
                    samples = np.concatenate([c.reshape(channels, -1) for c in chunks], axis=1)
                    if samples.dtype.kind == "i":
                        samples = samples / np.iinfo(samples.dtype).max
                    audio = audio_mod.load((samples.mean(axis=0).astype(np.float32), int(sample_rate)))
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc})") from exc
    if not frames:
        raise VideoError(f"{path}: the video holds no frames")
    return _checked(np.stack(frames), str(path)), rate, audio
