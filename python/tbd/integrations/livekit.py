"""A LiveKit Agents avatar (``pip install "tbd[livekit]"``): ``TbdVideoGenerator`` for
``livekit.agents.voice.avatar.AvatarRunner`` (example worker: examples/livekit_avatar.py).

    gen = TbdVideoGenerator(talker, avatar, emotion="friendly", audio_sample_rate=24000)
    runner = AvatarRunner(room, audio_recv=DataStreamAudioReceiver(room), video_gen=gen,
                          options=AvatarOptions(video_width=256, video_height=256, video_fps=25,
                                                audio_sample_rate=24000, audio_channels=1))

Each rendered frame comes out as an ``rtc.VideoFrame`` (RGBA) followed by the ``rtc.AudioFrame``
of its time span (mono int16; the audio is held back by the session's lookahead so the two stay
in sync), then one ``AudioSegmentEnd`` per segment. Between segments the face idles (blinks,
breathing) at ``video_fps``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import require
from ._sync import SpeechSync, SyncedFrame, mono_int16

_avatar = require("livekit.agents.voice.avatar", "livekit")
rtc = require("livekit.rtc", "livekit")
AudioSegmentEnd = _avatar.AudioSegmentEnd


@dataclass(frozen=True)
class GeneratorConfig:
    """Options of a TbdVideoGenerator beyond the framework's own."""

    idle: bool = True
    """Idle frames at ``video_fps`` between segments (a live video track needs frames)."""
    seed: int = 0
    transition: float = 0.3
    """Seconds over which ``set_emotion`` cross-fades."""


class TbdVideoGenerator(_avatar.VideoGenerator):
    """tbd as a LiveKit ``VideoGenerator``: audio in, synced video and audio out."""

    def __init__(self, talker: Any, avatar: Any, *, emotion: str = "", video_fps: float = 25,
                 audio_sample_rate: int = 24000, config: GeneratorConfig | None = None) -> None:
        if avatar is None:
            raise ValueError("a video generator needs an avatar: talker.prepare(image)")
        if abs(float(video_fps) - float(talker.fps)) > 1e-6:
            raise ValueError(f"video_fps ({video_fps}) must equal the talker's fps ({talker.fps})")
        self.config = config or GeneratorConfig()
        self.video_fps = float(video_fps)
        self.audio_sample_rate = int(audio_sample_rate)
        self.session = talker.stream(avatar, emotion=emotion, sample_rate=self.audio_sample_rate,
                                     seed=self.config.seed)
        self._sync = SpeechSync(self.session)
        self._out: asyncio.Queue = asyncio.Queue()
        self._segment_open = False  # audio pushed since the last AudioSegmentEnd (or clear)
        self._ended = False

    # --- VideoGenerator ---------------------------------------------------------------
    async def push_audio(self, frame: Any) -> None:
        """An ``rtc.AudioFrame`` of the current segment, or ``AudioSegmentEnd`` to close it."""
        epoch = self._sync.epoch
        if isinstance(frame, AudioSegmentEnd):
            synced = await asyncio.to_thread(self._sync.end, epoch)
            self._emit(synced, epoch)
            self._segment_open = False
            self._out.put_nowait(AudioSegmentEnd())
            return
        if frame.sample_rate != self.audio_sample_rate:
            raise ValueError(f"audio at {frame.sample_rate} Hz; this generator takes {self.audio_sample_rate} Hz "
                             "(audio_sample_rate)")
        self._segment_open = True
        samples = mono_int16(frame.data, frame.num_channels)
        self._emit(await asyncio.to_thread(self._sync.push, samples, epoch), epoch)

    async def clear_buffer(self) -> None:
        """Barge-in: drop the queued output and the audio not yet played; the mouth closes
        over the next 80 ms of session time (those frames come out with no audio)."""
        self._drain()
        closing = await asyncio.to_thread(self._sync.clear)
        self._drain()
        self._segment_open = False
        self._emit(closing, self._sync.epoch)

    def __aiter__(self) -> "TbdVideoGenerator":
        return self

    async def __anext__(self) -> Any:
        """The next VideoFrame, AudioFrame or AudioSegmentEnd (a plain coroutine, so a cancelled
        wait loses nothing and the stream goes on)."""
        tick = 1.0 / self.video_fps
        while True:
            if self._ended:
                raise StopAsyncIteration
            try:
                item = await asyncio.wait_for(self._out.get(), timeout=tick)
            except asyncio.TimeoutError:
                if self.config.idle and not self._segment_open and not self.session.closed:
                    self._emit(await asyncio.to_thread(self._sync.idle, tick), self._sync.epoch)
                continue
            if item is None:
                self._ended = True
                raise StopAsyncIteration
            return item

    # --- tbd --------------------------------------------------------------------------
    def set_emotion(self, text: str) -> None:
        """The emotion of the next utterance (an agent's reply, or a tag in it: see ``split_emotion``)."""
        self._sync.set_emotion(text, self.config.transition)

    async def aclose(self) -> None:
        self.session.close()
        self._out.put_nowait(None)

    # --- internals --------------------------------------------------------------------
    def _emit(self, synced: list[SyncedFrame], epoch: int) -> None:
        if epoch != self._sync.epoch:
            return  # cleared while this push ran
        for s in synced:
            if s.frame is not None and s.frame.image is not None:
                self._out.put_nowait(self._video(s.frame.image))
            if len(s.audio):
                self._out.put_nowait(rtc.AudioFrame(s.audio.tobytes(), self.audio_sample_rate, 1, len(s.audio)))

    def _drain(self) -> None:
        keep = []
        while not self._out.empty():
            item = self._out.get_nowait()
            if isinstance(item, AudioSegmentEnd) or item is None:  # keep the segment ends and the close
                keep.append(item)
        for item in keep:
            self._out.put_nowait(item)

    def _video(self, image: np.ndarray) -> Any:
        h, w = image.shape[:2]
        rgba = np.empty((h, w, 4), np.uint8)
        rgba[..., :3] = image
        rgba[..., 3] = 255
        return rtc.VideoFrame(w, h, rtc.VideoBufferType.RGBA, rgba.tobytes())


__all__ = ["TbdVideoGenerator", "GeneratorConfig", "AudioSegmentEnd"]
