"""Drive a live session from a recording, as a microphone would (``tbd live``, bench_live)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .session import LiveFrame, LiveSession


@dataclass
class RunStats:
    """What a run measured (seconds unless named otherwise)."""

    audio_s: float = 0.0
    frames: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    first_frame_s: float | None = None
    """From pushing the first chunk to the first frame out."""
    delays: list[float] = field(default_factory=list)
    """Per frame: when it came out minus when the audio up to its end had arrived."""

    def summary(self) -> dict[str, float | None]:
        d = np.asarray(self.delays) if self.delays else np.zeros(1)
        return {
            "audio_s": round(self.audio_s, 3), "frames": self.frames, "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3), "cpu_per_audio_s": round(self.cpu_s / max(self.audio_s, 1e-9), 4),
            "first_frame_ms": None if self.first_frame_s is None else round(1000 * self.first_frame_s, 1),
            "delay_p50_ms": round(1000 * float(np.percentile(d, 50)), 1),
            "delay_p99_ms": round(1000 * float(np.percentile(d, 99)), 1),
            "delay_max_ms": round(1000 * float(d.max()), 1),
        }


def drive(session: LiveSession, samples: np.ndarray, rate: int, *, chunk_s: float = 0.02, realtime: bool = False,
          flush: bool = True, on_frames: Callable[[list[LiveFrame]], None] | None = None,
          stats: RunStats | None = None) -> Iterator[list[LiveFrame]]:
    """Push ``samples`` in ``chunk_s`` chunks (paced in real time with ``realtime``), yielding
    each non-empty batch of frames; fills ``stats``."""
    stats = stats if stats is not None else RunStats()
    chunk = max(1, int(round(chunk_s * rate)))
    fps = session.fps
    t0 = time.perf_counter()
    c0 = time.process_time()
    frame0 = session._frame
    pushed = 0
    for start in range(0, len(samples), chunk):
        piece = samples[start : start + chunk]
        if realtime:
            due = t0 + (start + len(piece)) / rate  # the chunk has "arrived" when its last sample was spoken
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        pushed += len(piece)
        frames = session.push(piece)
        yield from _account(frames, stats, t0, frame0, fps, rate, pushed, realtime, on_frames)
    if flush:
        frames = session.flush()
        yield from _account(frames, stats, t0, frame0, fps, rate, pushed, realtime, on_frames)
    stats.audio_s += len(samples) / rate
    stats.wall_s += time.perf_counter() - t0
    stats.cpu_s += time.process_time() - c0


def _account(frames, stats, t0, frame0, fps, rate, pushed, realtime, on_frames):
    if not frames:
        return
    now = time.perf_counter()
    if stats.first_frame_s is None:
        stats.first_frame_s = now - t0 - (0.0 if not realtime else 0.0)
    for f in frames:
        arrived = (f.index - frame0 + 1) / fps  # audio time of the frame's end, from the start
        if realtime:
            stats.delays.append(now - (t0 + arrived))
        else:  # unpaced: the audio "arrived" when the push that completed it was made
            stats.delays.append(0.0)
    stats.frames += len(frames)
    if on_frames is not None:
        on_frames(frames)
    yield frames
