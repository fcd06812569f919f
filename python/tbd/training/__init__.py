"""Training DRAW: the built-in corpus, real-data loaders and the training loop (needs torch).

    tbd corpus -o corpus/ --clips 1200            # synthetic speech + rig motion for random plans
    tbd train corpus/ -o draw.safetensors         # or: torchrun --nproc_per_node=2 -m tbd.cli train ...
"""

from __future__ import annotations

from .dataset import Clip, DataError, SamplerConfig, WindowSampler, load_corpus, motion_stats

__all__ = ["Clip", "DataError", "SamplerConfig", "WindowSampler", "load_corpus", "motion_stats",
           "TrainConfig", "train", "make_corpus", "CorpusConfig"]


def __getattr__(name: str):
    if name in ("TrainConfig", "train", "TrainResult"):
        from . import trainer as _train

        return getattr(_train, name)
    if name in ("make_corpus", "CorpusConfig"):
        from . import corpus as _corpus

        return getattr(_corpus, name)
    raise AttributeError(f"module 'tbd.training' has no attribute {name!r}")
