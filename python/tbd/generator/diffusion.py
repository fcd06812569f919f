"""DiffusionGenerator: the DRAW motion diffusion transformer behind ``Talker()`` (torch)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio import AudioFeatures
from ..errors import WeightsError
from ..motion import Motion
from ..plan import EmotionPlan
from .._threads import torch_threads
from ..text_encoder import TextEncoder
from .checkpoint import ModelMeta, check_encoder, load_checkpoint
from .conditions import EmbeddingTable
from .guidance import ProgressiveGuidance
from .model import DenoiserConfig, MotionDenoiser
from .weights import bundled_weights_path
from .windows import WindowedGenerator

def default_weights_path() -> Path:
    """The bundled checkpoint's path (raises WeightsError when the package ships none)."""
    path = bundled_weights_path()
    if path is None:
        raise WeightsError(
            "the bundled DRAW weights are missing (a broken install?); reinstall tbd, give a checkpoint "
            "path, or use Talker(generator='rig')"
        )
    return path


class TorchBackend:
    """Runs a MotionDenoiser on torch tensors (no autograd)."""

    def __init__(self, model: MotionDenoiser, device: str | torch.device = "cpu") -> None:
        self.model = model
        self.device = torch.device(device)
        # Parts of a pass that repeat across sampler steps and live blocks (MotionDenoiser.forward),
        # one memo per thread. Valid while the weights stay as they are: a backend serves inference.
        self._memo = threading.local()

    def asarray(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def to_numpy(self, a: torch.Tensor) -> np.ndarray:
        return a.detach().to("cpu", torch.float32).numpy()

    def repeat(self, x: torch.Tensor, n: int) -> torch.Tensor:
        return x if n == 1 else x.repeat(n, 1, 1)

    def denoise(self, x: torch.Tensor, sigma: float, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        memo = getattr(self._memo, "table", None)
        if memo is None:
            memo = self._memo.table = {}
        with torch.inference_mode():
            sigmas = torch.full((x.shape[0],), float(sigma), dtype=x.dtype, device=x.device)
            return self.model(x, sigmas, **inputs, memo=memo)


def build_model(meta: ModelMeta, state: dict[str, torch.Tensor], source: str) -> MotionDenoiser:
    """A MotionDenoiser with ``meta``'s config and ``state``'s weights (WeightsError on mismatch)."""
    try:
        config = DenoiserConfig.from_dict(meta.config)
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{source}: bad model config in metadata ({exc})") from exc
    model = MotionDenoiser(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{source}: the weights do not fit the model described in the metadata ({exc})") from exc
    return model.eval()


class DiffusionGenerator(WindowedGenerator):
    """Motion by denoising with progressive guidance (docs/architecture.md, "DRAW").

    Args:
        weights: a ``.safetensors`` checkpoint (default: the bundled one).
        text_encoder: the encoder for emotion labels the weights' table lacks; must be the
            one the weights were trained with (default: that one, created on first need).
        sampler, steps: defaults for ``sample`` (default: the checkpoint's).
        guidance: default guidance mode or a ProgressiveGuidance.
        device: torch device.
        attention: ``"kernel"`` (tbd.kernels.attention), ``"sdpa"`` or ``"math"``.
        threads: torch intra-op threads while sampling (restored afterwards, see
            ``tbd._threads``); ``None`` (default) leaves torch's setting alone. 1 is the
            fastest for this small model on CPU and does not collapse when other processes
            load the cores.
    """

    name = "diffusion"

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        text_encoder: TextEncoder | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        guidance: str | ProgressiveGuidance = "progressive",
        device: str = "cpu",
        attention: str = "kernel",
        threads: int | None = None,
    ) -> None:
        path = Path(weights) if weights is not None else default_weights_path()
        ckpt = load_checkpoint(path)
        self.meta = ckpt.meta
        check_encoder(self.meta, None if text_encoder is None else text_encoder.name, str(path))
        model = build_model(self.meta, ckpt.section("model"), str(path)).to(device)
        model.attention_backend = attention
        table = dict(zip(self.meta.embedding_texts, ckpt.embeddings))
        self.model = model
        self._setup(self.meta, EmbeddingTable(self.meta.text_encoder, table, text_encoder), path.name,
                    sampler, steps, guidance, TorchBackend(model, device))
        self.threads = threads

    @classmethod
    def from_model(
        cls,
        model: MotionDenoiser,
        meta: ModelMeta,
        embeddings: EmbeddingTable,
        *,
        sampler: str | None = None,
        steps: int | None = None,
        guidance: str | ProgressiveGuidance = "progressive",
        name: str = "in-memory",
    ) -> "DiffusionGenerator":
        """Wrap a model in memory (during training, in tests)."""
        self = cls.__new__(cls)
        device = next(model.parameters()).device
        self.model = model.eval()
        self._setup(meta, embeddings, name, sampler, steps, guidance, TorchBackend(self.model, str(device)))
        self.threads = None
        return self

    def sample(self, plan: EmotionPlan, feats: AudioFeatures, **options: Any) -> Motion:
        """See WindowedGenerator.sample; runs with ``threads`` torch threads."""
        with torch_threads(self.threads):
            return super().sample(plan, feats, **options)

