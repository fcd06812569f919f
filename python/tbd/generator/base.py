"""The generator interface: plan + audio features -> motion."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..audio import AudioFeatures
from ..motion import Motion
from ..plan import EmotionPlan


@runtime_checkable
class Generator(Protocol):
    """Anything that turns an EmotionPlan and frame-aligned audio features into Motion.

    ``sample`` must be deterministic for a given ``seed`` and fill ``Motion.meta`` with at
    least ``generator``, ``weights``, ``sampler``, ``steps``, ``guidance`` and ``seed``.
    """

    name: str

    def sample(
        self,
        plan: EmotionPlan,
        feats: AudioFeatures,
        *,
        seed: int = 0,
        progress: bool = False,
        **options: Any,
    ) -> Motion: ...
