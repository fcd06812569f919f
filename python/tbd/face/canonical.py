"""MediaPipe's canonical face mesh: a neutral 3D face (468 vertices) and its triangle topology.

The renderer warps every face with this one topology (dlib faces are fitted onto it), and
`estimate_aus` compares a face with the neutral shape. The arrays are stored in
``data/face_mesh.npz`` (Apache-2.0, from MediaPipe): ``vertices`` float32 [468, 3] in cm
(x right, y up, z toward the viewer) and ``triangles`` int32 [852, 3], the face-mesh
tessellation, which leaves the eyes and the inner mouth open. `extract_canonical_vertices`
rebuilds the vertices from a ``face_landmarker.task`` file; a test checks they agree.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

N_MESH = 468
"""Vertices of the canonical mesh (MediaPipe's 478 landmarks minus the 10 iris points)."""


@dataclass(frozen=True)
class CanonicalMesh:
    """The neutral face: ``vertices`` float32 [468, 3] (cm; x right, y up, z to viewer), ``triangles`` int32 [852, 3]."""

    vertices: np.ndarray
    triangles: np.ndarray


@lru_cache(maxsize=1)
def canonical_mesh() -> CanonicalMesh:
    """The stored canonical face mesh (read-only arrays)."""
    with resources.files("tbd.face").joinpath("data/face_mesh.npz").open("rb") as f:
        data = np.load(f)
        vertices = np.asarray(data["vertices"], dtype=np.float32)
        triangles = np.asarray(data["triangles"], dtype=np.int32)
    vertices.setflags(write=False)
    triangles.setflags(write=False)
    return CanonicalMesh(vertices, triangles)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> list[tuple[int, int, object]]:
    """Top-level fields of a protobuf message: (number, wire type, value)."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = struct.unpack("<f", buf[i:i + 4])[0], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def extract_canonical_vertices(task_path: str | Path) -> np.ndarray:
    """Canonical vertices float32 [468, 3] read from a ``face_landmarker.task`` bundle.

    The bundle's ``geometry_pipeline_metadata_landmarks.binarypb`` holds the canonical mesh
    (field 1) whose vertex buffer (field 3) interleaves x, y, z, u, v per vertex.
    """
    with zipfile.ZipFile(task_path) as bundle:
        meta = bundle.read("geometry_pipeline_metadata_landmarks.binarypb")
    mesh = next(value for number, wire, value in _fields(meta) if number == 1 and wire == 2)
    floats: list[float] = []
    for number, wire, value in _fields(mesh):
        if number == 3 and wire == 5:
            floats.append(value)
        elif number == 3 and wire == 2:  # packed encoding
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value))
    buffer = np.asarray(floats, dtype=np.float32)
    if buffer.size != N_MESH * 5:
        raise ValueError(f"{task_path}: expected {N_MESH * 5} canonical vertex floats, found {buffer.size}")
    return buffer.reshape(N_MESH, 5)[:, :3].copy()
