"""DRAW: generators that turn an EmotionPlan and audio features into Motion."""

from __future__ import annotations

import os
from typing import Union

from ..errors import WeightsError
from .base import Generator
from .rig import RigGenerator

GeneratorSpec = Union[str, "os.PathLike[str]", Generator, None]


def load_generator(spec: GeneratorSpec = None) -> Generator:
    """Resolve a generator: ``"rig"``, a Generator instance, or (once the diffusion
    generator lands) ``None``/``"diffusion"`` for the bundled weights, a ``.safetensors``
    checkpoint or a ``.onnx`` denoiser."""
    if spec is None or spec == "rig":
        return RigGenerator()
    if isinstance(spec, Generator):
        return spec
    raise WeightsError(f"unknown generator {spec!r}: use 'rig' or a Generator instance")


__all__ = ["Generator", "RigGenerator", "load_generator"]
