"""Landmark index groups of the two backends and the map between them.

Conventions: "right"/"left" are the subject's (the subject's right eye is on the image's left
in a frontal portrait). Contours run from the image-left end to the image-right end and
include both corners, so that upper and lower contours of an eye or the lips share their
first and last index and pair up column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceRegions:
    """Index groups into a landmark array (see the module docstring for the conventions)."""

    lips_outer_upper: tuple[int, ...]
    lips_outer_lower: tuple[int, ...]
    lips_inner_upper: tuple[int, ...]
    lips_inner_lower: tuple[int, ...]
    eye_right_upper: tuple[int, ...]
    eye_right_lower: tuple[int, ...]
    eye_left_upper: tuple[int, ...]
    eye_left_lower: tuple[int, ...]
    brow_right: tuple[int, ...]
    brow_left: tuple[int, ...]
    iris_right: tuple[int, ...]
    """Centre first, then the ring; empty when the backend has no iris points."""
    iris_left: tuple[int, ...]
    oval: tuple[int, ...]
    """Face outline in order (closed loop for MediaPipe, the jaw line for dlib)."""
    nose_tip: int
    nose_bridge: tuple[int, ...]
    chin: int

    def eye(self, side: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(upper, lower) lid contours of the subject's ``"right"`` or ``"left"`` eye."""
        if side == "right":
            return self.eye_right_upper, self.eye_right_lower
        if side == "left":
            return self.eye_left_upper, self.eye_left_lower
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")


MEDIAPIPE_REGIONS = FaceRegions(
    lips_outer_upper=(61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291),
    lips_outer_lower=(61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),
    lips_inner_upper=(78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    lips_inner_lower=(78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
    eye_right_upper=(33, 246, 161, 160, 159, 158, 157, 173, 133),
    eye_right_lower=(33, 7, 163, 144, 145, 153, 154, 155, 133),
    eye_left_upper=(362, 398, 384, 385, 386, 387, 388, 466, 263),
    eye_left_lower=(362, 382, 381, 380, 374, 373, 390, 249, 263),
    brow_right=(70, 63, 105, 66, 107, 46, 53, 52, 65, 55),
    brow_left=(336, 296, 334, 293, 300, 285, 295, 282, 283, 276),
    iris_right=(468, 469, 470, 471, 472),
    iris_left=(473, 474, 475, 476, 477),
    oval=(10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
          152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109),
    nose_tip=1,
    nose_bridge=(168, 6, 197, 195, 5),
    chin=152,
)
"""Groups of MediaPipe's 478-point face mesh (468 mesh points + 10 iris points)."""

DLIB_REGIONS = FaceRegions(
    lips_outer_upper=(48, 49, 50, 51, 52, 53, 54),
    lips_outer_lower=(48, 59, 58, 57, 56, 55, 54),
    lips_inner_upper=(60, 61, 62, 63, 64),
    lips_inner_lower=(60, 67, 66, 65, 64),
    eye_right_upper=(36, 37, 38, 39),
    eye_right_lower=(36, 41, 40, 39),
    eye_left_upper=(42, 43, 44, 45),
    eye_left_lower=(42, 47, 46, 45),
    brow_right=(17, 18, 19, 20, 21),
    brow_left=(22, 23, 24, 25, 26),
    iris_right=(),
    iris_left=(),
    oval=tuple(range(17)),
    nose_tip=30,
    nose_bridge=(27, 28, 29, 30),
    chin=8,
)
"""Groups of dlib's 68-point (iBUG 300-W) layout."""

DLIB_TO_MESH: np.ndarray = np.array(
    [34, 137, 177, 215, 172, 136, 149, 148, 152, 377, 378, 365, 397, 435, 401, 366, 264,  # jaw
     70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows
     168, 197, 5, 4, 75, 97, 2, 326, 305,  # nose
     33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,  # eyes
     61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips
     78, 82, 13, 312, 308, 317, 14, 87],  # inner lips
    dtype=np.int64,
)
"""For each dlib landmark, the canonical-mesh vertex at (about) the same place on the face."""
DLIB_TO_MESH.setflags(write=False)

MESH_STABLE: tuple[int, ...] = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4)
"""Mesh points that no action unit moves much (eye corners, nose ridge): used for alignment."""
