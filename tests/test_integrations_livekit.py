"""LiveKit Agents avatar (tbd.integrations.livekit), driven directly with real rtc frames."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from scipy.signal import resample_poly

from tbd import assets, audio

from livekit import rtc  # tbd[livekit], installed by the test extra: no skip
from livekit.agents.voice.avatar import AudioSegmentEnd, VideoGenerator

from tbd.integrations.livekit import GeneratorConfig, TbdVideoGenerator

RATE = 24000
FPS = 25


@pytest.fixture(scope="module")
def speech():
    x = audio.load(assets.speech_path()).samples  # 16 kHz
    return (resample_poly(x, 3, 2) * 32767).clip(-32768, 32767).astype(np.int16)


def audio_frames(samples: np.ndarray, ms: int = 20) -> list:
    n = RATE * ms // 1000
    return [rtc.AudioFrame(samples[i : i + n].tobytes(), RATE, 1, len(samples[i : i + n]))
            for i in range(0, len(samples), n)]


async def collect(gen, out: list) -> None:
    async for item in gen:
        out.append(item)


def test_video_frames_audio_and_segment_ends(talker, avatar, speech):
    segments = [speech[: int(2.5 * RATE)], speech[int(2.5 * RATE) : int(3.5 * RATE)]]

    async def main():
        gen = TbdVideoGenerator(talker, avatar, emotion="calm", video_fps=FPS, audio_sample_rate=RATE,
                                config=GeneratorConfig(idle=False))
        assert isinstance(gen, VideoGenerator)
        out: list = []
        consumer = asyncio.create_task(collect(gen, out))
        for seg in segments:
            for f in audio_frames(seg):
                await gen.push_audio(f)
            await gen.push_audio(AudioSegmentEnd())
        for _ in range(100):
            if sum(isinstance(x, AudioSegmentEnd) for x in out) == len(segments):
                break
            await asyncio.sleep(0.02)
        await gen.aclose()
        await consumer
        return out

    out = asyncio.run(main())
    ends = [i for i, x in enumerate(out) if isinstance(x, AudioSegmentEnd)]
    assert len(ends) == len(segments) and ends[-1] == len(out) - 1
    start = 0
    for seg, end in zip(segments, ends):
        items = out[start:end]
        start = end + 1
        video = [x for x in items if isinstance(x, rtc.VideoFrame)]
        sound = [x for x in items if isinstance(x, rtc.AudioFrame)]
        assert len(video) + len(sound) == len(items)
        assert abs(len(video) - len(seg) / RATE * FPS) <= 0.2 * FPS
        assert video[0].width == 128 and video[0].type == rtc.VideoBufferType.RGBA
        got = np.concatenate([np.frombuffer(a.data, np.int16) for a in sound])
        np.testing.assert_array_equal(got, seg)  # audio out = audio in, in order
        assert all(a.sample_rate == RATE and a.num_channels == 1 for a in sound)
        # in sync: after k video frames, the audio out is that of k frames (never ahead)
        played, k = 0, 0
        for x in items:
            if isinstance(x, rtc.VideoFrame):
                k += 1
            else:
                played += x.samples_per_channel
                assert played <= k * RATE / FPS + 1 or k == len(video)
                assert played >= (k - 1) * RATE / FPS


def test_clear_buffer_stops_output_within_100ms(talker, avatar, speech):
    async def main():
        gen = TbdVideoGenerator(talker, avatar, video_fps=FPS, audio_sample_rate=RATE,
                                config=GeneratorConfig(idle=False))
        for f in audio_frames(speech[: 2 * RATE]):
            await gen.push_audio(f)
        before = []
        it = gen.__aiter__()
        while sum(isinstance(x, rtc.VideoFrame) for x in before) < 10:
            before.append(await it.__anext__())
        await gen.clear_buffer()
        after = []
        try:
            while True:
                after.append(await asyncio.wait_for(it.__anext__(), timeout=0.5))
        except asyncio.TimeoutError:
            pass
        await gen.push_audio(AudioSegmentEnd())  # the receiver still ends the cleared segment
        after.append(await asyncio.wait_for(it.__anext__(), timeout=0.5))
        await gen.aclose()
        return after

    after = asyncio.run(main())
    assert isinstance(after[-1], AudioSegmentEnd)
    video = [x for x in after if isinstance(x, rtc.VideoFrame)]
    assert not any(isinstance(x, rtc.AudioFrame) for x in after)  # no speech after the clear
    assert 1 <= len(video) <= math.ceil(0.1 * FPS)  # the mouth-closing frames only: <= 100 ms


def test_idle_frames_between_segments_and_emotion(talker, avatar):
    async def main():
        gen = TbdVideoGenerator(talker, avatar, emotion="neutral", video_fps=FPS, audio_sample_rate=RATE)
        gen.set_emotion("furious")
        out: list = []
        consumer = asyncio.create_task(collect(gen, out))
        await asyncio.sleep(0.6)
        await gen.aclose()
        await consumer
        return out

    out = asyncio.run(main())
    assert len(out) >= 5 and all(isinstance(x, rtc.VideoFrame) for x in out)


def test_frames_go_through_the_runners_av_synchronizer(talker, avatar, speech):
    """AvatarRunner publishes through rtc.AVSynchronizer: it takes our frames, paced in real time."""
    import importlib.util
    import time
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "livekit_avatar.py"
    spec = importlib.util.spec_from_file_location("livekit_avatar", example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the example worker imports (AvatarRunner, receiver, generator)
    assert module.AvatarRunner is not None

    async def main():
        gen = TbdVideoGenerator(talker, avatar, video_fps=FPS, audio_sample_rate=RATE,
                                config=GeneratorConfig(idle=False))
        asrc = rtc.AudioSource(RATE, 1, queue_size_ms=100)
        vsrc = rtc.VideoSource(128, 128)
        sync = rtc.AVSynchronizer(audio_source=asrc, video_source=vsrc, video_fps=FPS, video_queue_size_ms=100)
        for f in audio_frames(speech[:RATE]):
            await gen.push_audio(f)
        await gen.push_audio(AudioSegmentEnd())
        n, clock = 0, time.perf_counter()
        async for item in gen:
            if isinstance(item, AudioSegmentEnd):
                break
            await sync.push(item)
            n += isinstance(item, rtc.VideoFrame)
        wall = time.perf_counter() - clock
        await sync.aclose()
        await asrc.aclose()
        await vsrc.aclose()
        return n, wall

    n, wall = asyncio.run(main())
    assert abs(n - FPS) <= 0.2 * FPS and 0.6 <= wall <= 2.0
