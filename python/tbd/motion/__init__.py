"""Motion: per-frame AU intensities, head pose and gaze (see channels.py for the contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import channels
from .arkit import ARKIT_BLENDSHAPES, to_arkit
from .channels import AU_CHANNELS, CHANNELS, N_CHANNELS


@dataclass
class Motion:
    """Facial motion over time: ``values`` float32 ``[T, n_channels]`` at ``fps``."""

    values: np.ndarray
    fps: float = 25.0
    channels: tuple[str, ...] = CHANNELS
    meta: dict[str, Any] = field(default_factory=dict)
    viseme_weights: np.ndarray | None = None
    """float32 ``[T, 15]``: the OVR viseme curves the lips were shaped with (``visemes()``)."""

    def __post_init__(self) -> None:
        self.values = np.ascontiguousarray(self.values, dtype=np.float32)
        self.channels = tuple(self.channels)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.channels):
            raise ValueError(
                f"motion values must be [T, {len(self.channels)}] for channels {self.channels[:3]}..., "
                f"got shape {self.values.shape}"
            )
        if self.channels != CHANNELS:
            raise ValueError("Motion channels must be tbd.motion.CHANNELS (in that order)")
        if not np.isfinite(self.values).all():
            raise ValueError("motion values contain NaN or infinity")
        if self.viseme_weights is not None:
            from ..articulation.visemes import N_VISEMES

            self.viseme_weights = np.ascontiguousarray(self.viseme_weights, dtype=np.float32)
            if self.viseme_weights.shape != (self.n_frames, N_VISEMES):
                raise ValueError(f"viseme_weights must be [{self.n_frames}, {N_VISEMES}], got {self.viseme_weights.shape}")

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The curve of one channel, float32 ``[T]``."""
        return self.values[:, channels.index(name)]

    def visemes(self) -> dict[str, np.ndarray]:
        """The 15 OVR viseme curves (sil, PP, FF, ..., ou), name -> float32 ``[T]`` summing to 1
        per frame; empty when the motion was made without articulation (e.g. loaded from values)."""
        from ..articulation.visemes import VISEMES

        if self.viseme_weights is None:
            return {}
        return {name: self.viseme_weights[:, i].copy() for i, name in enumerate(VISEMES)}

    def blendshapes(self) -> dict[str, np.ndarray]:
        """ARKit-52 blendshape curves, name -> float32 ``[T]`` in 0..1."""
        return to_arkit(self.values)


__all__ = ["Motion", "channels", "CHANNELS", "AU_CHANNELS", "N_CHANNELS", "ARKIT_BLENDSHAPES", "to_arkit"]
