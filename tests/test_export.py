from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

import tbd
from tbd import audio, export
from tbd.animation import Animation
from tbd.generator import RigGenerator

from .conftest import syllables


@pytest.fixture(scope="module")
def animation():
    sound = audio.load((syllables(2.0, 16000), 16000))
    motion = RigGenerator().sample(tbd.EmotionPlan.neutral(), audio.features(sound))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (motion.n_frames, 63, 81, 3), dtype=np.uint8)  # odd sizes on purpose
    return Animation(frames=frames, motion=motion, plan=tbd.EmotionPlan.neutral(), audio=sound, meta={"seed": 0})


def test_mp4_has_video_and_audio_of_the_right_length(tmp_path, animation):
    out = tmp_path / "a.mp4"
    animation.save(out)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        sound = container.streams.audio[0]
        assert video.codec_context.name == "h264" and sound.codec_context.name == "aac"
        assert float(video.average_rate) == pytest.approx(25.0)
        n_decoded = sum(1 for _ in container.decode(video=0))
    assert n_decoded == animation.motion.n_frames
    assert abs(n_decoded / 25.0 - animation.audio.duration) <= 1 / 25.0
    assert not list(tmp_path.glob(".*partial*"))


def test_gif_png_dir_and_curves(tmp_path, animation):
    animation.save(tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == animation.motion.n_frames
    animation.save(tmp_path / "frames")
    pngs = sorted((tmp_path / "frames").glob("*.png"))
    assert len(pngs) == animation.motion.n_frames
    np.testing.assert_array_equal(np.asarray(Image.open(pngs[3])), animation.frames[3])

    animation.save(tmp_path / "a.json")
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["channels"] == list(tbd.motion.CHANNELS)
    np.testing.assert_allclose(doc["values"], animation.aus, atol=1e-5)
    assert len(doc["blendshapes"]) == 52
    assert tbd.EmotionPlan.from_dict(doc["plan"]) == animation.plan

    animation.save(tmp_path / "a.csv")
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert len(rows) == animation.motion.n_frames + 1
    assert rows[0].split(",")[:2] == ["time", "AU1"] and "eyeBlinkLeft" in rows[0]


def test_output_errors_before_work(tmp_path, animation):
    with pytest.raises(tbd.OutputError, match="does not exist"):
        export.check_output_path(tmp_path / "missing" / "a.mp4")
    with pytest.raises(tbd.OutputError, match="unknown output type"):
        export.check_output_path(tmp_path / "a.xyz")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("user data")
    with pytest.raises(tbd.OutputError, match="not an empty folder"):
        animation.save(tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "user data"
    src = tmp_path / "in.json"
    src.write_text("{}")
    with pytest.raises(tbd.OutputError, match="one of the inputs"):
        export.check_output_path(src, inputs=(str(src),))


def test_interrupted_write_leaves_no_file(tmp_path, animation, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(RuntimeError):
        animation.save(tmp_path / "a.gif")
    with pytest.raises(RuntimeError):
        animation.save(tmp_path / "frames")
    assert list(tmp_path.iterdir()) == []
