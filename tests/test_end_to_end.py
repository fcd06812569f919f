"""The whole chain, measured the way a viewer would: by running a face detector on the
rendered frames (never on the renderer's own landmarks or motion)."""

from __future__ import annotations

import shutil
import subprocess

import av
import numpy as np
import pytest
from PIL import Image

import tbd
from tbd import assets, audio, cli, face
from tbd.face import measure

SIZE = 256
GENERATORS = [None, "rig"]  # None: the default (diffusion, bundled weights)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory) -> str:
    """An 8 s clip in a voice the bundled demo does not use, with pauses."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed for the end-to-end tests: apt-get install espeak-ng")
    path = tmp_path_factory.mktemp("speech") / "long.wav"
    text = "Well, I did not expect that. Honestly? It is fine. We will try again tomorrow, and it will work."
    subprocess.run(["espeak-ng", "-v", "en-gb+m3", "-s", "150", "-w", str(path), text], check=True)
    return str(path)


def _measure_frames(frames: np.ndarray, step: int = 1) -> dict[str, np.ndarray]:
    mouth, eyes, corners = [], [], []
    for frame in frames[::step]:
        found = face.detect(frame, source="rendered frame")
        mouth.append(measure.mouth_opening(found))
        eyes.append(np.mean(measure.eye_openness(found)))
        corners.append(np.mean(measure.lip_corner_height(found)))
    return {"mouth": np.array(mouth), "eyes": np.array(eyes), "corners": np.array(corners)}


@pytest.mark.slow
@pytest.mark.parametrize("generator", GENERATORS)
def test_mouth_follows_speech_and_blinks_happen(generator, portrait_path, long_speech):
    anim = tbd.Talker(generator, progress=False).animate(portrait_path, long_speech, "calm", size=SIZE)
    seen = _measure_frames(anim.frames)
    energy = audio.features(audio.load(long_speech), fps=anim.fps).energy
    assert len(energy) == len(seen["mouth"])
    assert np.corrcoef(seen["mouth"], energy)[0, 1] >= 0.5
    # Lips meet in the pauses: the smallest gaps are much smaller than the largest.
    assert np.percentile(seen["mouth"], 10) < 0.3 * np.percentile(seen["mouth"], 95)
    # Blinks: the detector sees the eyes close to under half their usual openness.
    openness = seen["eyes"]
    blinks = np.flatnonzero(np.diff((openness < 0.5 * np.median(openness)).astype(int)) == 1)
    assert len(blinks) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("generator", GENERATORS)
def test_happy_vs_sad_moves_lip_corners_and_keeps_identity(generator, portrait_path, speech_path):
    talker = tbd.Talker(generator, progress=False)
    happy = talker.animate(portrait_path, speech_path, "happy", size=SIZE)
    sad = talker.animate(portrait_path, speech_path, "sad", size=SIZE)
    tail = slice(len(happy.frames) // 2, None)  # after the onset
    up = _measure_frames(happy.frames[tail], step=3)["corners"]
    down = _measure_frames(sad.frames[tail], step=3)["corners"]
    assert np.median(up) > np.median(down) + 0.03

    # The bundled portrait smiles: asked to look sad, it must stop smiling.
    source = face.detect(np.asarray(Image.open(portrait_path).convert("RGB")), source="portrait")
    assert np.median(down) < np.mean(measure.lip_corner_height(source)) - 0.02

    original = np.asarray(Image.open(portrait_path).convert("RGB").resize(happy.frames.shape[2:0:-1]))
    for frame in (happy.frames[-1], sad.frames[-1]):
        assert measure.identity_distance(original, frame) < 0.6


@pytest.mark.slow
def test_demo_cli_writes_a_25fps_mp4_with_audio(tmp_path):
    out = tmp_path / "demo.mp4"
    assert cli.main(["demo", "-o", str(out), "--size", str(SIZE), "--quiet"]) == 0
    with av.open(str(out)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert float(video.average_rate) == 25.0 and sound.codec_context.name == "aac"
        n_frames = sum(1 for _ in container.decode(video=0))
    duration = audio.load(assets.speech_path()).duration
    assert abs(n_frames / 25.0 - duration) <= 1 / 25.0


def test_silence_gives_a_still_face_that_blinks(portrait_path):
    silence = (np.zeros(16000 * 5, np.float32), 16000)
    motion = tbd.Talker("rig", progress=False).motion(silence, "neutral")
    assert motion.channel("AU26").max() == 0 and motion.channel("AU25").max() == 0
    assert motion.channel("AU45").max() > 0.9


def test_empty_emotion_is_neutral_with_a_warning(speech_path):
    with pytest.warns(UserWarning, match="empty emotion"):
        motion = tbd.Talker("rig", progress=False).motion(speech_path, "   ")
    assert motion.channel("AU12L").max() == 0 and motion.channel("AU4").max() == 0


def test_no_face_fails_naming_the_file_and_writes_nothing(tmp_path, speech_path):
    blank = tmp_path / "wall.png"
    gradient = np.linspace(0, 255, 256 * 256 * 3).reshape(256, 256, 3).astype(np.uint8)
    Image.fromarray(gradient).save(blank)
    out = tmp_path / "out.mp4"
    with pytest.raises(tbd.NoFaceError, match="wall.png"):
        tbd.Talker("rig", progress=False).animate(str(blank), speech_path, "happy")
    assert cli.main(["animate", str(blank), speech_path, "-e", "happy", "-o", str(out), "--quiet"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wall.png"]


def test_missing_output_folder_fails_before_any_work(tmp_path, portrait_path, speech_path, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("animation started although the output folder is missing")

    monkeypatch.setattr(tbd.Talker, "animate", must_not_run)
    code = cli.main(["animate", portrait_path, speech_path, "-o", str(tmp_path / "nope" / "x.mp4"), "--quiet"])
    assert code == 2


def test_unreadable_audio_is_an_audio_error(tmp_path, portrait_path):
    bad = tmp_path / "speech.wav"
    bad.write_bytes(b"RIFF nonsense that is not a wave file")
    with pytest.raises(tbd.AudioError, match="speech.wav"):
        tbd.Talker("rig", progress=False).animate(portrait_path, str(bad), "happy")

