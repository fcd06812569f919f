"""A Pipecat avatar (``pip install "tbd[pipecat]"``): ``TbdAvatarService``, placed after the TTS.

    avatar = TbdAvatarService(talker, talker.prepare("face.png"), emotion="friendly")
    pipeline = Pipeline([transport.input(), stt, user_agg, llm, EmotionTagFilter(avatar), tts,
                         avatar, transport.output(), assistant_agg])

It consumes ``TTSAudioRawFrame``s and emits, per video frame, an ``OutputImageRawFrame`` (RGB,
``sync_with_audio``) and then a ``TTSAudioRawFrame`` with the speech of that frame's time span
(mono, held back by the session's lookahead); ``TTSStoppedFrame`` ends the utterance. An
interruption drops the speech not yet played and closes the mouth over 80 ms (two image
frames, no audio). ``EmotionTagFilter`` takes an emotion tag at the start of each LLM reply
(``[warm] Sure!``) out of the text and hands it to ``set_emotion``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from . import _EMOTION_TAG, require
from ._sync import SpeechSync, SyncedFrame, mono_int16

_frames = require("pipecat.frames.frames", "pipecat")
_processor = require("pipecat.processors.frame_processor", "pipecat")
FrameProcessor = _processor.FrameProcessor
FrameDirection = _processor.FrameDirection


@dataclass(frozen=True)
class AvatarServiceConfig:
    """Options of a TbdAvatarService."""

    seed: int = 0
    transition: float = 0.3
    """Seconds over which ``set_emotion`` cross-fades."""


class TbdAvatarService(FrameProcessor):
    """tbd as a Pipecat frame processor: TTS audio in, synced images and audio out."""

    def __init__(self, talker: Any, avatar: Any, *, emotion: str = "", sample_rate: int | None = None,
                 config: AvatarServiceConfig | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.talker, self.avatar = talker, avatar
        self.config = config or AvatarServiceConfig()
        self._emotion = emotion
        self._rate = sample_rate
        self._sync: SpeechSync | None = None
        self._context_id: str | None = None

    @property
    def session(self) -> Any:
        """The live session (None before the pipeline starts)."""
        return None if self._sync is None else self._sync.session

    def set_emotion(self, text: str) -> None:
        """The emotion of the next utterance (from the agent's reply or a tag in it)."""
        self._emotion = text
        if self._sync is not None:
            self._sync.set_emotion(text, self.config.transition)

    async def process_frame(self, frame: Any, direction: Any) -> None:
        await super().process_frame(frame, direction)
        f = _frames
        if isinstance(frame, f.StartFrame):
            self._start()
            await self.push_frame(frame, direction)
        elif isinstance(frame, f.TTSAudioRawFrame) and self._sync is not None:
            self._context_id = frame.context_id
            if frame.sample_rate != self._sync.rate:
                await self.push_error(error_msg=f"TTS audio at {frame.sample_rate} Hz; this avatar takes "
                                                f"{self._sync.rate} Hz (sample_rate)")
                return
            epoch = self._sync.epoch
            synced = await asyncio.to_thread(self._sync.push, mono_int16(frame.audio, frame.num_channels), epoch)
            await self._emit(synced, epoch)
        elif isinstance(frame, f.TTSStartedFrame):
            self._context_id = frame.context_id
            await self.push_frame(frame, direction)
        elif isinstance(frame, f.TTSStoppedFrame) and self._sync is not None:
            epoch = self._sync.epoch
            await self._emit(await asyncio.to_thread(self._sync.end, epoch), epoch)
            await self.push_frame(frame, direction)
        elif isinstance(frame, f.InterruptionFrame) and self._sync is not None:
            closing = await asyncio.to_thread(self._sync.clear)
            await self.push_frame(frame, direction)
            await self._emit(closing, self._sync.epoch)
        elif isinstance(frame, f.EndFrame) and self._sync is not None:
            epoch = self._sync.epoch
            await self._emit(await asyncio.to_thread(self._sync.end, epoch), epoch)
            self._sync.session.close()
            await self.push_frame(frame, direction)
        elif isinstance(frame, f.CancelFrame) and self._sync is not None:
            self._sync.session.close()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    def _start(self) -> None:
        if self._sync is not None and not self._sync.session.closed:
            return
        rate = self._rate or self.processor_setup.audio_out_sample_rate
        session = self.talker.stream(self.avatar, emotion=self._emotion, sample_rate=rate, seed=self.config.seed)
        self._sync = SpeechSync(session)

    async def _emit(self, synced: list[SyncedFrame], epoch: int) -> None:
        f = _frames
        assert self._sync is not None
        for s in synced:
            if epoch != self._sync.epoch:
                return  # interrupted meanwhile
            if s.frame is not None and s.frame.image is not None:
                h, w = s.frame.image.shape[:2]
                image = f.OutputImageRawFrame(image=s.frame.image.tobytes(), size=(w, h), format="RGB")
                image.sync_with_audio = True
                image.metadata["pts"] = s.frame.pts
                await self.push_frame(image)
            if len(s.audio):
                await self.push_frame(f.TTSAudioRawFrame(audio=s.audio.tobytes(), sample_rate=self._sync.rate,
                                                         num_channels=1, context_id=self._context_id))


class EmotionTagFilter(FrameProcessor):
    """Between the LLM and the TTS: an emotion tag at the start of a reply (``[warm] ...``,
    ``[emotion: warm] ...``, ``<emotion>warm</emotion> ...``) goes to ``avatar.set_emotion`` and
    out of the spoken text. Text is held only while it can still be the start of a tag."""

    MAX_TAG = 100

    def __init__(self, avatar: TbdAvatarService, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.avatar = avatar
        self._held: str | None = None  # text held at the start of a reply, None once decided
        self._spaces = False
        self._after_tag = False

    async def process_frame(self, frame: Any, direction: Any) -> None:
        await super().process_frame(frame, direction)
        f = _frames
        if isinstance(frame, f.LLMFullResponseStartFrame):
            self._held, self._after_tag = "", False
            await self.push_frame(frame, direction)
        elif isinstance(frame, f.LLMTextFrame) and self._held is not None:
            self._held += frame.text
            self._spaces = frame.includes_inter_frame_spaces
            head = self._held.lstrip()
            opening = head.startswith("[") or "<emotion>".startswith(head[:9].lower())
            closed = "]" in head or "</emotion>" in head.lower()
            if head and (not opening or closed or len(head) > self.MAX_TAG):
                await self._release()
        elif isinstance(frame, f.LLMTextFrame) and self._after_tag:
            self._after_tag = False  # the text right after a tag: no leading space
            text = frame.text.lstrip()
            if text:
                frame.text = text
                await self.push_frame(frame, direction)
            else:
                self._after_tag = True
        elif isinstance(frame, f.LLMFullResponseEndFrame) and self._held is not None:
            await self._release()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _release(self) -> None:
        text, self._held = self._held or "", None
        tag = _EMOTION_TAG.match(text.lstrip())
        if tag is not None:
            self.avatar.set_emotion((tag.group(1) or tag.group(2)).strip())
            text = text.lstrip()[tag.end():].lstrip()
            self._after_tag = not text
        if text:
            out = _frames.LLMTextFrame(text=text)
            out.includes_inter_frame_spaces = self._spaces
            await self.push_frame(out)


__all__ = ["TbdAvatarService", "AvatarServiceConfig", "EmotionTagFilter"]
