"""LiveSession: speech in, motion (and frames) out, frame by frame (docs/architecture.md, "Streaming").

    avatar = talker.prepare("face.png")
    session = talker.stream(avatar, emotion="calm", sample_rate=24000)
    for chunk in microphone():                 # any chunk size
        for frame in session.push(chunk):      # the frames that became ready, in order
            show(frame.image, frame.blendshapes)
    frames = session.flush()                   # end of the utterance
    frames = session.idle(2.0)                 # a living, silent face
    session.set_emotion("furious", transition=0.3); session.interrupt(); session.close()
    session.expect("the words of the next utterance")  # optional: visemes follow the text

The session clock (``LiveFrame.pts``) runs on across utterances, idle time and interrupts;
frames are evenly spaced at ``1 / fps``. Thread safety: the producer's calls (push, flush,
idle, set_emotion, interrupt, close) take one lock; a consumer in another thread reads the
same frames from ``get()`` or, in asyncio, ``async for frame in session.frames()`` (frames
are queued there only once a consumer has asked for them).
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import numpy as np

from ..articulation.visemes import VISEMES
from ..audio import LevelConfig
from ..errors import TbdError
from ..generator.streaming import MOUTH_CHANNELS, DiffusionStream, RigMotionStream, Timeline
from ..motion import channels as ch
from ..motion.arkit import to_arkit
from ..plan import EmotionPlan
from .audio import FeatureStream, StreamResampler, as_float_samples

INTERRUPT_CLOSE_S = 0.08
"""An interrupt closes the mouth over this much session time (smoothstep, fully closed after it)."""


class SessionClosed(TbdError):
    """The live session was closed."""


@dataclass(frozen=True)
class LiveFrame:
    """One frame of a live session."""

    pts: float
    """Seconds on the session clock (frame index / fps)."""
    values: np.ndarray
    """float32 [C] motion values, names in ``channels``."""
    channels: tuple[str, ...]
    blendshapes: dict[str, float]
    """The 52 ARKit blendshapes of this frame."""
    image: np.ndarray | None = None
    """uint8 [H, W, 3], or None for a motion-only session."""
    visemes: dict[str, float] = field(default_factory=dict)
    """The 15 OVR viseme weights of this frame (sum 1), e.g. for VRM mouth presets."""
    index: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class LiveSession:
    """A live avatar session (made by ``Talker.stream``); see the module docstring."""

    def __init__(self, talker: Any, avatar: Any = None, *, emotion: str | EmotionPlan = "", sample_rate: int = 16000,
                 seed: int = 0, block: int = 3, context: int = 16, steps: int | None = None,
                 guidance: Any = None, plan_seconds: float = 4.0, transcript: str | None = None) -> None:
        self.talker = talker
        self.avatar = avatar
        self.fps = float(talker.fps)
        self.sample_rate = int(sample_rate)
        self.seed = int(seed)
        self._lock = threading.RLock()
        plan = talker.plan(emotion) if (not isinstance(emotion, str) or emotion.strip()) else EmotionPlan.neutral(emotion)
        self.timeline = Timeline(plan, plan_seconds=plan_seconds)
        gen = talker.generator
        self._threads = getattr(talker, "threads", None)
        if getattr(gen, "name", "") in ("diffusion", "onnx") and hasattr(gen, "backend"):
            self.stream: Any = DiffusionStream(gen, self.timeline, seed=seed, block=block, context=context,
                                               steps=steps, guidance=guidance, fps=self.fps)
        else:
            self.stream = RigMotionStream(self.timeline, seed=seed, fps=self.fps)
        self.generator_name = getattr(gen, "name", "rig") if isinstance(self.stream, DiffusionStream) else "rig"
        self._resampler = StreamResampler(self.sample_rate)
        self._features = FeatureStream(self.fps, level=getattr(talker, "audio_level", LevelConfig()))
        self._frame = 0            # next frame index on the session clock
        self._utterance_start = 0  # session frame of the current utterance's frame 0
        self._closed = False
        self._last: np.ndarray | None = None  # motion of the last frame emitted
        self._consumers = False
        self._queue: queue.Queue = queue.Queue()
        self.stats = {"frames": 0, "audio_s": 0.0, "compute_s": 0.0}
        if transcript:
            self.expect(transcript)

    # --- properties -------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds of audio the generator needs beyond a frame's end before it emits the frame."""
        return float(self.stream.lookahead_s)

    @property
    def pts(self) -> float:
        """Session time of the next frame."""
        return self._frame / self.fps

    @property
    def closed(self) -> bool:
        return self._closed

    # --- producer ---------------------------------------------------------------------
    def push(self, samples: Any) -> list[LiveFrame]:
        """Feed mono float32 or int16 samples at ``sample_rate``; returns the frames that became ready."""
        with self._lock:
            self._check_open()
            clock = time.perf_counter()
            x = as_float_samples(samples)
            self.stats["audio_s"] += len(x) / self.sample_rate
            rows = self._features.push(self._resampler.push(x))
            frames = self._run(rows, final=False)
            self.stats["compute_s"] += time.perf_counter() - clock
            return frames

    async def apush(self, samples: Any) -> list[LiveFrame]:
        """``push`` in a worker thread, for asyncio code."""
        return await asyncio.to_thread(self.push, samples)

    def flush(self) -> list[LiveFrame]:
        """End the utterance: returns the remaining frames (its last frames see no more audio)."""
        with self._lock:
            self._check_open()
            clock = time.perf_counter()
            rest = self._resampler.push(np.zeros(0, np.float32), final=True)
            self._resampler = StreamResampler(self.sample_rate)
            self._features.push(rest)
            rows = self._features.finish()
            frames = self._run(rows, final=True)
            self._forget_transcript()
            self.stats["compute_s"] += time.perf_counter() - clock
            return frames

    async def aflush(self) -> list[LiveFrame]:
        return await asyncio.to_thread(self.flush)

    def idle(self, seconds: float) -> list[LiveFrame]:
        """``seconds`` of a living, silent face (blinks, breathing, small head and gaze motion,
        lips closed). Pending speech is finished first (as by ``flush``)."""
        if seconds < 0:
            raise ValueError(f"idle seconds must be >= 0, got {seconds}")
        with self._lock:
            frames = self.flush() if self._features.n_samples else []
            clock = time.perf_counter()
            n = int(round(seconds * self.fps))
            if n:
                # Not speaking: the lips close (over INTERRUPT_CLOSE_S if they were apart) and stay closed.
                k = max(1, math.ceil(INTERRUPT_CLOSE_S * self.fps - 1e-9))
                start = self._next_generated()
                gate = np.zeros(n)
                if self._mouth_open():
                    gate[:k] = (1.0 - _smoothstep(np.arange(1, k + 1) / k))[: n]
                self.stream.gate(np.arange(start, start + n), gate)
                frames += self._run(self._features.silence(n), final=True)
            self.stats["compute_s"] += time.perf_counter() - clock
            return frames

    def expect(self, text: str) -> None:
        """The words of the speech about to be pushed (a voice agent knows its TTS text): the
        visemes then follow the text through the audio (``tbd.articulation.tracking``), until
        ``flush`` or ``interrupt`` ends the utterance. Needs pocketsphinx (``tbd[align]``)."""
        from ..articulation.tracking import tracker_for

        if not isinstance(text, str):
            raise TbdError(f"expect() takes the utterance's text as a string, got {type(text).__name__}")
        with self._lock:
            self._check_open()
            visemes = getattr(self.stream, "visemes", None)
            if visemes is not None:
                visemes.tracker = tracker_for(text) if text.strip() else None

    def _forget_transcript(self) -> None:
        visemes = getattr(self.stream, "visemes", None)
        if visemes is not None:
            visemes.tracker = None

    def set_emotion(self, emotion: str | EmotionPlan, *, transition: float = 0.3) -> EmotionPlan:
        """Change the emotion from the next frame on, cross-fading over ``transition`` seconds.
        A plan with normalised times is laid over ``plan_seconds`` from now. Returns the plan."""
        with self._lock:
            self._check_open()
            plan = self.talker.plan(emotion) if (not isinstance(emotion, str) or emotion.strip()) \
                else EmotionPlan.neutral(emotion)
            self.timeline.set(plan, self._next_generated() / self.fps, transition)
            return plan

    def interrupt(self) -> list[LiveFrame]:
        """Barge-in: drop the audio not yet turned into frames and close the mouth. Returns the
        closing frames (``INTERRUPT_CLOSE_S`` of session time, rounded up to whole frames):
        the mouth is closed by the end of them."""
        with self._lock:
            self._check_open()
            clock = time.perf_counter()
            self._resampler = StreamResampler(self.sample_rate)
            self._features.reset()
            self.stream.drop_pending()
            self._forget_transcript()
            n = max(1, math.ceil(INTERRUPT_CLOSE_S * self.fps - 1e-9))
            start = self._next_generated()
            self.stream.gate(np.arange(start, start + n), 1.0 - _smoothstep(np.arange(1, n + 1) / n))
            frames = self._run(self._features.silence(n), final=True)
            self.stats["compute_s"] += time.perf_counter() - clock
            return frames

    def close(self) -> None:
        """End the session; a consumer waiting in ``get``/``frames`` stops."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)

    def __enter__(self) -> "LiveSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- consumer ---------------------------------------------------------------------
    def get(self, timeout: float | None = None) -> LiveFrame | None:
        """The next frame for a consumer thread (blocks; None once the session is closed and
        drained, or on timeout). Frames are queued from the first call on."""
        self._consumers = True
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is None:
            self._queue.put(None)  # stay closed for later calls
        return item

    async def frames(self) -> AsyncIterator[LiveFrame]:
        """``async for frame in session.frames()``: every frame produced from now on, until ``close``."""
        self._consumers = True
        while True:
            frame = await asyncio.to_thread(self.get)
            if frame is None:
                return
            yield frame

    # --- internals --------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise SessionClosed("this live session is closed; start a new one with talker.stream()")

    def _mouth_open(self) -> bool:
        return self._last is not None and float(self._last[ch.indices(MOUTH_CHANNELS)].max()) > 0.02

    def _next_generated(self) -> int:
        return int(self.stream.next)

    def _run(self, rows: np.ndarray, final: bool) -> list[LiveFrame]:
        if not len(rows) and not final:
            return []
        from .._threads import torch_threads

        with torch_threads(self._threads):
            frames, values = self.stream.push(rows, final=final)
        if not len(frames):
            return []
        images: list[Any] = [None] * len(frames)
        if self.avatar is not None:
            images = [img for chunk in self.avatar.renderer.iter_chunks(values) for img in chunk]
        out = []
        shapes = to_arkit(values)
        weights = getattr(self.stream, "last_visemes", None)
        for i, (f, v, img) in enumerate(zip(frames, values, images)):
            bs = {k: float(a[i]) for k, a in shapes.items()}
            vis = {} if weights is None or len(weights) != len(frames) else dict(zip(VISEMES, map(float, weights[i])))
            frame = LiveFrame(pts=float(f) / self.fps, values=v.astype(np.float32), channels=ch.CHANNELS,
                              blendshapes=bs, image=img, index=int(f), visemes=vis)
            out.append(frame)
            if self._consumers:
                self._queue.put(frame)
        self._frame = int(frames[-1]) + 1
        self._last = values[-1].copy()
        self.stats["frames"] += len(out)
        return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


__all__ = ["LiveSession", "LiveFrame", "SessionClosed", "MOUTH_CHANNELS"]
