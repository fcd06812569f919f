"""The warp mesh of one face: the face-mesh triangles, the eye and mouth openings, rings to the background.

Vertices, in order: the 468 face-mesh points; two interior rows per eye (so that a blink can
fold the eye shut and the iris can move); three rings around the face outline, the outermost
of which never moves, so the warp blends into the untouched background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.canonical import canonical_mesh
from ..face.model import FaceModel
from ..face.rig import FaceFrame
from ..face.topology import MEDIAPIPE_REGIONS as R

N_FACE = 468
EYE_ROWS = (1 / 3, 2 / 3)  # interior rows between the upper (0) and lower (1) lid
RING_SCALES = (1.22, 1.55, 2.1)  # ring radii as multiples of the outline's distance from the face centre
JAW_FOLLOW = (0.6, 0.25, 0.0)  # how much each ring moves with the jaw (the skin under the chin stretches)


@dataclass(frozen=True)
class EyeRows:
    """Vertex indices of one eye, rows from the upper lid to the lower lid, [n_rows, n_columns]."""

    rows: np.ndarray
    iris_u: float  # iris centre across the eye, 0 (image-left corner) .. 1
    iris_radius: float  # as a fraction of the eye's width
    skin: np.ndarray  # mesh points just above the upper lid (they follow it down in a blink)
    skin_column: np.ndarray  # the upper-lid column nearest each of them


@dataclass(frozen=True)
class WarpMesh:
    """Source vertices [V, 2] px, triangles [N, 3], vertex groups, per-vertex depth (px) and head weight (0..1)."""

    vertices: np.ndarray
    triangles: np.ndarray
    depth: np.ndarray
    head_weight: np.ndarray
    eyes: tuple[EyeRows, EyeRows]
    lips_upper: np.ndarray
    lips_lower: np.ndarray
    rings: np.ndarray  # [3, n_outline]
    frame: FaceFrame


def _strip(top: np.ndarray, bottom: np.ndarray) -> list[tuple[int, int, int]]:
    """Triangles between two vertex rows of equal length (shared end vertices make end triangles)."""
    tris = []
    for k in range(len(top) - 1):
        a, b, c, d = top[k], top[k + 1], bottom[k + 1], bottom[k]
        if a != d:
            tris.append((a, b, d))
        if b != c:
            tris.append((b, c, d))
    return tris


def signed_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (negative = clockwise on screen, the mesh's winding)."""
    a, b, c = (vertices[..., triangles[:, k], :].astype(np.float64) for k in range(3))
    return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])


def build_mesh(face: FaceModel) -> WarpMesh:
    """The warp mesh for ``face`` (precomputed once per face)."""
    points = face.mesh[:N_FACE].astype(np.float64)
    frame = FaceFrame.from_mesh(face.mesh, face.pose.get("yaw", 0.0))
    vertices = [points]
    depth = [face.depth[:N_FACE].astype(np.float64)]
    triangles = [canonical_mesh().triangles.astype(np.int64)]
    count = N_FACE

    eyes = []
    for side, iris in (("right", R.iris_right), ("left", R.iris_left)):
        upper, lower = (np.array(x) for x in R.eye(side))
        extra = []
        rows = [upper]
        for t in EYE_ROWS:
            row = (1 - t) * points[upper[1:-1]] + t * points[lower[1:-1]]
            idx = np.arange(count, count + len(row))
            count += len(row)
            extra.append(row)
            depth.append((1 - t) * face.depth[upper[1:-1]] + t * face.depth[lower[1:-1]])
            rows.append(np.concatenate([[upper[0]], idx, [upper[-1]]]))
        rows.append(lower)
        vertices.extend(extra)
        for top, bottom in zip(rows[:-1], rows[1:]):
            triangles.append(np.array(_strip(top, bottom), dtype=np.int64))
        corner_a, corner_b = face.mesh[upper[0]], face.mesh[upper[-1]]
        width = float(np.hypot(*(corner_b - corner_a)))
        iris_centre = face.mesh[iris[0]]
        along = float(np.dot(iris_centre - corner_a, corner_b - corner_a) / max(width * width, 1e-9))
        radius = float(np.hypot(*(face.mesh[iris[1]] - iris_centre)) / max(width, 1e-9))
        lid = upper[1:-1]
        tri = canonical_mesh().triangles
        touching = np.unique(tri[np.isin(tri, lid).any(axis=1)])
        skin = np.setdiff1d(touching, np.concatenate([upper, lower]))
        lid_uv, skin_uv = frame.to_face(points[upper]), frame.to_face(points[skin])
        skin = skin[skin_uv[:, 1] < np.interp(skin_uv[:, 0], np.sort(lid_uv[:, 0]), lid_uv[np.argsort(lid_uv[:, 0]), 1])]
        column = np.abs(frame.to_face(points[skin])[:, None, 0] - lid_uv[None, :, 0]).argmin(axis=1)
        eyes.append(EyeRows(np.stack(rows), float(np.clip(along, 0.15, 0.85)), float(np.clip(radius, 0.12, 0.3)),
                            skin, column))

    lips_upper, lips_lower = np.array(R.lips_inner_upper), np.array(R.lips_inner_lower)
    triangles.append(np.array(_strip(lips_upper, lips_lower), dtype=np.int64))

    # Rings: the outline pushed out from the face centre; the face centre sits between eyes and mouth.
    outline = np.array(R.oval)
    centre = frame.to_image(np.array([0.0, 0.55]))
    rings = []
    ring_rows = [outline]
    for scale in RING_SCALES:
        ring = centre + scale * (points[outline] - centre)
        idx = np.arange(count, count + len(ring))
        count += len(ring)
        vertices.append(ring)
        depth.append(np.zeros(len(ring)))
        rings.append(idx)
        ring_rows.append(idx)
    for inner, outer in zip(ring_rows[:-1], ring_rows[1:]):
        loop_in, loop_out = np.append(inner, inner[0]), np.append(outer, outer[0])
        triangles.append(np.array(_strip(loop_in, loop_out), dtype=np.int64))

    vertices_all = np.concatenate(vertices).astype(np.float32)
    triangles_all = np.concatenate(triangles)
    # Wind the added triangles like the face mesh (clockwise on screen) so that folds are easy to spot.
    added = triangles_all[len(triangles[0]):]
    flip = signed_areas(vertices_all, added) > 0
    added[flip] = added[flip][:, ::-1]
    # Where a turned head overlaps itself (the nose over a cheek) the warp shows the triangle
    # listed last: list them from back to front.
    depth_all = np.concatenate(depth)
    triangles_all = triangles_all[np.argsort(depth_all[triangles_all].mean(axis=1), kind="stable")]
    # How much each vertex turns with the head: the face fully, hair and outline less,
    # the outer ring not at all; below the chin (neck, shoulders) less again.
    head_weight = np.ones(count, dtype=np.float32)
    uv = frame.to_face(vertices_all)
    below_chin = np.clip((uv[:, 1] - 1.2) / 0.8, 0.0, 1.0)
    for k, weight in enumerate((0.85, 0.45, 0.0)):
        head_weight[rings[k]] = weight * (1 - 0.9 * below_chin[rings[k]])
    return WarpMesh(
        vertices=vertices_all,
        triangles=triangles_all.astype(np.int32),
        depth=np.concatenate(depth).astype(np.float32),
        head_weight=head_weight,
        eyes=(eyes[0], eyes[1]),
        lips_upper=lips_upper,
        lips_lower=lips_lower,
        rings=np.stack(rings),
        frame=frame,
    )


def interpolate(vertices: np.ndarray, triangles: np.ndarray, values: np.ndarray, points: np.ndarray,
                chunk: int = 2048) -> np.ndarray:
    """``values`` [V, C] given at the mesh's ``vertices`` [V, 2], at ``points`` [P, 2]: linear over the triangle that
    holds each point (as the warp moves it); a point outside every triangle takes its nearest vertex's value.
    Points go ``chunk`` at a time, each against the triangles that can hold them (memory stays bounded)."""
    points = np.asarray(points, np.float64)
    if len(points) > chunk:
        return np.concatenate([interpolate(vertices, triangles, values, points[i:i + chunk], chunk)
                               for i in range(0, len(points), chunk)])
    corners = vertices[triangles]  # [N, 3, 2]
    near = np.all((corners.min(axis=1) <= points.max(axis=0)) & (corners.max(axis=1) >= points.min(axis=0)), axis=1)
    triangles = triangles[near] if near.any() else triangles[:1]  # only those that can hold a point
    a, b, c = (vertices[triangles[:, i]].astype(np.float64) for i in range(3))
    e1, e2 = b - a, c - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    d = points[:, None, :] - a[None]  # [P, N, 2]
    w1 = (d[..., 0] * e2[:, 1] - d[..., 1] * e2[:, 0]) / det
    w2 = (e1[:, 0] * d[..., 1] - e1[:, 1] * d[..., 0]) / det
    w0 = 1.0 - w1 - w2
    holds = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
    rows = np.arange(len(d))
    t = np.argmax(holds, axis=1)
    out = (w0[rows, t, None] * values[triangles[t, 0]] + w1[rows, t, None] * values[triangles[t, 1]]
           + w2[rows, t, None] * values[triangles[t, 2]])
    outside = ~holds.any(axis=1)
    if outside.any():
        nearest = np.argmin(np.hypot(*(points[outside, None, :] - vertices[None]).transpose(2, 0, 1)), axis=1)
        out[outside] = values[nearest]
    return out
