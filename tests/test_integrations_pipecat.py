"""Pipecat avatar (tbd.integrations.pipecat) in a real, local Pipecat pipeline:
a TTS stand-in of our own -> TbdAvatarService -> a recording sink."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest
from scipy.signal import resample_poly

from tbd import assets, audio

from pipecat.frames.frames import (  # tbd[pipecat], installed by the test extra: no skip
    EndFrame, InterruptionFrame, LLMFullResponseEndFrame, LLMFullResponseStartFrame, LLMTextFrame,
    OutputImageRawFrame, StartFrame, TextFrame, TTSAudioRawFrame, TTSStartedFrame, TTSStoppedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from tbd.integrations.pipecat import EmotionTagFilter, TbdAvatarService

RATE = 24000
FPS = 25
CHUNK = RATE // 50  # 20 ms


class SpeakingTTS(FrameProcessor):
    """Stands in for a TTS service: a TextFrame becomes TTSStarted, 20 ms TTSAudioRawFrames
    (paced in real time with ``pace``) and TTSStopped; an interruption stops it."""

    def __init__(self, speech: np.ndarray, pace: bool) -> None:
        super().__init__()
        self.speech, self.pace = speech, pace
        self._task: asyncio.Task | None = None

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, TextFrame) and not isinstance(frame, LLMTextFrame):
            self._task = self.create_task(self._speak())
        elif isinstance(frame, InterruptionFrame):
            if self._task is not None:
                await self.cancel_task(self._task)
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _speak(self):
        await self.push_frame(TTSStartedFrame(context_id="c1"))
        for i in range(0, len(self.speech), CHUNK):
            await self.push_frame(TTSAudioRawFrame(audio=self.speech[i : i + CHUNK].tobytes(), sample_rate=RATE,
                                                   num_channels=1, context_id="c1"))
            if self.pace:
                await asyncio.sleep(CHUNK / RATE)
        await self.push_frame(TTSStoppedFrame(context_id="c1"))


class Sink(FrameProcessor):
    """Records every downstream frame with its arrival time."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[float, object]] = []

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM and not isinstance(frame, StartFrame):
            self.frames.append((time.perf_counter(), frame))
        await self.push_frame(frame, direction)


@pytest.fixture(scope="module")
def speech():
    x = audio.load(assets.speech_path()).samples[: int(2.5 * 16000)]
    return (resample_poly(x, 3, 2) * 32767).clip(-32768, 32767).astype(np.int16)


def run_pipeline(processors: list, script) -> None:
    async def main():
        worker = PipelineWorker(Pipeline(processors), cancel_on_idle_timeout=False, enable_rtvi=False,
                                params=PipelineParams(audio_out_sample_rate=RATE))
        started = asyncio.Event()

        @worker.event_handler("on_pipeline_started")
        async def _started(worker, frame):
            started.set()

        async def drive():
            await asyncio.wait_for(started.wait(), timeout=5)
            await script(worker)
            await worker.queue_frame(EndFrame())

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await asyncio.wait_for(asyncio.gather(runner.run(), drive()), timeout=60)

    asyncio.run(main())


def test_images_at_the_video_rate_and_audio_in_order(talker, avatar, speech):
    service = TbdAvatarService(talker, avatar, emotion="calm")
    sink = Sink()

    async def script(worker):
        await worker.queue_frame(TextFrame(text="hello"))
        while not any(isinstance(f, TTSStoppedFrame) for _, f in sink.frames):
            await asyncio.sleep(0.05)

    run_pipeline([SpeakingTTS(speech, pace=False), service, sink], script)
    kinds = [type(f) for _, f in sink.frames]
    assert kinds[0] is TTSStartedFrame and TTSStoppedFrame in kinds
    utterance = [f for _, f in sink.frames][: kinds.index(TTSStoppedFrame)]
    images = [f for f in utterance if isinstance(f, OutputImageRawFrame)]
    sound = [f for f in utterance if isinstance(f, TTSAudioRawFrame)]
    duration = len(speech) / RATE
    assert abs(len(images) - duration * FPS) <= 0.2 * FPS
    assert images[0].size == (128, 128) and images[0].format == "RGB" and len(images[0].image) == 128 * 128 * 3
    assert all(im.sync_with_audio for im in images)
    pts = np.array([im.metadata["pts"] for im in images])
    np.testing.assert_allclose(np.diff(pts), 1 / FPS, atol=1e-9)  # one image per video frame
    got = np.concatenate([np.frombuffer(a.audio, np.int16) for a in sound])
    np.testing.assert_array_equal(got, speech)  # audio passed through, in order
    played, k = 0, 0  # in sync: the audio never runs ahead of the images
    for f in utterance[1:]:
        if isinstance(f, OutputImageRawFrame):
            k += 1
        elif isinstance(f, TTSAudioRawFrame):
            played += f.num_frames
            assert played <= k * RATE / FPS + 1 or k == len(images)
    assert service.session.closed  # the EndFrame closed the session


def test_an_interruption_stops_the_images_within_100ms(talker, avatar, speech):
    service = TbdAvatarService(talker, avatar)
    sink = Sink()

    async def script(worker):
        await worker.queue_frame(TextFrame(text="hello"))
        await asyncio.sleep(1.0)
        await worker.queue_frame(InterruptionFrame())
        await asyncio.sleep(0.6)

    run_pipeline([SpeakingTTS(speech, pace=True), service, sink], script)
    frames = [f for _, f in sink.frames]
    cut = next(i for i, f in enumerate(frames) if isinstance(f, InterruptionFrame))
    before = [f for f in frames[:cut] if isinstance(f, OutputImageRawFrame)]
    after = frames[cut + 1 :]
    images = [f for f in after if isinstance(f, OutputImageRawFrame)]
    assert len(before) >= 10  # it was speaking (about 1 s of audio in, less the lookahead)
    assert not any(isinstance(f, TTSAudioRawFrame) for f in after)
    assert 1 <= len(images) <= math.ceil(0.1 * FPS)  # the mouth-closing frames only
    pts = [im.metadata["pts"] for im in images]
    assert pts[-1] + 1 / FPS - pts[0] <= 0.1 + 1e-9  # the images stop within 100 ms of session time
    assert pts[0] - before[-1].metadata["pts"] <= 0.1 + 1e-9  # ... right after the last speech image


def test_an_emotion_tag_in_the_reply_reaches_the_avatar(talker, avatar):
    service = TbdAvatarService(talker, avatar)
    tags = EmotionTagFilter(service)
    sink = Sink()
    seen = []
    service.set_emotion = lambda text: seen.append(text)  # type: ignore[method-assign]

    async def script(worker):
        for frames in ([LLMFullResponseStartFrame(), LLMTextFrame("[emo"), LLMTextFrame("tion: warm]"),
                        LLMTextFrame(" Sure,"), LLMTextFrame(" happy to help."), LLMFullResponseEndFrame()],
                       [LLMFullResponseStartFrame(), LLMTextFrame("No tag"), LLMTextFrame(" [here]"),
                        LLMFullResponseEndFrame()]):
            for f in frames:
                await worker.queue_frame(f)
        await asyncio.sleep(0.3)

    run_pipeline([tags, sink], script)
    text = "".join(f.text for _, f in sink.frames if isinstance(f, LLMTextFrame))
    assert seen == ["warm"]
    assert text == "Sure, happy to help.No tag [here]"
