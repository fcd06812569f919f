"""Small fixtures for tests of DRAW: a tiny random denoiser, its checkpoint, synthetic clips.

The random weights are perturbed away from the zero-initialised output layers, so the
tiny model's output really depends on its inputs (audio, context, every token group).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..audio import AudioFeatures, features, load
from ..plan import EmotionPlan, EmotionSpan, Keyframe
from ..text_encoder import get_text_encoder
from .checkpoint import ModelMeta, save_checkpoint
from .conditions import EmbeddingTable

TINY = {"d_model": 32, "n_layers": 2, "n_heads": 4, "ffn_mult": 2}


def example_plan() -> EmotionPlan:
    """Happy turning sad, with a smile, a cheek raise and inner brows."""
    return EmotionPlan(
        text="happy, then sad",
        emotions=[EmotionSpan("happy", 0.8, 0.0, 0.5), EmotionSpan("sad", 0.6, 0.5, 1.0)],
        keyframes=[Keyframe(0.0, {"AU12L": 0.8, "AU12R": 0.8, "AU6": 0.5}), Keyframe(1.0, {"AU1": 0.6, "AU15": 0.5})],
        aus={"AU12L": 0.8, "AU12R": 0.8, "AU6": 0.5, "AU1": 0.6, "AU15": 0.5},
    )


def speechlike_features(seconds: float, seed: int = 0, fps: float = 25.0) -> AudioFeatures:
    """Audio features of noise bursts at syllable rate (fast; no speech synthesis)."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(2.5, 4.5) * t + rng.uniform(0, 6)), 0, None)
    samples = (rng.standard_normal(n) * 0.25 * envelope).astype(np.float32)
    return features(load((samples, 16000)), fps=fps)


def tiny_model(seed: int = 0, n_audio: int = AudioFeatures.N_FEATURES, **config):
    """A random MotionDenoiser of a few thousand parameters (every layer perturbed)."""
    import torch

    from .model import DenoiserConfig, MotionDenoiser

    torch.manual_seed(seed)
    model = MotionDenoiser(DenoiserConfig(n_audio=n_audio, **{**TINY, **config}))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def tiny_meta(model, encoder_name: str, **fields) -> ModelMeta:
    from ..motion import channels as ch

    rng = np.random.default_rng(1)
    defaults = dict(
        config=model.cfg.to_dict(), text_encoder=encoder_name,
        motion_mean=rng.uniform(0.0, 0.2, ch.N_CHANNELS).round(4).tolist(),
        motion_std=rng.uniform(0.1, 0.3, ch.N_CHANNELS).round(4).tolist(),
        window=40, overlap=6, steps=6,
    )
    return ModelMeta(**{**defaults, **fields})


def tiny_checkpoint(path: str | os.PathLike[str], seed: int = 0, encoder: str = "hash", **meta_fields) -> Path:
    """Write a tiny random DRAW checkpoint (hash text encoder by default) to ``path``."""
    enc = get_text_encoder(encoder)
    model = tiny_model(seed)
    table = EmbeddingTable(enc.name, None, enc)
    from .conditions import plan_texts

    table.matrix(plan_texts(example_plan()))
    texts, vectors = table.as_arrays()
    meta = tiny_meta(model, enc.name, embedding_texts=texts, **meta_fields)
    return save_checkpoint(path, {"model." + k: v for k, v in model.state_dict().items()}, meta, vectors)
