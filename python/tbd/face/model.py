"""FaceModel: everything the renderer and the measurements need to know about one detected face."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .topology import DLIB_REGIONS, MEDIAPIPE_REGIONS, FaceRegions


@dataclass
class FaceModel:
    """One face in one image (all positions are (x, y) pixels of that image).

    - ``landmarks`` float32 [N, 2]: the backend's own points (478 MediaPipe, 68 dlib); ``regions``
      names their groups (lips, eyes, brows, irises, outline).
    - ``mesh`` float32 [478, 2] and ``depth`` float32 [478]: the face in MediaPipe's mesh topology
      (for dlib: the canonical mesh fitted to its 68 points) and each point's height toward the
      viewer relative to the face outline, in pixels. The renderer works on these.
    - ``pose``: head rotation in radians (pitch: chin down, yaw: toward the subject's left,
      roll: clockwise on screen), ``source_aus``: the portrait's own expression over
      ``tbd.motion.channels.AU_CHANNELS`` (0..1), ``blendshapes``: MediaPipe's ARKit scores or None.
    """

    landmarks: np.ndarray
    backend: str
    bbox: tuple[float, float, float, float]
    image_size: tuple[int, int]
    mesh: np.ndarray
    depth: np.ndarray
    pose: dict[str, float]
    source_aus: dict[str, float]
    blendshapes: dict[str, float] | None = None
    source: str = "image"
    n_faces: int = 1
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.mesh = np.asarray(self.mesh, dtype=np.float32)
        self.depth = np.asarray(self.depth, dtype=np.float32)
        if self.mesh.shape != (478, 2) or self.depth.shape != (478,):
            raise ValueError(f"FaceModel.mesh must be [478, 2] and depth [478], got {self.mesh.shape}, {self.depth.shape}")

    @property
    def regions(self) -> FaceRegions:
        """Index groups into ``landmarks``."""
        return MEDIAPIPE_REGIONS if self.backend == "mediapipe" else DLIB_REGIONS

    @property
    def mesh_regions(self) -> FaceRegions:
        """Index groups into ``mesh``."""
        return MEDIAPIPE_REGIONS

    @property
    def interocular(self) -> float:
        """Distance between the eye centres in pixels: the face's size unit."""
        r = self.mesh_regions
        right = self.mesh[[r.eye_right_upper[0], r.eye_right_upper[-1]]].mean(axis=0)
        left = self.mesh[[r.eye_left_upper[0], r.eye_left_upper[-1]]].mean(axis=0)
        return float(np.hypot(*(left - right)))

    @property
    def area(self) -> float:
        """Area of the bounding box in square pixels (the largest face wins when several are found)."""
        x0, y0, x1, y1 = self.bbox
        return max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
