"""RENDER: shapes, faithfulness, and what a face detector sees on rendered frames.

Every expression check runs MediaPipe on the rendered frame and measures the detected face,
never the renderer's own vertices. Two portraits: the bundled one, and a mirrored, rescaled,
re-cropped copy (a different face geometry in the image) so that nothing depends on one layout.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tbd
from tbd import face
from tbd.face import measure
from tbd.motion import channels as ch
from tbd.render import Renderer
from tbd.render.mesh import build_mesh, signed_areas


def motion_vector(**values: float) -> np.ndarray:
    """A motion frame from channel values; "AU12" sets both sides."""
    v = np.zeros(ch.N_CHANNELS, dtype=np.float32)
    for name, value in values.items():
        for channel in (ch.expand_au(name) if name.startswith("AU") else (name,)):
            v[ch.index(channel)] = value
    return v


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _variant(image: np.ndarray) -> np.ndarray:
    """Mirrored, shrunk to 80 % and placed off-centre on a wider canvas."""
    small = Image.fromarray(image[:, ::-1]).resize((int(image.shape[1] * 0.8), int(image.shape[0] * 0.8)), Image.LANCZOS)
    canvas = np.full((300, 380, 3), 128, np.uint8)
    canvas[20:20 + small.height, 90:90 + small.width] = np.asarray(small)[: 300 - 20, : 380 - 90]
    return canvas


@pytest.fixture(scope="module")
def portrait(portrait_path) -> np.ndarray:
    return np.asarray(Image.open(portrait_path).convert("RGB"))


@pytest.fixture(scope="module", params=["bundled", "variant"])
def scene(request, portrait):
    image = portrait if request.param == "bundled" else _variant(portrait)
    found = face.detect(image, backend="mediapipe", source=request.param)
    return image, found, Renderer(image, found)


def _seen(frame: np.ndarray) -> face.FaceModel:
    return face.detect(frame, backend="mediapipe", source="rendered frame")


def test_render_shapes_dtypes_and_determinism(scene):
    image, _, renderer = scene
    values = np.zeros((7, ch.N_CHANNELS), np.float32)
    values[:, ch.index("AU26")] = np.linspace(0, 1, 7)
    values[:, ch.index("AU45")] = np.linspace(1, 0, 7)
    frames = renderer.render(tbd.Motion(values), progress=False)
    assert frames.shape == (7, *image.shape) and frames.dtype == np.uint8
    assert np.array_equal(frames, renderer.render(tbd.Motion(values), progress=False))
    single = renderer.render_frame(values[3])
    assert single.shape == image.shape and single.dtype == np.uint8
    assert np.array_equal(single, frames[3])  # chunking does not change frames
    small_chunks = Renderer(image, scene[1], chunk=2).render(tbd.Motion(values), progress=False)
    assert np.array_equal(small_chunks, frames)


def test_portraits_own_expression_reproduces_the_portrait(scene):
    image, _, renderer = scene
    frame = renderer.render_frame(renderer.source_values)
    assert psnr(frame, image) > 38.0
    # Outside the face nothing moves whatever the face does.
    moved = renderer.render_frame(motion_vector(AU26=1.0, AU12=1.0, AU45=1.0, AU1=1.0))
    assert np.array_equal(moved[:10], image[:10]) and np.array_equal(moved[:, -10:], image[:, -10:])


def test_open_mouth_is_seen_open(scene):
    _, _, renderer = scene
    closed = measure.mouth_opening(_seen(renderer.render_frame(motion_vector())))
    half = measure.mouth_opening(_seen(renderer.render_frame(motion_vector(AU25=1.0, AU26=0.4))))
    wide = measure.mouth_opening(_seen(renderer.render_frame(motion_vector(AU25=1.0, AU26=1.0))))
    assert closed < 0.03
    assert half > closed + 0.05
    assert wide > half + 0.05


def test_blink_closes_both_eyes(scene):
    _, _, renderer = scene
    open_eyes = measure.eye_openness(_seen(renderer.render_frame(motion_vector())))
    shut = measure.eye_openness(_seen(renderer.render_frame(motion_vector(AU45=1.0))))
    half = measure.eye_openness(_seen(renderer.render_frame(motion_vector(AU45=0.5))))
    for k in range(2):
        assert shut[k] < 0.4 * open_eyes[k]
        assert shut[k] < half[k] < open_eyes[k]


def test_smile_and_frown_move_the_lip_corners_apart(scene):
    _, found, renderer = scene
    smile = np.mean(measure.lip_corner_height(_seen(renderer.render_frame(motion_vector(AU12=1.0, AU6=0.6)))))
    frown = np.mean(measure.lip_corner_height(_seen(renderer.render_frame(motion_vector(AU15=1.0, AU1=0.6, AU4=0.4)))))
    neutral = _seen(renderer.render_frame(motion_vector()))
    assert smile > frown + 0.1
    # The portrait smiles; asked for a neutral face it stops smiling.
    assert np.mean(measure.lip_corner_height(neutral)) < np.mean(measure.lip_corner_height(found)) - 0.06
    assert neutral.blendshapes["mouthSmileLeft"] < 0.5 and neutral.blendshapes["mouthSmileRight"] < 0.5


def test_one_sided_smile_raises_the_subjects_own_side(portrait):
    found = face.detect(portrait, backend="mediapipe")
    renderer = Renderer(portrait, found)
    left = _seen(renderer.render_frame(motion_vector(AU12L=1.0)))
    right = _seen(renderer.render_frame(motion_vector(AU12R=1.0)))
    # The subject's left corner is on the image's right.
    assert measure.lip_corner_height(left)[1] > measure.lip_corner_height(right)[1] + 0.03
    assert measure.lip_corner_height(right)[0] > measure.lip_corner_height(left)[0] + 0.03


def test_head_pose_and_gaze_follow_the_motion(portrait):
    found = face.detect(portrait, backend="mediapipe")
    renderer = Renderer(portrait, found)
    base = _seen(renderer.render_frame(motion_vector())).pose
    for channel in ("yaw", "pitch", "roll"):
        turned = _seen(renderer.render_frame(motion_vector(**{channel: 0.2}))).pose
        assert turned[channel] - base[channel] > 0.08, channel
    right = _seen(renderer.render_frame(motion_vector(gaze_x=1.0)))
    left = _seen(renderer.render_frame(motion_vector(gaze_x=-1.0)))
    for eye, iris in (("right", 468), ("left", 473)):
        upper, _ = right.regions.eye(eye)
        place = [(f.landmarks[iris, 0] - f.landmarks[upper[0], 0]) / (f.landmarks[upper[-1], 0] - f.landmarks[upper[0], 0])
                 for f in (right, left)]
        assert place[0] > place[1] + 0.08


def test_rendered_face_keeps_its_identity(scene):
    image, _, renderer = scene
    for values in (motion_vector(), motion_vector(AU25=1.0, AU26=0.8, AU1=0.6), motion_vector(AU15=1.0, AU4=0.8, AU45=1.0)):
        assert measure.identity_distance(image, renderer.render_frame(values)) < 0.6


def test_dlib_backend_renders_too(portrait):
    found = face.detect(portrait, backend="dlib")
    renderer = Renderer(portrait, found)
    assert psnr(renderer.render_frame(renderer.source_values), portrait) > 38.0
    neutral = _seen(renderer.render_frame(motion_vector()))
    assert measure.mouth_opening(neutral) < 0.03
    assert np.mean(measure.lip_corner_height(neutral)) < np.mean(measure.lip_corner_height(found)) - 0.06
    wide = _seen(renderer.render_frame(motion_vector(AU25=1.0, AU26=1.0)))
    assert measure.mouth_opening(wide) > 0.15
    shut = measure.eye_openness(_seen(renderer.render_frame(motion_vector(AU45=1.0))))
    assert max(shut) < 0.4 * min(measure.eye_openness(neutral))


def test_mesh_is_unfolded_and_turns_with_the_head(portrait):
    found = face.detect(portrait, backend="mediapipe")
    mesh = build_mesh(found)
    areas = signed_areas(mesh.vertices, mesh.triangles)
    assert (areas > 0).mean() < 0.02  # a handful of slivers at the face's sides at most
    assert mesh.head_weight.max() == 1.0 and mesh.head_weight[mesh.rings[-1]].max() == 0.0
    renderer = Renderer(portrait, found)
    moved = renderer.vertices(motion_vector(yaw=0.2)[None])[0]
    shift = (moved - mesh.vertices)[:, 0]
    assert shift[mesh.rings[-1]].max() == 0.0  # the outer ring stays
    assert shift[found.mesh_regions.nose_tip] > 0.1 * found.interocular  # the nose turns toward image right


def test_bad_input_is_refused(portrait, scene):
    _, found, renderer = scene
    with pytest.raises(TypeError, match="Motion"):
        renderer.render(np.zeros((3, ch.N_CHANNELS), np.float32))
    with pytest.raises(ValueError, match="motion vector"):
        renderer.render_frame(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="detected in"):
        Renderer(portrait[:200], face.detect(portrait, backend="mediapipe"))
