"""Export the DRAW denoiser to ONNX (dynamic batch and length) with its metadata."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import torch

from .checkpoint import encode_embeddings
from .conditions import N_TOKENS
from .diffusion import DiffusionGenerator
from .onnx_generator import EMBEDDINGS_KEY, INPUT_NAMES, META_KEY, OUTPUT_NAME

OPSET = 17


def export_onnx(
    output: str | os.PathLike[str],
    weights: str | os.PathLike[str] | None = None,
    *,
    generator: DiffusionGenerator | None = None,
) -> Path:
    """Write the denoiser of ``weights`` (default: the bundled checkpoint) to ``output``.

    The graph takes ``x, sigma, audio, positions, context, context_mask, local, glob, tokens, token_mask``
    with dynamic batch and frame axes and returns ``denoised``; ``metadata_props`` hold the
    ModelMeta JSON (``tbd.meta``) and the text-embedding table (``tbd.embeddings``).
    """
    import onnx

    from ..export import atomic_path, check_file_output

    output = check_file_output(output, "ONNX model")
    gen = generator or DiffusionGenerator(weights)
    model = gen.model
    previous = model.attention_backend
    model.attention_backend = "math"  # plain ops: the fused kernel is not an ONNX operator
    cfg = model.cfg
    b, t = 3, 37
    example = (
        torch.randn(b, t, cfg.n_channels),
        torch.full((b,), 0.5),
        torch.randn(b, t, cfg.n_audio),
        torch.rand(b, t, 1),
        torch.zeros(b, t, cfg.n_channels),
        torch.zeros(b, t),
        torch.rand(b, t, 2 * cfg.n_local),
        torch.rand(b, t, cfg.n_global),
        torch.zeros(b, N_TOKENS, cfg.token_dim),
        torch.ones(b, N_TOKENS, dtype=torch.bool),
    )
    frames = {0: "batch", 1: "frames"}
    dynamic_axes = {
        "x": frames, "audio": frames, "positions": frames, "context": frames, "context_mask": frames, "local": frames, "glob": frames,
        "sigma": {0: "batch"}, "tokens": {0: "batch"}, "token_mask": {0: "batch"}, OUTPUT_NAME: frames,
    }
    # Written under a temporary name and moved into place when complete: an interrupted export
    # leaves the file that was there (or none), never a truncated model.
    with atomic_path(output) as tmp:
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model, example, str(tmp), input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                    dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False, do_constant_folding=True,
                )
        finally:
            model.attention_backend = previous

        proto = onnx.load(str(tmp))
        texts, vectors = gen.embeddings.as_arrays()
        meta = dataclasses.replace(gen.meta, embedding_texts=texts)
        del proto.metadata_props[:]
        for key, value in ((META_KEY, meta.to_json()), (EMBEDDINGS_KEY, encode_embeddings(vectors))):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "tbd"
        onnx.save(proto, str(tmp))
    return output
