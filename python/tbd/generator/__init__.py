"""DRAW: generators that turn an EmotionPlan and audio features into Motion."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Union

from ..errors import WeightsError
from .base import Generator
from .rig import RigGenerator

GeneratorSpec = Union[str, "os.PathLike[str]", Generator, None]


def _torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "safetensors"))


def load_generator(spec: GeneratorSpec = None) -> Generator:
    """Resolve a generator.

    ``None``: the diffusion generator with the bundled weights (the rig, with a warning, when
    torch is not installed); ``"diffusion"``: the same, but an error without torch; ``"rig"``:
    the deterministic rig; a ``.safetensors`` checkpoint (DiffusionGenerator, needs torch); an
    ``.onnx`` denoiser (OnnxGenerator, onnxruntime only); or a Generator instance.
    """
    if isinstance(spec, Generator) and not isinstance(spec, (str, os.PathLike)):
        return spec
    if spec == "rig":
        return RigGenerator()
    if spec is None or spec == "diffusion":
        from .weights import bundled_weights_path

        if spec is None and (not _torch_available() or bundled_weights_path() is None):
            reason = "torch is not installed" if not _torch_available() else "the bundled weights are missing"
            warnings.warn(f"using the rig generator: {reason} (pip install tbd[torch])", stacklevel=3)
            return RigGenerator()
        return _diffusion(None)
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            from .onnx_generator import OnnxGenerator

            return OnnxGenerator(path)
        if suffix == ".safetensors":
            return _diffusion(path)
        if not path.exists():
            if suffix or len(path.parts) > 1:  # looks like a file path, not a generator name
                raise WeightsError(f"{path}: no such weights file; give an existing .safetensors checkpoint "
                                   "or .onnx file, or generator 'rig' or 'diffusion'")
            raise WeightsError(
                f"unknown generator {str(spec)!r}: use 'rig', 'diffusion', a .safetensors checkpoint or an .onnx file"
            )
        if path.is_dir():
            raise WeightsError(f"{path}: is a folder; give a .safetensors checkpoint or an .onnx file inside it")
        from .checkpoint import refuse_pickle

        refuse_pickle(path)
        raise WeightsError(f"{path}: unknown weights format {suffix or '(no suffix)'!r}; use .safetensors or .onnx")
    raise WeightsError(f"unknown generator {spec!r}: use 'rig', 'diffusion', a weights path or a Generator instance")


def _diffusion(path: Path | None) -> Generator:
    if not _torch_available():
        from ..errors import BackendError

        raise BackendError(
            "the diffusion generator needs torch and safetensors: pip install tbd[torch] "
            "(or export it with `tbd export-onnx` and run the .onnx file, or use generator='rig')"
        )
    from .diffusion import DiffusionGenerator

    return DiffusionGenerator(path)


__all__ = ["Generator", "RigGenerator", "load_generator", "GeneratorSpec"]
