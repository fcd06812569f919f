"""FACE: find the face in a portrait, describe it (FaceModel), and measure faces.

    from tbd import face
    model = face.detect(image, source="portrait.png")    # FaceModel
    face.measure.mouth_opening(model), face.measure.eye_openness(model)
"""

from __future__ import annotations

from . import measure
from .detect import detect
from .expression import estimate_aus
from .model import FaceModel
from .rig import FaceFrame
from .topology import DLIB_REGIONS, MEDIAPIPE_REGIONS, FaceRegions

__all__ = ["detect", "FaceModel", "FaceRegions", "FaceFrame", "estimate_aus", "measure",
           "MEDIAPIPE_REGIONS", "DLIB_REGIONS"]
