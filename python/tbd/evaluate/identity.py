"""Identity: does the rendered face still look like the portrait's person? dlib 128-d descriptors.

dlib's ResNet descriptor (``face_recognition_models``' ``dlib_face_recognition_resnet_model_v1.dat``,
located without importing that package) of the portrait against sampled frames; two photos
of one person are usually closer than 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NoFaceError


@dataclass(frozen=True)
class IdentityConfig:
    samples: int = 8          # frames, evenly spaced over the clip
    same_person: float = 0.5  # acceptance: median distance at most this


@dataclass
class IdentityResult:
    median: float | None
    max: float | None
    distances: list[float | None]   # per sampled frame (None: dlib found no face there)
    frames: list[int]
    ok: bool | None


def identity(portrait: np.ndarray, frames: np.ndarray, config: IdentityConfig = IdentityConfig(),
             *, progress: bool = False) -> IdentityResult:
    """Median dlib descriptor distance between ``portrait`` and ``config.samples`` frames."""
    from tqdm.auto import tqdm

    from ..face.measure import face_identity

    reference = face_identity(portrait, "the portrait")
    picks = sorted(set(np.linspace(0, len(frames) - 1, min(config.samples, len(frames))).round().astype(int).tolist()))
    distances: list[float | None] = []
    for i in tqdm(picks, desc="eval: identity", disable=not progress, leave=False):
        try:
            d = float(np.linalg.norm(face_identity(frames[i], f"frame {i}") - reference))
            distances.append(round(d, 5))
        except NoFaceError:
            distances.append(None)
    seen = [d for d in distances if d is not None]
    median = round(float(np.median(seen)), 5) if seen else None
    return IdentityResult(median, max(seen) if seen else None, distances, picks,
                          None if median is None else median <= config.same_person)
