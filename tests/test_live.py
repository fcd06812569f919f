"""Live sessions (tbd.live): chunking, lip sync seen by a face detector, idle life, barge-in,
emotion changes, clean blinks, thread manners and bounded memory."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

import tbd
from tbd import audio
from tbd.evaluate.blinks import find_events
from tbd.generator.adherence import CORNER_CHANNELS, AdherenceConfig
from tbd.motion import channels as ch

CHUNK_TOLERANCE = 1e-4
"""Max |difference| of motion values between chunkings of the same audio and seed (float
rounding only: every frame's features and every block's noise are the same)."""


@pytest.fixture(scope="module")
def speech(speech_path):
    return audio.load(speech_path).samples  # 16 kHz, 4.32 s


@pytest.fixture(scope="module")
def talkers():
    return {"default": tbd.Talker(progress=False, threads=1), "rig": tbd.Talker("rig", progress=False)}


def run(session, samples, chunk):
    frames = []
    for i in range(0, len(samples), chunk):
        frames += session.push(samples[i : i + chunk])
    return frames + session.flush()


def values(frames):
    return np.stack([f.values for f in frames])


@pytest.mark.parametrize("generator", ["default", "rig"])
def test_chunk_sizes_give_the_same_motion(talkers, speech, generator):
    talker = talkers[generator]
    clip = speech[: int(2.5 * 16000)]
    out = {}
    for ms in (10, 37, 1000):
        session = talker.stream(None, emotion="happy", seed=3)
        frames = run(session, clip, 16 * ms)
        out[ms] = values(frames)
        pts = np.array([f.pts for f in frames])
        np.testing.assert_allclose(np.diff(pts), 1 / 25, atol=1e-9)
        assert frames[0].image is None and set(frames[0].channels) == set(ch.CHANNELS)
        assert len(frames[0].blendshapes) == 52
    assert len(out[10]) == audio.load((clip, 16000)).n_frames(25)
    for ms in (37, 1000):
        assert np.abs(out[ms] - out[10]).max() <= CHUNK_TOLERANCE
    assert session.latency <= 0.12


def test_int16_and_other_rates(talkers, speech):
    clip = speech[:16000]
    a = values(run(talkers["rig"].stream(None, seed=1), (clip * 32767).astype(np.int16), 320))
    b = values(run(talkers["rig"].stream(None, seed=1), clip, 320))
    assert np.abs(a - b).max() < 0.02
    from scipy.signal import resample_poly

    c = values(run(talkers["rig"].stream(None, seed=1, sample_rate=24000), resample_poly(clip, 3, 2).astype(np.float32), 480))
    assert len(c) == len(b) and np.corrcoef(c[:, ch.index("AU26")], b[:, ch.index("AU26")])[0, 1] > 0.95


def test_streamed_frames_lip_sync_seen_by_a_face_detector(talkers, speech, portrait_path):
    from tbd import face
    from tbd.face import measure

    talker = talkers["default"]
    avatar = talker.prepare(portrait_path, size=256)
    frames = run(talker.stream(avatar, emotion="calm"), speech, 320)
    assert frames[0].image.shape == (256, 256, 3)
    mouth = np.array([measure.mouth_opening(face.detect(f.image, source="live frame")) for f in frames])
    energy = audio.features(audio.load((speech, 16000))).energy
    assert np.corrcoef(mouth, energy[: len(mouth)])[0, 1] >= 0.5


@pytest.mark.parametrize("generator", ["default", "rig"])
def test_idle_face_blinks_and_lives_with_lips_closed(talkers, generator):
    session = talkers[generator].stream(None, emotion="neutral", seed=2)
    frames = session.idle(8.0)
    v = values(frames)
    assert len(frames) == 200 and abs(frames[-1].pts - 199 / 25) < 1e-9
    events, _ = find_events(v[:, ch.index("AU45")], 25.0)
    assert len(events) >= 1 and min(e.apex for e in events) > 0.9
    assert v[:, ch.index("AU25")].max() < 0.2 and v[:, ch.index("AU26")].max() < 0.2
    head = v[:, ch.indices(ch.POSE_CHANNELS + ch.GAZE_CHANNELS)]
    assert head.std(0).max() > 0.003  # the head and eyes move a little
    more = session.idle(1.0)
    assert abs(more[0].pts - 200 / 25) < 1e-9  # the clock runs on


@pytest.mark.parametrize("generator", ["default", "rig"])
def test_interrupt_closes_the_mouth_within_100_ms(talkers, speech, generator):
    session = talkers[generator].stream(None, seed=0)
    loud = audio.features(audio.load((speech, 16000))).loudness
    cut = int(np.argmax(loud > 0.8)) + 3  # in the middle of speech
    frames = run_until(session, speech, cut)
    assert frames[-1].values[ch.index("AU26")] > 0.05  # speaking when interrupted
    closing = session.interrupt()
    after = closing + session.push(speech[: 16000 // 2])  # even with more speech pushed, later
    t0 = frames[-1].pts
    within = [f for f in closing if f.pts - t0 <= 0.1 + 1e-9]
    assert within and closing[0].pts > t0
    mouth = ch.indices(("AU25", "AU26", "AU27"))
    assert within[-1].values[mouth].max() < 0.05
    assert after[0].pts == pytest.approx(t0 + 1 / 25)


def run_until(session, samples, n_frames):
    frames = []
    for i in range(0, len(samples), 320):
        frames += session.push(samples[i : i + 320])
        if len(frames) >= n_frames:
            break
    return frames


@pytest.mark.parametrize("generator", ["default", "rig"])
def test_emotion_change_shows_within_its_transition(talkers, speech, generator):
    session = talkers[generator].stream(None, emotion="happy", seed=0)
    before = run_until(session, speech, 50)
    session.set_emotion("furious", transition=0.3)
    t_switch = session.stream.next / 25
    after = run(session, speech[len(before) * 640 :], 320)
    v_before = values(before[-15:])
    settled = values([f for f in after if t_switch + 0.3 <= f.pts <= t_switch + 1.0])
    smile = ch.indices(("AU12L", "AU12R"))
    brows = ch.index("AU4")
    assert settled[:, brows].mean() > v_before[:, brows].mean() + 0.15
    assert settled[:, smile].mean() < v_before[:, smile].mean() - 0.15
    # Smooth: no jump across the switch much larger than the frame-to-frame changes before it.
    cols = smile + [brows]
    joined = values(before[-5:] + after[:10])
    usual = np.abs(np.diff(values(before[-25:])[:, cols], axis=0)).max()
    assert np.abs(np.diff(joined[:, cols], axis=0)).max() < usual + 0.15


def test_default_generator_blinks_are_single_closures_at_human_rates(talkers, speech):
    clip = (np.tile(speech, 14), 16000)  # about 60 s
    motion = talkers["default"].motion(clip, "calm", seed=5)
    events, _ = find_events(motion.channel("AU45"), motion.fps)
    rate = len(events) / (motion.duration / 60)
    assert 8 <= rate <= 30
    for e in events:
        assert 0.1 <= e.duration_s <= 0.4 and e.apex > 0.95
    apexes = np.array([e.apex_frame for e in events]) / motion.fps
    assert np.diff(apexes).min() > 0.2  # no closed-open-closed flicker
    # Live blinks come from the same process.
    live = values(talkers["default"].stream(None, emotion="calm", seed=5).idle(10.0))
    live_events, _ = find_events(live[:, ch.index("AU45")], 25.0)
    assert all(0.1 <= e.duration_s <= 0.4 for e in live_events)


def test_torch_threads_unchanged_and_two_talkers_in_two_threads(speech):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    results, errors = {}, []

    def work(name, threads):
        try:
            talker = tbd.Talker(progress=False, threads=threads)
            m = talker.motion((speech[:32000], 16000), "happy", seed=1)
            s = talker.stream(None, emotion="happy", seed=1)
            results[name] = (m.values, values(run(s, speech[:16000], 800)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n, t)) for n, t in (("a", 1), ("b", None))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(results["a"][0], results["b"][0], atol=1e-4)
    np.testing.assert_allclose(results["a"][1], results["b"][1], atol=1e-4)


def test_asyncio_face_and_consumer_thread(talkers, speech):
    session = talkers["rig"].stream(None, seed=0)

    async def main():
        got = []

        async def consume():
            async for frame in session.frames():
                got.append(frame)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        pushed = []
        for i in range(0, 16000, 320):
            pushed += await session.apush(speech[i : i + 320])
        pushed += await session.aflush()
        session.close()
        await task
        return pushed, got

    pushed, got = asyncio.run(main())
    assert [f.pts for f in got] == [f.pts for f in pushed] and len(got) == 25
    with pytest.raises(tbd.TbdError, match="closed"):
        session.push(speech[:320])


def test_prepare_caches_and_reduces_large_portraits(portrait_path):
    from PIL import Image

    talker = tbd.Talker("rig", progress=False, working_size=200)
    with pytest.warns(UserWarning, match="reduced to 200"):
        avatar = talker.prepare(portrait_path)
    assert max(avatar.size) == 200 and talker.prepare(portrait_path) is avatar
    assert max(avatar.original_size) == max(Image.open(portrait_path).size)
    anim = talker.animate(avatar, (np.zeros(8000, np.float32), 16000), "happy")
    assert not anim.frames_in_memory and anim.frames.shape[1:3] == avatar.size


def test_a_small_face_in_a_large_photo_is_rendered_from_a_crop_around_it(portrait_path):
    """Reduced whole to the working size, a face 82 px high in a 2048-px photo is drawn 41 px high, its lids and lips
    a pixel or two; the avatar is the photo's pixels around the face instead, the face as large as in the photo."""
    from PIL import Image

    face_px = 256
    portrait = np.asarray(Image.open(portrait_path).convert("RGB").resize((face_px, face_px), Image.LANCZOS))
    photo = np.full((1536, 2048, 3), 90, np.uint8)
    photo[700:700 + face_px, 1100:1100 + face_px] = portrait
    with pytest.warns(UserWarning, match="the face is small"):
        avatar = tbd.Talker("rig", progress=False).prepare(photo)
    whole = tbd.Talker("rig", progress=False, face_crop=None).prepare(photo)
    assert whole.crop is None and whole.size == (768, 1024)
    x0, y0, x1, y1 = avatar.crop
    assert np.array_equal(avatar.image, photo[y0:y1, x0:x1])  # under the working size: not resized
    fx0, fy0, fx1, fy1 = (2 * v for v in whole.face.bbox)  # the face in the photo's pixels (reduced 2:1 whole)
    assert x0 < fx0 and y0 < fy0 and x1 > fx1 and y1 > fy1

    alone = tbd.face.detect(portrait)  # the face as pasted into the photo
    assert abs(avatar.face.bbox[3] - avatar.face.bbox[1] - (alone.bbox[3] - alone.bbox[1])) < 2.0
    anim = tbd.Talker("rig", progress=False).animate(avatar, (np.zeros(8000, np.float32), 16000), "happy")
    assert anim.frames.shape[1:3] == avatar.size
    with pytest.raises(tbd.OptionError, match="face_crop"):
        tbd.Talker("rig", face_crop=0.5)
    # A face too small to find once the photo is reduced: the error says the photo was searched reduced.
    tiny = np.full((1536, 2048, 3), 90, np.uint8)
    tiny[700:730, 1100:1130] = np.asarray(Image.fromarray(portrait).resize((30, 30), Image.LANCZOS))
    with pytest.raises(tbd.NoFaceError, match="2048x1536 px photo was searched reduced to 1024 px"):
        tbd.Talker("rig", progress=False).prepare(tiny)



def test_a_talkers_render_config_reaches_its_avatars(portrait_path):
    from tbd.render import RenderConfig

    flat = RenderConfig(appearance=False)
    talker = tbd.Talker("rig", progress=False, render_config=flat)
    avatar = talker.prepare(portrait_path, size=128)
    assert avatar.renderer.config is flat
    talker.render_config = RenderConfig()
    assert talker.prepare(portrait_path, size=128) is not avatar  # a new config is a new renderer
    silent = (np.zeros(8000, np.float32), 16000)
    plain, drawn = (t.animate(t.prepare(portrait_path, size=128), silent, "furious").frames[-1]
                    for t in (tbd.Talker("rig", progress=False, render_config=flat), talker))
    assert np.abs(plain.astype(int) - drawn.astype(int)).max() > 20  # the frown's lines are drawn only with appearance

@pytest.mark.slow
def test_memory_stays_flat_over_a_long_session(talkers, speech):
    import resource

    session = talkers["rig"].stream(None, seed=0)
    clip = np.tile(speech, 4)  # ~17 s per round
    peaks = []
    for _ in range(12):  # ~3.5 minutes of speech and idle
        for i in range(0, len(clip), 16000):
            session.push(clip[i : i + 16000])
        session.flush()
        session.idle(2.0)
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    assert peaks[-1] - peaks[2] < 20  # MB: nothing grows with the session's length


def test_live_cli_writes_curves_and_video(tmp_path, speech_path, capsys):
    import json

    from tbd import cli

    out = tmp_path / "live.json"
    assert cli.main(["live", speech_path, "--no-render", "--generator", "rig", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["values"]) == audio.load(speech_path).n_frames(25)
    assert "lookahead 92 ms" in capsys.readouterr().out
    video = tmp_path / "live.mp4"
    assert cli.main(["live", speech_path, "--generator", "rig", "--size", "128", "-o", str(video)]) == 0
    import av

    with av.open(str(video)) as c:
        assert c.streams.video[0].codec_context.width == 128 and c.streams.audio[0].codec_context.name == "aac"


def test_no_seams_at_block_boundaries(talkers, speech):
    """Frame-to-frame change where a new generator block starts is no larger than inside blocks."""
    session = talkers["default"].stream(None, emotion="furious", seed=0)
    v = values(run(session, np.tile(speech, 2), 320))
    cols = ch.indices(ch.AU_CHANNELS[:20] + ch.POSE_CHANNELS)
    d = np.abs(np.diff(v[:, cols], axis=0))
    starts = (np.arange(1, len(v)) - 1) % session.stream.block == 0  # blocks start at frames 1, 4, 7, ...
    assert d[starts].mean() < 1.3 * d[~starts].mean()


def test_live_lip_corners_keep_to_the_plan(talkers, speech):
    session = talkers["default"].stream(None, emotion="angry", seed=0)
    got = values(run(session, speech, 640))
    planned = {c for name in tbd.think("angry").aus for c in ch.expand_au(name)}
    unplanned = [n for n in CORNER_CHANNELS if n not in planned]
    assert got[:, ch.indices(unplanned)].max() <= AdherenceConfig().unplanned_max + 1e-6
    assert got[25:, ch.index("AU4")].mean() > 0.2
