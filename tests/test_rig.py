from __future__ import annotations

import warnings

import numpy as np
import pytest

import tbd
from tbd import audio
from tbd.generator import RigGenerator
from tbd.generator.rig import RigConfig
from tbd.motion import CHANNELS, channels as ch

from .conftest import cameraman_crop, syllables


def _feats(seconds=6.0, seed=0):
    return audio.features(audio.load((syllables(seconds, 16000, seed), 16000)), fps=25)


def test_same_seed_same_motion_and_contract():
    plan = tbd.EmotionPlan(text="smile", aus={"AU6": 0.5, "AU12L": 0.7, "AU12R": 0.7})
    feats = _feats()
    a = RigGenerator().sample(plan, feats, seed=3)
    b = RigGenerator().sample(plan, feats, seed=3)
    c = RigGenerator().sample(plan, feats, seed=4)
    assert a.values.shape == (feats.n_frames, len(CHANNELS)) and a.values.dtype == np.float32
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert a.meta["generator"] == "rig" and a.meta["seed"] == 3
    aus = a.values[:, ch.indices(ch.AU_CHANNELS)]
    assert aus.min() >= 0 and aus.max() <= 1


def test_mouth_follows_speech_and_closes_in_silence():
    feats = _feats()
    motion = RigGenerator().sample(tbd.EmotionPlan.neutral(), feats)
    jaw = motion.channel("AU26")
    assert np.corrcoef(jaw, feats.energy)[0, 1] > 0.7
    silent = audio.features(audio.load((np.zeros(32000, np.float32), 16000)))
    still = RigGenerator().sample(tbd.EmotionPlan.neutral(), silent)
    assert still.channel("AU26").max() == 0 and still.channel("AU25").max() == 0


def test_blinks_at_human_rate_and_duration():
    """The rig's blinks are BlinkTrack's: 12-22 a minute, each above half-closed for at least 4 frames at 25 fps, so
    a face tracker that reads a half-shut lid as less than half a blink still sees 100 ms or more (at 3 frames, a
    third of the rig's own blinks measured 80 ms)."""
    from tbd.evaluate.blinks import find_events

    silent = audio.features(audio.load((np.zeros(16000 * 600, np.float32), 16000)))
    curve = RigGenerator().sample(tbd.EmotionPlan.neutral(), silent, seed=7).channel("AU45")
    events, _ = find_events(curve, 25.0)
    assert 12 <= len(events) / 10 <= 22
    durations = np.array([e.duration_s for e in events])
    assert durations.min() >= 0.12 and np.median(durations) >= 0.16 and durations.max() <= 0.3, durations


def test_plan_aus_reach_their_targets():
    plan = tbd.EmotionPlan(
        text="sad then happy",
        keyframes=[(0.0, {"AU15": 0.8, "AU1": 0.6}), (0.4, {"AU15": 0.8, "AU1": 0.6}), (0.6, {"AU12L": 0.9, "AU12R": 0.9}), (1.0, {"AU12L": 0.9, "AU12R": 0.9})],
    )
    motion = RigGenerator().sample(plan, _feats(8.0))
    n = motion.n_frames
    assert motion.channel("AU15")[n // 5] > 0.6 and motion.channel("AU15")[-5] < 0.1
    assert motion.channel("AU12L")[-5] > 0.75 and motion.channel("AU12L")[n // 5] < 0.1


def test_head_motion_is_small_and_alive():
    motion = RigGenerator().sample(tbd.EmotionPlan.neutral(), _feats())
    pose = motion.values[:, ch.indices(ch.POSE_CHANNELS)]
    assert np.abs(pose).max() < 0.3  # radians: no wild turns
    assert pose.std(axis=0).min() > 1e-3


def _voice_with_a_stop(rate: int = 16000) -> np.ndarray:
    """One second of a steady voiced sound with a 60-ms silence in its middle (a stop's closure)."""
    t = np.arange(rate) / rate
    voice = 0.3 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12))
    voice[int(0.5 * rate): int(0.56 * rate)] = 0.0
    return voice.astype(np.float32)


def test_a_stops_short_silence_closes_the_lips_batch_and_live():
    samples = _voice_with_a_stop()
    feats = audio.features(audio.load((samples, 16000)), fps=25)
    dip = int(np.argmin(feats.loudness[5:-5])) + 5
    assert feats.loudness[dip] < 0.5 * np.median(feats.loudness)
    keeps = RigGenerator().sample(tbd.EmotionPlan.neutral(), feats, seed=0)
    fills = RigGenerator(RigConfig(mouth_keeps_dips=False)).sample(tbd.EmotionPlan.neutral(), feats, seed=0)
    around = keeps.channel("AU25")[[dip - 3, dip + 3]]
    assert keeps.channel("AU25")[dip] < 0.25 * around.min(), (keeps.channel("AU25")[dip], around)
    assert fills.channel("AU25")[dip] > 2 * keeps.channel("AU25")[dip]  # Gaussian smoothing alone fills the dip
    session = tbd.Talker("rig", progress=False).stream(None, emotion="neutral", seed=0)
    frames = [f for i in range(0, len(samples), 640) for f in session.push(samples[i:i + 640])] + session.flush()
    live = np.stack([f.values for f in frames])[:, CHANNELS.index("AU25")]
    assert live[dip] < 0.25 * live[[dip - 3, dip + 3]].min()


def test_a_quiet_voice_moves_the_mouth_as_a_normal_one_batch_and_live(speech_path):
    """The recording level no longer sets how far the mouth opens: the bundled speech 24 dB down (a quiet
    microphone) opens it nearly as far, in batch and live; as recorded it barely opened."""
    samples = audio.load(speech_path).samples
    quiet = (samples * 10 ** (-24 / 20)).astype(np.float32)
    talker = tbd.Talker("rig", progress=False)

    def opening(values):
        return float((values[:, CHANNELS.index("AU25")] + values[:, CHANNELS.index("AU26")]).mean())

    normal = opening(talker.motion((samples, 16000), "neutral").values)
    evened = opening(talker.motion((quiet, 16000), "neutral").values)
    as_recorded = tbd.Talker("rig", progress=False, audio_level=None)
    assert evened > 0.7 * normal and opening(as_recorded.motion((quiet, 16000), "neutral").values) < 0.2 * normal

    def live(talker):
        session = talker.stream(None, emotion="neutral", seed=0)
        frames = [f for i in range(0, len(quiet), 640) for f in session.push(quiet[i:i + 640])] + session.flush()
        return opening(np.stack([f.values for f in frames]))

    assert live(talker) > 0.7 * normal and live(as_recorded) < 0.2 * normal
    with pytest.raises(tbd.OptionError, match="audio_level"):
        tbd.Talker("rig", audio_level={"max_boost_db": 6})


def test_a_live_session_keeps_a_quiet_voices_level_between_utterances(speech_path):
    """The first utterance of a quiet voice is raised only once 0.2 s of it has been heard; the session keeps the
    level, so the next utterance opens the mouth from its first syllable."""
    quiet = (audio.load(speech_path).samples * 10 ** (-24 / 20)).astype(np.float32)
    session = tbd.Talker("rig", progress=False).stream(None, emotion="neutral", seed=0)
    starts = []
    for _ in range(2):
        frames = [f for i in range(0, len(quiet), 640) for f in session.push(quiet[i:i + 640])] + session.flush()
        values = np.stack([f.values for f in frames])[:15]  # the first 0.6 s
        starts.append(float((values[:, CHANNELS.index("AU25")] + values[:, CHANNELS.index("AU26")]).mean()))
    assert starts[1] > 1.3 * starts[0], starts


def test_the_cli_evens_out_a_quiet_recording_unless_told_not_to(tmp_path, speech_path, portrait_path):
    import json

    import soundfile as sf

    from tbd import cli

    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, audio.load(speech_path).samples * 10 ** (-24 / 20), 16000)

    def opening(path):
        doc = json.loads(path.read_text())
        values = np.array(doc["values"])
        return (values[:, doc["channels"].index("AU25")] + values[:, doc["channels"].index("AU26")]).mean()

    runs = {}
    for flag in ((), ("--audio-as-recorded",)):
        for command in (["animate", portrait_path, str(quiet)], ["live", str(quiet), "--no-render"]):
            out = tmp_path / f"{command[0]}{len(flag)}.json"
            assert cli.main([*command, "--generator", "rig", "-o", str(out), "--quiet", *flag]) == 0
            runs[command[0], bool(flag)] = opening(out)
    for command in ("animate", "live"):
        assert runs[command, False] > 5 * runs[command, True], runs


def test_a_face_turned_far_from_the_camera_is_warned_about(tmp_path):
    """A portrait turned well past a three-quarter view animates, with a warning (kept in the avatar's notes) that its
    mouth and lids are drawn poorly; a frontal one gets none."""
    from PIL import Image

    from tbd.assets import portrait_path

    path = tmp_path / "turned.png"
    Image.fromarray(cameraman_crop(256)).save(path)
    talker = tbd.Talker("rig", progress=False)
    with pytest.warns(UserWarning, match=r"turned about \d+ degrees from the camera"):
        avatar = talker.prepare(str(path))
    assert any("turned about" in note for note in avatar.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frontal = talker.prepare(str(portrait_path()))
    assert not any("turned about" in note for note in frontal.notes)
