"""detect(): find the face in a portrait and describe it as a FaceModel."""

from __future__ import annotations

import os
import warnings

import numpy as np

from ..errors import BackendError, NoFaceError
from . import _dlib, _mediapipe
from .expression import aus_from_blendshapes, inner_lip_gap, opening_aus, readable_expression
from .fit import mesh_from_sparse, pose_from_matrix, relative_depth
from .model import FaceModel
from .topology import DLIB_TO_MESH, MEDIAPIPE_REGIONS

BACKENDS = ("auto", "mediapipe", "dlib")
_NO_FACE_HINT = ("use a portrait in which one face is clearly visible: frontal or slightly turned, "
                 "not much smaller than 1/8 of the image, well lit and not cut off by the border")


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Check an image array and return it as contiguous uint8 RGB [H, W, 3]."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array (uint8 [H, W, 3] RGB), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8 (0..255), got dtype {image.dtype}; convert it first")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must be [H, W, 3] RGB (or [H, W] gray, [H, W, 4] RGBA), got shape {image.shape}")
    if min(image.shape[:2]) < 16:
        raise ValueError(f"image of shape {image.shape} is too small to hold a face")
    return np.ascontiguousarray(image[:, :, :3])


def _from_mediapipe(raw: _mediapipe.RawFace, size: tuple[int, int], source: str, n_faces: int) -> FaceModel:
    points = raw.points[:, :2]
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    pose = pose_from_matrix(raw.matrix)
    aus = aus_from_blendshapes(raw.blendshapes)
    aus.update(opening_aus(inner_lip_gap(points, pose["yaw"]), raw.blendshapes.get("jawOpen", 0.0)))
    return FaceModel(
        landmarks=points, backend="mediapipe", bbox=(float(x0), float(y0), float(x1), float(y1)), image_size=size,
        mesh=points, depth=relative_depth(raw.points[:, 2]), pose=pose,
        source_aus=aus, blendshapes=dict(raw.blendshapes), source=source, n_faces=n_faces,
    )


def _iris_points(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """Iris centre and 4 ring points per eye [10, 2], in MediaPipe's order, from the darkest part of each eye."""
    gray = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    out = []
    for upper, lower in (MEDIAPIPE_REGIONS.eye("right"), MEDIAPIPE_REGIONS.eye("left")):
        contour = mesh[list(upper) + list(lower[::-1])]
        width = float(np.hypot(*(mesh[upper[-1]] - mesh[upper[0]])))
        centre = contour.mean(axis=0)
        x0, y0 = np.floor(contour.min(axis=0)).astype(int)
        x1, y1 = np.ceil(contour.max(axis=0)).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image.shape[1] - 1), min(y1, image.shape[0] - 1)
        if x1 > x0 and y1 > y0:
            patch = gray[y0:y1 + 1, x0:x1 + 1]
            darkness = np.clip(patch.max() - patch, 0, None) ** 2
            ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
            inside = _inside_polygon(np.stack([xs.ravel(), ys.ravel()], 1), contour).reshape(patch.shape)
            weight = darkness * inside
            if weight.sum() > 0:
                centre = np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()
        radius = 0.22 * width
        ring = centre + radius * np.array([[1, 0], [0, -1], [-1, 0], [0, 1]], np.float64)
        out.extend([centre, *ring])
    return np.asarray(out, np.float32)


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd test of points [P, 2] against a closed polygon [K, 2]."""
    x, y = points[:, 0:1], points[:, 1:2]
    a, b = polygon, np.roll(polygon, -1, axis=0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (crosses & (x < x_at)).sum(axis=1) % 2 == 1


def _from_dlib(raw: _dlib.RawFace, image: np.ndarray, source: str, n_faces: int) -> FaceModel:
    mesh468, depth468, pose = mesh_from_sparse(raw.points, DLIB_TO_MESH)
    iris = _iris_points(image, mesh468)
    mesh = np.concatenate([mesh468, iris])
    eye_depth = [depth468[list(MEDIAPIPE_REGIONS.eye(side)[0])].mean() for side in ("right", "left")]
    depth = np.concatenate([depth468, np.repeat(np.asarray(eye_depth, np.float32), 5)])
    aus = readable_expression(mesh, pose["yaw"])
    return FaceModel(
        landmarks=raw.points, backend="dlib", bbox=tuple(float(v) for v in raw.box), image_size=image.shape[:2],
        mesh=mesh, depth=depth, pose=pose, source_aus=aus, blendshapes=None, source=source, n_faces=n_faces,
        meta={"dlib_score": raw.score},
    )


def detect(
    image: np.ndarray,
    *,
    backend: str = "auto",
    source: str = "image",
    model_path: str | os.PathLike | None = None,
) -> FaceModel:
    """Find the face in ``image`` (uint8 [H, W, 3] RGB) and describe it.

    ``backend``: "mediapipe" (478 landmarks, blendshapes), "dlib" (68 landmarks) or "auto"
    (MediaPipe when installed, else dlib). ``source`` names the image in error messages;
    ``model_path`` overrides the face_landmarker.task file (as does $TBD_FACE_LANDMARKER).
    Raises NoFaceError when no face is found; with several faces the largest is used and a
    warning says how many there were. Raises BackendError when the backend is not installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    image = as_rgb(image)
    size = (int(image.shape[0]), int(image.shape[1]))
    faces: list[FaceModel] = []
    tried: list[str] = []
    missing: list[BackendError] = []
    if backend in ("auto", "mediapipe"):
        try:
            raws = _mediapipe.detect_faces(image, model_path)
            tried.append("mediapipe")
            faces = [_from_mediapipe(r, size, source, len(raws)) for r in raws]
        except BackendError as exc:
            if backend == "mediapipe":
                raise
            missing.append(exc)
    if not faces and backend in ("auto", "dlib"):
        try:
            raws = _dlib.detect_faces(image)
            tried.append("dlib")
            faces = [_from_dlib(r, image, source, len(raws)) for r in raws]
        except BackendError as exc:
            if backend == "dlib":
                raise
            missing.append(exc)
    if not tried:
        raise BackendError("no face backend is available: " + "; ".join(str(e) for e in missing)) from missing[-1]
    if not faces:
        raise NoFaceError(f"no face found in {source} (searched with {' and '.join(tried)}); {_NO_FACE_HINT}")
    faces.sort(key=lambda f: f.area, reverse=True)
    n_faces = len(faces)
    if n_faces == 1 and faces[0].backend == "mediapipe" and backend == "auto":
        # MediaPipe's detector misses small faces; dlib's, when installed, gives a second count.
        try:
            n_faces = max(n_faces, _dlib.count_faces(image))
        except BackendError:
            pass
    if n_faces > 1:
        faces[0].n_faces = n_faces
        warnings.warn(f"{n_faces} faces found in {source}; animating the largest one "
                      f"(crop the portrait to choose another)", stacklevel=2)
    return faces[0]
