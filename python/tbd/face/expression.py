"""The portrait's own expression as AU intensities: from MediaPipe's blendshapes, or from landmarks.

`estimate_aus` solves the rig's displacement basis in reverse: it aligns the neutral canonical
face to the landmarks and finds the non-negative AU mix whose displacements best explain the
difference (ridge-regularised non-negative least squares, bounded to 0..1). It needs no learned model, so it serves the dlib backend,
the training-data capture path and the evaluation of rendered frames.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from ..motion.channels import AU_CHANNELS
from .canonical import canonical_mesh
from .rig import AU_INDEX, LIP_OPENING, FaceFrame, au_basis
from .topology import DLIB_TO_MESH, MEDIAPIPE_REGIONS as R, MESH_STABLE

# MediaPipe names blendshape sides as ARKit does, by the subject's side (checked: raising the
# image-right lip corner, the subject's left, raises mouthSmileLeft most).
_SIDES = {"L": "Left", "R": "Right"}


def _mean(shapes: dict[str, float], stem: str) -> float:
    return (shapes.get(stem + "Left", 0.0) + shapes.get(stem + "Right", 0.0)) / 2


def aus_from_blendshapes(shapes: dict[str, float]) -> dict[str, float]:
    """AU intensities (0..1) from ARKit-52 blendshape scores (the inverse of `tbd.motion.to_arkit`, roughly).

    Lip parting (AU25/AU26/AU27) is left to the geometry (`opening_aus`): MediaPipe's jawOpen
    barely moves for a smile that shows the teeth.
    """
    g = shapes.get
    au = {name: 0.0 for name in AU_CHANNELS}
    au["AU1"] = g("browInnerUp", 0.0)
    au["AU2"] = _mean(shapes, "browOuterUp")
    au["AU4"] = _mean(shapes, "browDown")
    au["AU5"] = _mean(shapes, "eyeWide")
    au["AU6"] = _mean(shapes, "cheekSquint")
    au["AU7"] = max(0.0, _mean(shapes, "eyeSquint") - 0.4 * au["AU6"])
    au["AU9"] = _mean(shapes, "noseSneer")
    au["AU10"] = _mean(shapes, "mouthUpperUp")
    for side, word in _SIDES.items():
        au[f"AU12{side}"] = g(f"mouthSmile{word}", 0.0)
        au[f"AU14{side}"] = g(f"mouthDimple{word}", 0.0)
    au["AU15"] = _mean(shapes, "mouthFrown")
    au["AU16"] = _mean(shapes, "mouthLowerDown")
    au["AU17"] = g("mouthShrugLower", 0.0)
    au["AU18"] = g("mouthPucker", 0.0)
    au["AU20"] = _mean(shapes, "mouthStretch")
    au["AU22"] = g("mouthFunnel", 0.0)
    au["AU23"] = 0.5 * _mean(shapes, "mouthPress")
    au["AU24"] = _mean(shapes, "mouthPress")
    au["AU45"] = _mean(shapes, "eyeBlink")
    return {k: float(np.clip(v, 0.0, 1.0)) for k, v in au.items()}


def inner_lip_gap(mesh: np.ndarray, yaw: float = 0.0) -> float:
    """Inner-lip gap at the mouth centre in IOD units, from mesh points [>=468, 2] px of a face turned by ``yaw``."""
    frame = FaceFrame.from_mesh(mesh, yaw)
    up, lo = R.lips_inner_upper, R.lips_inner_lower
    mid = len(up) // 2
    columns = slice(mid - 1, mid + 2)
    gaps = frame.to_face(mesh[list(lo[columns])])[:, 1] - frame.to_face(mesh[list(up[columns])])[:, 1]
    return float(max(gaps.mean(), 0.0))


def opening_aus(gap: float, jaw_open: float = 0.0) -> dict[str, float]:
    """AU25/AU26/AU27 that together part the lips by ``gap`` (IOD units), with the jaw's share at most ``jaw_open``."""
    au = {"AU25": 0.0, "AU26": 0.0, "AU27": 0.0}
    if gap < 0.012:  # lips together: nothing to undo
        return au
    au["AU26"] = float(min(jaw_open, gap / LIP_OPENING["AU26"], 1.0))
    rest = gap - au["AU26"] * LIP_OPENING["AU26"]
    au["AU25"] = float(min(rest / LIP_OPENING["AU25"], 1.0))
    rest -= au["AU25"] * LIP_OPENING["AU25"]
    extra = min(rest / LIP_OPENING["AU26"], 1.0 - au["AU26"])
    au["AU26"] += float(max(extra, 0.0))
    rest -= max(extra, 0.0) * LIP_OPENING["AU26"]
    au["AU27"] = float(np.clip(rest / LIP_OPENING["AU27"], 0.0, 1.0))
    return au


@lru_cache(maxsize=1)
def _neutral_uv() -> np.ndarray:
    """The canonical face in face coordinates (2D, frontal), lips closed along their midline."""
    v = canonical_mesh().vertices
    points = np.stack([v[:, 0], -v[:, 1]], axis=1).astype(np.float64)
    up, lo = list(R.lips_inner_upper), list(R.lips_inner_lower)
    middle = (points[up] + points[lo]) / 2
    points[up], points[lo] = middle, middle
    uv = FaceFrame.from_mesh(points).to_face(points)
    uv.setflags(write=False)
    return uv


# Points whose motion tells the AUs apart, and how much each counts.
_WEIGHTED = {
    **{i: 1.0 for i in R.brow_right + R.brow_left},
    **{i: 1.5 for i in R.eye_right_upper + R.eye_right_lower + R.eye_left_upper + R.eye_left_lower},
    **{i: 1.5 for i in R.lips_outer_upper + R.lips_outer_lower},
    **{i: 2.0 for i in R.lips_inner_upper + R.lips_inner_lower},
    **{i: 0.7 for i in (129, 358, 152, 148, 377, 199, 175, 50, 280, 101, 330, 118, 347)},
}


RIDGE = 0.1
"""Ridge weight relative to how much each AU moves the fitted points (keeps correlated AUs apart)."""

def estimate_aus_from_mesh(mesh: np.ndarray, observed: np.ndarray | None = None, yaw: float = 0.0) -> dict[str, float]:
    """AU intensities explaining mesh points [>=468, 2] px as the neutral face plus rig displacements.

    The lip parting (AU25/26/27) is read from the inner-lip gap directly. The other AUs come
    from a ridge-regularised least-squares fit, bounded to 0..1, of the basis to the remaining
    difference, in which the mouth may also shift, scale and turn freely as a whole: mouths
    differ in size and place from face to face, while expressions change their shape.
    ``observed`` restricts the fit to the mesh indices a backend really measured (dlib: 68); ``yaw``
    is the face's turn (`FaceFrame.from_mesh`).
    """
    mesh = np.asarray(mesh, np.float64)[:468]
    neutral = _neutral_uv()
    uv = FaceFrame.from_mesh(mesh, yaw).to_face(mesh)
    # Similarity-align the neutral face on points no AU moves much, then compare.
    stable = list(MESH_STABLE)
    a, b = neutral[stable], uv[stable]
    ac, bc = a.mean(0), b.mean(0)
    u_, s_, vt = np.linalg.svd((a - ac).T @ (b - bc))
    rot = u_ @ vt
    if np.linalg.det(rot) < 0:
        u_[:, -1] *= -1
        rot = u_ @ vt
    scale = s_.sum() / ((a - ac) ** 2).sum()
    aligned = (neutral - ac) @ rot * scale + bc
    indices = np.array(sorted(_WEIGHTED))
    if observed is not None:
        indices = np.intersect1d(indices, np.asarray(observed))
    weights = np.sqrt(np.array([_WEIGHTED[i] for i in indices]))[:, None]
    basis = au_basis(aligned, n_mesh=468)[:, indices]  # [n_au, K, 2]
    values = np.zeros(len(AU_CHANNELS))
    for name, value in opening_aus(inner_lip_gap(mesh, yaw)).items():
        values[AU_INDEX[name]] = value
    fixed = np.isin(np.arange(len(AU_CHANNELS)), [AU_INDEX[n] for n in LIP_OPENING])
    residual = uv[indices] - aligned[indices] - np.einsum("a,akc->kc", values, basis)
    free = np.flatnonzero(~fixed)
    design = (basis[free] * weights).reshape(len(free), -1).T
    ridge = np.diag(RIDGE * np.linalg.norm(design, axis=0))
    fit = lsq_linear(np.vstack([design, ridge]), np.concatenate([(residual * weights).ravel(), np.zeros(len(free))]),
                     bounds=(0.0, 1.0), method="bvls")
    values[free] = fit.x
    return {name: float(np.clip(values[AU_INDEX[name]], 0.0, 1.0)) for name in AU_CHANNELS}


def estimate_aus(face) -> dict[str, float]:
    """AU intensities (0..1) of a `FaceModel` from its landmarks alone (NNLS through the rig's basis)."""
    observed = None if face.backend == "mediapipe" else DLIB_TO_MESH
    return estimate_aus_from_mesh(face.mesh, observed, face.pose.get("yaw", 0.0))


READABLE_AUS = ("AU12L", "AU12R", "AU15", "AU45")
"""AUs that a still portrait shows whatever the face's build: lip corners above or below the
lips' centre, lids closing. (Brow height, eye size and mouth width vary as much between people
as expressions move them.)"""


def readable_expression(mesh: np.ndarray, yaw: float = 0.0) -> dict[str, float]:
    """The portrait's own expression from landmarks alone, limited to what a still image shows reliably.

    Solves the basis in reverse (bounded non-negative least squares) on shape measures that
    do not depend on the face's build: each lip corner's height relative to the lips' centre and
    each eye's lid gaps, compared with the neutral face. Lip parting comes from the lip gap.
    Used as the source expression when no blendshape model is available (the dlib backend). ``yaw`` is
    the face's turn (`FaceFrame.from_mesh`).
    """
    mesh = np.asarray(mesh, np.float64)[:468]
    uv = FaceFrame.from_mesh(mesh, yaw).to_face(mesh)
    neutral = np.array(_neutral_uv())
    basis = au_basis(neutral, n_mesh=468)
    corners = [R.lips_outer_upper[0], R.lips_outer_upper[-1], R.lips_inner_upper[0], R.lips_inner_upper[-1]]
    centre = [R.lips_inner_upper[len(R.lips_inner_upper) // 2], R.lips_inner_lower[len(R.lips_inner_lower) // 2],
              R.lips_outer_upper[len(R.lips_outer_upper) // 2], R.lips_outer_lower[len(R.lips_outer_lower) // 2]]

    def measures(points: np.ndarray) -> np.ndarray:  # [..., 468, 2] -> [..., M]
        heights = points[..., corners, 1] - points[..., centre, 1].mean(axis=-1, keepdims=True)
        gaps = [points[..., list(lo[1:-1]), 1] - points[..., list(up[1:-1]), 1]
                for up, lo in (R.eye("right"), R.eye("left"))]
        return np.concatenate([heights, *gaps], axis=-1)

    opening = opening_aus(inner_lip_gap(mesh, yaw))
    fixed = np.zeros(len(AU_CHANNELS))
    for name, value in opening.items():
        fixed[AU_INDEX[name]] = value
    base = measures(neutral + np.einsum("a,apc->pc", fixed, basis))
    free = [AU_INDEX[name] for name in READABLE_AUS]
    design = (measures(neutral[None] + basis[free]) - base).T  # [M, n_free]
    fit = lsq_linear(design, measures(uv) - base, bounds=(0.0, 1.0), method="bvls")
    aus = {name: 0.0 for name in AU_CHANNELS}
    aus.update(opening)
    aus.update({name: float(value) for name, value in zip(READABLE_AUS, fit.x)})
    return aus
