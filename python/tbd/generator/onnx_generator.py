"""OnnxGenerator: the exported DRAW denoiser run by onnxruntime, without torch.

Conditions, sampler and guidance are the numpy twins of the torch path (same code, numpy
arrays); only the network runs in onnxruntime. The ONNX file carries the ModelMeta JSON and
the text-embedding table in its ``metadata_props`` (written by ``tbd export-onnx``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError, WeightsError
from ..text_encoder import TextEncoder
from .checkpoint import ModelMeta, check_encoder, check_format, decode_embeddings
from .conditions import EmbeddingTable
from .guidance import ProgressiveGuidance
from .windows import WindowedGenerator

INPUT_NAMES = ("x", "sigma", "audio", "positions", "context", "context_mask", "local", "glob", "tokens",
               "token_mask")
OUTPUT_NAME = "denoised"
META_KEY = "tbd.meta"
EMBEDDINGS_KEY = "tbd.embeddings"


class OnnxBackend:
    """Runs the exported denoiser on numpy arrays."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a)

    def to_numpy(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float32)

    def repeat(self, x: np.ndarray, n: int) -> np.ndarray:
        return x if n == 1 else np.repeat(x, n, axis=0)

    def denoise(self, x: np.ndarray, sigma: float, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = dict(inputs)
        feed["x"] = np.ascontiguousarray(x, dtype=np.float32)
        feed["sigma"] = np.full((x.shape[0],), sigma, dtype=np.float32)
        return self.session.run([OUTPUT_NAME], feed)[0]


def read_onnx_metadata(path: Path, props: dict[str, str]) -> tuple[ModelMeta, EmbeddingTable]:
    """ModelMeta and embedding table from an ONNX model's metadata_props."""
    if META_KEY not in props:
        raise WeightsError(
            f"{path}: this ONNX file has no tbd metadata ({META_KEY!r} in metadata_props); "
            "export it with `tbd export-onnx`"
        )
    meta = ModelMeta.from_json(props[META_KEY], str(path))
    check_format(meta.format, meta.format_version, str(path))
    vectors = decode_embeddings(props.get(EMBEDDINGS_KEY, '{"shape": [0, 384], "float32_base64": ""}'), str(path))
    if len(vectors) != len(meta.embedding_texts):
        raise WeightsError(f"{path}: the embedding table does not match its list of texts")
    table = dict(zip(meta.embedding_texts, vectors))
    return meta, EmbeddingTable(meta.text_encoder, table)


class OnnxGenerator(WindowedGenerator):
    """DRAW with the denoiser in onnxruntime (``Talker(generator="denoiser.onnx")``).

    Same options as DiffusionGenerator; ``threads`` sets onnxruntime's intra-op threads (1 by
    default: as fast as more for this small model, and robust when other processes load the
    cores; ``None`` lets onnxruntime choose).
    """

    name = "onnx"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        text_encoder: TextEncoder | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        guidance: str | ProgressiveGuidance = "progressive",
        threads: int | None = 1,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError("running an .onnx generator needs onnxruntime: pip install tbd[onnx]") from exc
        path = Path(path)
        if not path.is_file():
            raise WeightsError(f"{path}: no such ONNX file")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise WeightsError(f"{path}: not a loadable ONNX model ({exc})") from exc
        meta, embeddings = read_onnx_metadata(path, session.get_modelmeta().custom_metadata_map)
        check_encoder(meta, None if text_encoder is None else text_encoder.name, str(path))
        names = {i.name for i in session.get_inputs()}
        if names != set(INPUT_NAMES):
            raise WeightsError(f"{path}: the ONNX inputs {sorted(names)} are not a DRAW denoiser's {list(INPUT_NAMES)}")
        if text_encoder is not None:
            embeddings = EmbeddingTable(meta.text_encoder, dict(zip(*embeddings.as_arrays())), text_encoder)
        self._setup(meta, embeddings, path.name, sampler, steps, guidance, OnnxBackend(session))
