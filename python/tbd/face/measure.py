"""Measurements on detected faces, for tests and evaluation of rendered frames.

All lengths are in units of the inter-ocular distance (IOD) and use the backend's own
landmarks, so that they measure what a detector sees in an image, not the renderer's data.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoFaceError
from .expression import estimate_aus
from .model import FaceModel
from .rig import FaceFrame
from .topology import FaceRegions

__all__ = ["mouth_opening", "eye_openness", "lip_corner_height", "brow_height", "brow_gap", "lip_thickness",
           "face_identity", "identity_distance", "estimate_aus", "face_uv"]


def face_uv(face: FaceModel) -> np.ndarray:
    """The face's landmarks in face coordinates [N, 2] (u right, v down, IOD units, eye centres at (∓0.5, 0))."""
    r: FaceRegions = face.regions
    marks = face.landmarks.astype(np.float64)
    right = marks[[r.eye_right_upper[0], r.eye_right_upper[-1]]].mean(axis=0)
    left = marks[[r.eye_left_upper[0], r.eye_left_upper[-1]]].mean(axis=0)
    across = left - right
    scale = float(np.hypot(*across))
    u = across / scale
    frame = FaceFrame((left + right) / 2, np.stack([u, [-u[1], u[0]]]), scale)
    return frame.to_face(marks)


def _middle(contour: tuple[int, ...], width: int = 1) -> list[int]:
    mid = len(contour) // 2
    return list(contour[mid - width + 1: mid + width]) if width > 1 else [contour[mid]]


def mouth_opening(face: FaceModel) -> float:
    """Inner-lip gap at the mouth centre (IOD units; 0 when the lips touch)."""
    uv, r = face_uv(face), face.regions
    width = 2 if len(r.lips_inner_upper) > 5 else 1
    upper = uv[_middle(r.lips_inner_upper, width), 1].mean()
    lower = uv[_middle(r.lips_inner_lower, width), 1].mean()
    return float(max(lower - upper, 0.0))


def eye_openness(face: FaceModel) -> tuple[float, float]:
    """(right, left) eye openness: mean lid gap over the eye's width (about 0.25-0.35 open, near 0 closed)."""
    uv, r = face_uv(face), face.regions
    out = []
    for side in ("right", "left"):
        upper, lower = (list(x) for x in r.eye(side))
        width = float(np.hypot(*(uv[upper[-1]] - uv[upper[0]])))
        gaps = uv[lower[1:-1], 1] - uv[upper[1:-1], 1]
        out.append(float(max(gaps.mean(), 0.0) / max(width, 1e-6)))
    return out[0], out[1]


def eye_widths(face: FaceModel) -> tuple[float, float]:
    """(right, left) width of each eye in the image, corner to corner, over the wider one's (1 for the wider; a face
    turned far from the camera shows its far eye narrow, foreshortened and half behind the nose)."""
    r = face.regions
    widths = []
    for side in ("right", "left"):
        upper = r.eye(side)[0]
        widths.append(float(np.hypot(*(face.landmarks[upper[-1]] - face.landmarks[upper[0]]))))
    wider = max(max(widths), 1e-6)
    return widths[0] / wider, widths[1] / wider


def lip_corner_height(face: FaceModel) -> tuple[float, float]:
    """(right, left) height of the lip corners above the lips' centre (IOD units; positive = raised, a smile)."""
    uv, r = face_uv(face), face.regions
    centre = (uv[_middle(r.lips_inner_upper), 1].mean() + uv[_middle(r.lips_inner_lower), 1].mean()) / 2
    right = uv[r.lips_outer_upper[0], 1]  # image-left corner is the subject's right
    left = uv[r.lips_outer_upper[-1], 1]
    return float(centre - right), float(centre - left)


def _brow_points(face: FaceModel, part: str) -> list[np.ndarray]:
    """Per brow (right, left): its points' face coordinates, all of them or the inner/outer end's."""
    if part not in ("all", "inner", "outer"):
        raise ValueError(f"part must be 'all', 'inner' or 'outer', got {part!r}")
    uv, r = face_uv(face), face.regions
    out = []
    for brow in (r.brow_right, r.brow_left):
        points = uv[list(brow)]
        if part != "all":
            order = np.argsort(np.abs(points[:, 0]))  # nearest the midline first
            ends = max(len(points) // 5, 1)  # MediaPipe's brows have two rows: both rows' end points
            points = points[order[:ends] if part == "inner" else order[-ends:]]
        out.append(points)
    return out


def brow_height(face: FaceModel, part: str = "all") -> tuple[float, float]:
    """(right, left) brow height above the line through the eye centres (IOD units), over the whole brow
    or at its ``"inner"`` or ``"outer"`` end. AU1/AU2 raise it, AU4 lowers it (most at the inner end)."""
    return tuple(float(-points[:, 1].mean()) for points in _brow_points(face, part))  # type: ignore[return-value]


def brow_gap(face: FaceModel) -> float:
    """Distance between the brows' inner ends (IOD units; AU4 draws them together)."""
    right, left = _brow_points(face, "inner")
    return float(left[:, 0].mean() - right[:, 0].mean())


def lip_thickness(face: FaceModel) -> tuple[float, float]:
    """(upper, lower) height of the red of the lips at the mouth centre (IOD units; AU23/AU24 narrow it)."""
    uv, r = face_uv(face), face.regions
    outer_top = uv[_middle(r.lips_outer_upper), 1].mean()
    outer_bottom = uv[_middle(r.lips_outer_lower), 1].mean()
    inner_top = uv[_middle(r.lips_inner_upper), 1].mean()
    inner_bottom = uv[_middle(r.lips_inner_lower), 1].mean()
    return float(max(inner_top - outer_top, 0.0)), float(max(outer_bottom - inner_bottom, 0.0))


def face_identity(image: np.ndarray, source: str = "image") -> np.ndarray:
    """dlib's 128-d identity embedding of the largest face in ``image`` (uint8 RGB [H, W, 3]).

    Two embeddings of the same person are usually closer than 0.6 (Euclidean).
    """
    from . import _dlib
    from .detect import as_rgb

    image = as_rgb(image)
    faces = _dlib.detect_faces(image)
    if not faces:
        raise NoFaceError(f"no face found in {source} for the identity embedding; use an image with a visible face")
    largest = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return _dlib.identity_embedding(image, largest)


def identity_distance(image_a: np.ndarray, image_b: np.ndarray) -> float:
    """Euclidean distance between the identity embeddings of two images' largest faces."""
    return float(np.linalg.norm(face_identity(image_a, "the first image") - face_identity(image_b, "the second image")))
