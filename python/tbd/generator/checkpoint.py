"""DRAW weights: safetensors checkpoints and the metadata every weight file carries.

A checkpoint is one ``.safetensors`` file:

* ``model.<param>``: the denoiser weights used for inference (the EMA weights after training);
* ``embeddings``: float32 ``[N, 384]`` sentence embeddings of the texts listed in the metadata
  (emotion labels and AU descriptions), so known conditions need no text encoder at run time;
* ``train.*`` (optional): raw weights and optimizer moments, for ``tbd train --resume``;
* string metadata ``format`` = ``tbd-draw``, ``format_version``, and ``meta``: the JSON of
  ``ModelMeta`` (channels, fps, audio features, text encoder, model config, normalisation,
  windowing, training record).

The same ``ModelMeta`` JSON rides in an exported ONNX file's ``metadata_props``. Loading checks
format, version, channels, audio features and text encoder, and raises ``WeightsError`` saying
which is wrong; pickle files are refused.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import AudioFeatures
from ..errors import WeightsError
from ..motion import channels as ch

FORMAT = "tbd-draw"
FORMAT_VERSION = 2
"""Version 2 (tbd 0.2): the denoiser takes no clip-position input and has a frame-aligned
global condition (``glob``); version-1 weights (``draw-v1``) do not fit it."""
AUDIO_FEATURES = f"logmel80+loudness/v1/{AudioFeatures.N_FEATURES}"
"""Names the audio feature vector (``AudioFeatures.matrix``) a model was trained on."""
ARTICULATION_FEATURES = "visemes15+closure/v1"
"""Names the articulation features (``Articulation.features``) appended to the audio rows of
a model trained with them (``ModelMeta.articulation``; empty for models without)."""

_PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")


@dataclass
class ModelMeta:
    """Everything needed, besides the weights, to run a denoiser and to check it fits."""

    config: dict[str, Any]
    text_encoder: str
    motion_mean: list[float]
    motion_std: list[float]
    fps: float = 25.0
    channels: list[str] = field(default_factory=lambda: list(ch.CHANNELS))
    audio_features: str = AUDIO_FEATURES
    articulation: str = ""
    local_scope: str = "planned"
    """What the local condition governs (``conditions.LOCAL_SCOPES``); weights before draw-v5 lack the field."""
    window: int = 100
    overlap: int = 12
    sigma_min: float = 0.002
    sigma_max: float = 20.0
    sampler: str = "dpmpp_2m"
    steps: int = 16
    embedding_texts: list[str] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str) -> "ModelMeta":
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise WeightsError(f"{source}: the tbd metadata is not valid JSON ({exc})") from exc
        if not isinstance(d, dict):
            raise WeightsError(f"{source}: the tbd metadata must be a JSON object")
        check_format(d.get("format"), d.get("format_version"), source)
        try:
            meta = cls(**d)
        except TypeError as exc:
            raise WeightsError(f"{source}: malformed tbd metadata ({exc}); re-export the weights with this tbd") from exc
        meta.validate(source)
        return meta

    def validate(self, source: str) -> None:
        """Raise WeightsError when these weights do not fit this tbd (channels, features)."""
        if list(self.channels) != list(ch.CHANNELS):
            raise WeightsError(
                f"{source}: made for motion channels {self.channels[:4]}... ({len(self.channels)}), but this tbd "
                f"uses {list(ch.CHANNELS[:4])}... ({ch.N_CHANNELS}); retrain or use weights made for this version"
            )
        if self.audio_features != AUDIO_FEATURES:
            raise WeightsError(
                f"{source}: made for audio features {self.audio_features!r}, but this tbd computes "
                f"{AUDIO_FEATURES!r}; retrain the model on the current features"
            )
        from .conditions import LOCAL_SCOPES
        if self.local_scope not in LOCAL_SCOPES:
            raise WeightsError(
                f"{source}: local scope {self.local_scope!r} is not one this tbd knows {LOCAL_SCOPES}; "
                "upgrade tbd or use weights made for this version")
        from ..text_encoder import HASH_NAME, MINILM_NAME

        if self.text_encoder not in (HASH_NAME, MINILM_NAME):
            raise WeightsError(
                f"{source}: made with an unknown text encoder {self.text_encoder!r}; this tbd has "
                f"{HASH_NAME!r} and {MINILM_NAME!r}"
            )
        if len(self.motion_mean) != ch.N_CHANNELS or len(self.motion_std) != ch.N_CHANNELS:
            raise WeightsError(f"{source}: motion normalisation has the wrong number of channels")
        if self.fps <= 0 or self.window < 8 or not 0 <= self.overlap < self.window // 2:
            raise WeightsError(f"{source}: bad windowing in metadata (fps {self.fps}, window {self.window}, "
                               f"overlap {self.overlap})")


def check_format(fmt: Any, version: Any, source: str) -> None:
    if fmt != FORMAT:
        raise WeightsError(
            f"{source}: not a tbd DRAW model (format {fmt!r}, expected {FORMAT!r}); "
            "give weights written by `tbd train` or `tbd export-onnx`"
        )
    if str(version) != str(FORMAT_VERSION):
        hint = ("version-1 weights take the clip position as an input, which streaming cannot give; retrain "
                "with `tbd train` (docs/training.md) or use the bundled weights") if str(version) == "1" else \
            "use weights written by this tbd's `tbd train` or `tbd export-onnx`"
        raise WeightsError(
            f"{source}: DRAW format version {version} is not supported (this tbd reads version {FORMAT_VERSION}): {hint}"
        )


def check_encoder(meta: ModelMeta, encoder_name: str | None, source: str) -> None:
    """Refuse to pair weights with a text encoder other than the one they were trained with."""
    if encoder_name is not None and encoder_name != meta.text_encoder:
        raise WeightsError(
            f"{source}: trained with text encoder {meta.text_encoder!r}, but {encoder_name!r} was given; "
            "embeddings of different encoders are not interchangeable: use the same encoder or retrain"
        )


def refuse_pickle(path: Path) -> None:
    """Raise WeightsError for pickle-based weight files (torch.save zips, raw pickles)."""
    head = b""
    if path.is_file():
        with open(path, "rb") as f:
            head = f.read(9)
    safetensors_like = len(head) == 9 and head[8:9] == b"{"  # u64 header length, then JSON
    pickled = head[:1] == b"\x80" or head[:2] == b"PK"  # pickle protocol 2+, or torch.save's zip
    if path.suffix.lower() in _PICKLE_SUFFIXES or (pickled and not safetensors_like):
        raise WeightsError(
            f"{path}: pickle-based weight files are refused (they can run arbitrary code when loaded); "
            "give a .safetensors checkpoint or an .onnx file"
        )


def save_checkpoint(
    path: str | os.PathLike[str],
    tensors: dict[str, "Any"],
    meta: ModelMeta,
    embeddings: np.ndarray,
) -> Path:
    """Write ``tensors`` (name -> torch tensor), the embedding table and ``meta`` atomically."""
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    if len(meta.embedding_texts) != len(embeddings):
        raise ValueError("embedding_texts and embeddings differ in length")
    out = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    out["embeddings"] = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": meta.to_json()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(out, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)  # safetensors creates 0600 files; weights are meant to be shared
    os.replace(tmp, path)
    return path


@dataclass
class Checkpoint:
    """A loaded checkpoint: metadata, tensors by name (torch), and the embedding table."""

    meta: ModelMeta
    tensors: dict[str, Any]
    embeddings: np.ndarray
    path: Path

    def section(self, prefix: str) -> dict[str, Any]:
        """Tensors under ``prefix.`` with the prefix removed (``"model"`` -> the state dict)."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and check a DRAW safetensors checkpoint (raises WeightsError saying what is wrong)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    refuse_pickle(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from exc
    check_format(metadata.get("format"), metadata.get("format_version"), str(path))
    meta = ModelMeta.from_json(metadata.get("meta", ""), str(path))
    if "embeddings" not in tensors:
        raise WeightsError(f"{path}: the checkpoint has no 'embeddings' table")
    embeddings = tensors.pop("embeddings").float().numpy()
    if embeddings.shape[0] != len(meta.embedding_texts):
        raise WeightsError(f"{path}: the embedding table does not match its list of texts")
    if not any(k.startswith("model.") for k in tensors):
        raise WeightsError(f"{path}: the checkpoint holds no model weights ('model.*' tensors)")
    return Checkpoint(meta, tensors, embeddings, path)


# --- embedding tables in ONNX metadata (strings only) --------------------------------------

def encode_embeddings(embeddings: np.ndarray) -> str:
    """float32 [N, D] as a string (little-endian float32, base64) for ONNX metadata_props."""
    arr = np.ascontiguousarray(embeddings, dtype="<f4")
    return json.dumps({"shape": list(arr.shape), "float32_base64": base64.b64encode(arr.tobytes()).decode("ascii")})


def decode_embeddings(text: str, source: str) -> np.ndarray:
    try:
        d = json.loads(text)
        raw = base64.b64decode(d["float32_base64"])
        return np.frombuffer(raw, dtype="<f4").reshape(d["shape"]).astype(np.float32)
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{source}: the embedded text-embedding table is malformed ({exc})") from exc
