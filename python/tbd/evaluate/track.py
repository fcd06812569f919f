"""Per-frame MediaPipe face tracking of a clip: ARKit blendshapes, inner-lip gap, face boxes.

One FaceLandmarker pass per frame (still-image mode, so every frame is read on its own,
as an independent observer would) feeds the blendshape, lip-sync, blink and colour checks.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import NoFaceError
from ..motion.arkit import ARKIT_BLENDSHAPES


@dataclass
class FaceTrack:
    """Per-frame readings; rows where no face was found are NaN (``found`` False)."""

    blendshapes: np.ndarray   # float32 [T, 52], columns in ARKIT_BLENDSHAPES order
    lip_gap: np.ndarray       # float32 [T], inner-lip gap at the mouth centre (inter-ocular units)
    boxes: np.ndarray         # float32 [T, 4], landmark bounding box x0, y0, x1, y1 (pixels)
    found: np.ndarray         # bool [T]

    def shape(self, name: str) -> np.ndarray:
        """One blendshape's curve [T] (NaN where no face)."""
        return self.blendshapes[:, ARKIT_BLENDSHAPES.index(name)]

    @property
    def n_frames(self) -> int:
        return int(self.found.shape[0])


def track(frames: np.ndarray, *, model_path: str | os.PathLike | None = None, progress: bool = False) -> FaceTrack:
    """Run MediaPipe FaceLandmarker on every frame (largest face). Raises NoFaceError when
    no frame shows a face."""
    from tqdm.auto import tqdm

    from ..face import detect, measure

    n = len(frames)
    shapes = np.full((n, len(ARKIT_BLENDSHAPES)), np.nan, np.float32)
    gaps = np.full(n, np.nan, np.float32)
    boxes = np.full((n, 4), np.nan, np.float32)
    found = np.zeros(n, bool)
    for i in tqdm(range(n), desc="eval: face tracking", disable=not progress, leave=False):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # several faces: the largest is used, as in rendering
                face = detect(frames[i], backend="mediapipe", source=f"frame {i}", model_path=model_path)
        except NoFaceError:
            continue
        found[i] = True
        bs = face.blendshapes or {}
        shapes[i] = [bs.get(name, 0.0) for name in ARKIT_BLENDSHAPES]
        gaps[i] = measure.mouth_opening(face)
        boxes[i] = face.bbox
    if not found.any():
        raise NoFaceError(f"no face found in any of the {n} frames; the clip must show a face")
    return FaceTrack(shapes, gaps, boxes, found)
