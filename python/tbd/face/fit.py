"""Geometry shared by the backends: head pose, and the canonical mesh fitted to sparse landmarks."""

from __future__ import annotations

import numpy as np

from .canonical import canonical_mesh
from .topology import DLIB_TO_MESH, MEDIAPIPE_REGIONS

# Image camera axes are x right, y down, z into the scene; the canonical mesh has y up, z to the viewer.
_FLIP = np.diag([1.0, -1.0, -1.0])


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """3x3 rotation in image camera axes for a head pose (signs as in `FaceModel.pose`)."""
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(-yaw), np.sin(-yaw)
    cr, sr = np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


def pose_angles(rot_image: np.ndarray) -> dict[str, float]:
    """(pitch, yaw, roll) of a rotation that maps canonical-mesh axes into image camera axes."""
    rel = rot_image @ _FLIP  # relative to a frontal face
    pitch = float(np.arctan2(rel[2, 1], rel[2, 2]))
    yaw = float(np.arcsin(np.clip(rel[2, 0], -1.0, 1.0)))
    roll = float(np.arctan2(rel[1, 0], rel[0, 0]))
    return {"pitch": pitch, "yaw": yaw, "roll": roll}


def pose_from_matrix(matrix: np.ndarray) -> dict[str, float]:
    """Head pose from MediaPipe's facial transformation matrix (canonical -> camera, y up)."""
    m = np.asarray(matrix, np.float64)[:3, :3]
    m = m / np.cbrt(max(np.linalg.det(m), 1e-12))
    return pose_angles(_FLIP @ m)


def fit_weak_perspective(model: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Scaled orthographic fit ``points ≈ scale * (R @ model)[:2] + t``: returns (R [3, 3] image axes, scale, t)."""
    mc, pc = model.mean(axis=0), points.mean(axis=0)
    a, *_ = np.linalg.lstsq(model - mc, points - pc, rcond=None)  # [3, 2]
    r1, r2 = a[:, 0], a[:, 1]
    scale = (np.linalg.norm(r1) + np.linalg.norm(r2)) / 2
    r1 = r1 / np.linalg.norm(r1)
    r2 = r2 - r1 * (r1 @ r2)
    r2 = r2 / np.linalg.norm(r2)
    rot = np.stack([r1, r2, np.cross(r1, r2)])
    return rot, float(scale), pc - scale * (rot @ mc)[:2]


def relative_depth(points_depth: np.ndarray) -> np.ndarray:
    """Depths made relative to the face outline (the outline sits at 0, the nose tip well above)."""
    oval = list(MEDIAPIPE_REGIONS.oval)
    return (points_depth - points_depth[oval].mean()).astype(np.float32)


def mesh_from_sparse(points: np.ndarray, mesh_index: np.ndarray = DLIB_TO_MESH) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Fit the canonical mesh to sparse landmarks [K, 2] that sit at mesh vertices ``mesh_index``.

    A scaled orthographic pose places the 3D canonical face; a thin-plate spline through the
    landmarks then bends it onto them. Returns (mesh [468, 2] px, depth [468] px, pose).
    """
    from scipy.interpolate import RBFInterpolator

    canon = canonical_mesh().vertices.astype(np.float64)
    rot, scale, t = fit_weak_perspective(canon[mesh_index], points.astype(np.float64))
    rotated = canon @ rot.T
    projected = scale * rotated[:, :2] + t
    residual = points - projected[mesh_index]
    # The smoothing (px^2) keeps single noisy points from folding the mesh around them.
    spline = RBFInterpolator(projected[mesh_index], residual, kernel="thin_plate_spline", smoothing=scale * 0.05)
    mesh = projected + spline(projected)
    depth = -scale * rotated[:, 2]
    return mesh.astype(np.float32), relative_depth(depth), pose_angles(rot)
