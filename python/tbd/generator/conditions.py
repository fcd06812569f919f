"""DRAW's conditions: the plan turned into cross-attention tokens ``[g, L]`` and the mask ``M``.

Every token is one fixed-length float vector (``TOKEN_DIM``), laid out as

    [type one-hot (null, global, local) | text embedding (384) | AU one-hot (24)
     | AU peak intensity | span intensity]

* the *null* token is always present, so cross-attention never sees an empty key set;
* one *global* token per emotion span: the sentence embedding of its label and its
  intensity (``g``);
* one *local* token per active AU channel: the AU identity, its peak intensity and the
  embedding of its muscle description (``L``).

Tokens carry no times. The time course enters frame by frame, at absolute times (seconds):
``frame_local`` (the plan's AU targets on the local tokens' channels and their mask) and
``frame_global`` (the intensity-weighted embedding of the emotion spans active at that
frame and their total intensity), so nothing depends on the clip's length and a live
session can build the same inputs frame by frame (docs/architecture.md, "Time model").

``M`` (``channel_mask``) is 1 on the motion channels the local condition governs. Which channels
those are is the model's *local scope*: ``"planned"`` (weights before draw-v5) governs only the AUs
the plan asks for, so every other channel follows the global emotion alone, and there a model mixes
in the AUs of neighbouring emotions; ``"expression"`` also governs every channel only the emotion
moves (``EXPRESSION_CHANNELS``) at the plan's value, rest included, so "this AU stays at rest" is a
condition the model learns and the late guidance steps keep. Local *tokens* stay one per AU the plan
asks for in both scopes. This module is numpy only: the ONNX path builds the same inputs without torch.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from ..errors import BackendError
from ..motion import channels as ch
from ..plan import EmotionPlan, clip_duration
from ..text_encoder import EMBED_DIM, TextEncoder

MAX_SPANS = 4
MAX_LOCAL = len(ch.AU_CHANNELS)
N_TOKENS = 1 + MAX_SPANS + MAX_LOCAL
ACTIVE_THRESHOLD = 0.05
"""An AU is a local token when its peak target in the plan reaches this."""

GROUP_NULL, GROUP_GLOBAL, GROUP_LOCAL = 0, 1, 2

EXPRESSION_CHANNELS: tuple[str, ...] = (
    "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU12L", "AU12R", "AU14L", "AU14R", "AU15", "AU16")
"""AUs that only the emotion moves: speech shapes AU10, AU17 and AU18-AU27, blinks drive AU45."""
LOCAL_SCOPES: tuple[str, ...] = ("planned", "expression")
"""What the local condition governs: the planned AUs, or those plus every expression channel."""

# Token layout (offsets into one token vector).
_TYPE = 0
_TEXT = 3
_AU = _TEXT + EMBED_DIM
_PEAK = _AU + len(ch.AU_CHANNELS)
_SPAN = _PEAK + 1
TOKEN_DIM = _SPAN + 1
GLOBAL_DIM = EMBED_DIM + 1
"""Width of the frame-aligned global condition (weighted span embedding, total intensity)."""
LOCAL_DIM = 2 * len(ch.AU_CHANNELS)
"""Width of the frame-aligned local condition (AU targets, then their mask)."""

# Which of the three guidance branches see which token groups: (uncond, global, global+local).
BRANCH_GROUPS: tuple[tuple[int, ...], ...] = (
    (GROUP_NULL,),
    (GROUP_NULL, GROUP_GLOBAL),
    (GROUP_NULL, GROUP_GLOBAL, GROUP_LOCAL),
)


@dataclass(frozen=True)
class Conditions:
    """Condition tokens of one plan: ``tokens`` float32 ``[N_TOKENS, TOKEN_DIM]``,
    ``valid`` bool ``[N_TOKENS]`` (padding is False), ``groups`` int8 ``[N_TOKENS]``
    (null/global/local), and ``channel_mask`` float32 ``[N_CHANNELS]`` (``M``)."""

    tokens: np.ndarray
    valid: np.ndarray
    groups: np.ndarray
    channel_mask: np.ndarray
    local_channels: tuple[str, ...]

    def token_mask(self, keep_global: bool = True, keep_local: bool = True) -> np.ndarray:
        """The key mask for a branch: valid tokens of the kept groups (null is always kept)."""
        keep = self.groups == GROUP_NULL
        if keep_global:
            keep |= self.groups == GROUP_GLOBAL
        if keep_local:
            keep |= self.groups == GROUP_LOCAL
        return self.valid & keep

    def branch_masks(self) -> np.ndarray:
        """bool ``[3, N_TOKENS]``: the key masks of the ∅, g and (g, L) branches."""
        return np.stack([self.valid & np.isin(self.groups, groups) for groups in BRANCH_GROUPS])


class EmbeddingTable:
    """Sentence embeddings by text, filled from a stored table first and the encoder second.

    The stored table lets a model trained with MiniLM run its known labels and AU
    descriptions without torch (the ONNX path); the encoder is only created for a miss.
    """

    def __init__(
        self,
        encoder_name: str,
        table: Mapping[str, np.ndarray] | None = None,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.encoder_name = encoder_name
        self._table = {k: np.asarray(v, dtype=np.float32) for k, v in (table or {}).items()}
        self._encoder = encoder
        if encoder is not None and encoder.name != encoder_name:
            raise ValueError(f"encoder {encoder.name!r} does not match the table's encoder {encoder_name!r}")

    @property
    def texts(self) -> list[str]:
        return sorted(self._table)

    def matrix(self, texts: Iterable[str]) -> np.ndarray:
        """float32 ``[len(texts), EMBED_DIM]``; unknown texts are encoded once and kept.

        When the encoder cannot be loaded here (MiniLM without torch, on the ONNX path), a
        label with a qualifier the table lacks ("smile (posed)") falls back to its known base
        ("smile") with a warning; anything else raises BackendError."""
        texts = list(texts)
        missing = sorted({t for t in texts if t not in self._table})
        if missing:
            try:
                encoder = self.encoder()
            except BackendError:
                if not all(_base_label(t) in self._table for t in missing):
                    raise
                warnings.warn(
                    f"text encoder {self.encoder_name!r} is not available: using the stored embeddings of "
                    + ", ".join(f"{_base_label(t)!r} for {t!r}" for t in missing),
                    stacklevel=3,
                )
                return np.stack([self._table.get(t, self._table.get(_base_label(t))) for t in texts])
            vectors = encoder.encode(missing)
            self._table.update(zip(missing, vectors.astype(np.float32)))
        if not texts:
            return np.zeros((0, EMBED_DIM), np.float32)
        return np.stack([self._table[t] for t in texts])

    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = encoder_by_name(self.encoder_name)
        return self._encoder

    def as_arrays(self) -> tuple[list[str], np.ndarray]:
        """The table as (texts, float32 [N, EMBED_DIM]) for saving."""
        texts = self.texts
        return texts, self.matrix(texts)


def _base_label(text: str) -> str:
    """A label without its parenthesised qualifier: "smile (posed)" -> "smile"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", text).strip()


def encoder_by_name(name: str) -> TextEncoder:
    """The text encoder whose ``.name`` is ``name`` (as recorded in weights metadata)."""
    from ..errors import WeightsError
    from ..text_encoder import HASH_NAME, MINILM_NAME, get_text_encoder

    if name == HASH_NAME:
        return get_text_encoder("hash")
    if name == MINILM_NAME:
        try:
            return get_text_encoder("minilm")
        except (BackendError, ImportError, OSError) as exc:
            raise BackendError(
                f"these weights were trained with the text encoder {name!r}, which cannot be loaded here ({exc}); "
                "install it with `pip install tbd[text]` (needs torch), or only use emotions and AUs the weights "
                "already know"
            ) from exc
    raise WeightsError(f"the weights name an unknown text encoder {name!r}; known: {HASH_NAME!r}, {MINILM_NAME!r}")


def au_text(channel: str) -> str:
    """The muscle description embedded in an AU's local token."""
    from ..emotion.aus import au_description

    return au_description(channel)


def span_text(label: str) -> str:
    """The text embedded in an emotion span's global token."""
    return label.strip().lower()


def _peaks(plan: EmotionPlan) -> dict[str, float]:
    """Peak target per AU over the plan (its ``aus`` and every keyframe)."""
    peak = {name: float(v) for name, v in plan.aus.items()}
    for key in plan.keyframes:
        for name, v in key.aus.items():
            peak[name] = max(peak.get(name, 0.0), float(v))
    return peak


def local_channels(plan: EmotionPlan) -> tuple[str, ...]:
    """The AU channels the plan asks for (peak target >= ACTIVE_THRESHOLD), in channel order."""
    peak = _peaks(plan)
    return tuple(n for n in ch.AU_CHANNELS if peak.get(n, 0.0) >= ACTIVE_THRESHOLD)


def governed_channels(plan: EmotionPlan, scope: str = "planned") -> tuple[str, ...]:
    """The AU channels the local condition and ``M`` cover under ``scope`` (``LOCAL_SCOPES``), in channel order."""
    if scope not in LOCAL_SCOPES:
        raise ValueError(f"local scope must be one of {LOCAL_SCOPES}, got {scope!r}")
    names = set(local_channels(plan))
    if scope == "expression":
        names |= set(EXPRESSION_CHANNELS)
    return tuple(n for n in ch.AU_CHANNELS if n in names)


def plan_texts(plan: EmotionPlan) -> list[str]:
    """Every text ``build_conditions`` will embed for ``plan`` (to prefill a table)."""
    return [span_text(e.label) for e in plan.emotions] + [au_text(n) for n in local_channels(plan)]


def local_targets(plan: EmotionPlan, n_frames: int, motion_mean: np.ndarray, motion_std: np.ndarray,
                  fps: float = 25.0, scope: str = "planned") -> np.ndarray:
    """``frame_local`` over the ``n_frames`` frames of a clip (normalised plan times span the clip)."""
    return frame_local(plan, np.arange(n_frames) / float(fps), clip_duration(n_frames, fps), motion_mean, motion_std,
                       scope=scope)


def frame_local(plan: EmotionPlan, times: np.ndarray, duration: float | None, motion_mean: np.ndarray,
                motion_std: np.ndarray, targets: np.ndarray | None = None, scope: str = "planned",
                names: Iterable[str] | None = None) -> np.ndarray:
    """The local condition per frame, float32 ``[len(times), 2·N_AU]``: the plan's AU targets
    at ``times`` (seconds) on the channels governed under ``scope``, normalised like the motion
    (0 on other channels), then the 0/1 mask of those channels. ``targets`` (``[len(times), N_AU]``)
    replaces the plan's own curves and ``names`` the governed channels (a live session's
    cross-faded targets)."""
    names = governed_channels(plan, scope) if names is None else tuple(names)
    n_au = len(ch.AU_CHANNELS)
    out = np.zeros((len(times), 2 * n_au), np.float32)
    if names:
        cols = [ch.AU_CHANNELS.index(n) for n in names]
        motion_cols = ch.indices(names)
        mean = np.asarray(motion_mean, np.float32)[motion_cols]
        std = np.asarray(motion_std, np.float32)[motion_cols]
        curves = plan.au_at(times, duration) if targets is None else targets
        out[:, cols] = (curves[:, cols] - mean) / std
        out[:, [n_au + c for c in cols]] = 1.0
    return out


def frame_global(plan: EmotionPlan, times: np.ndarray, duration: float | None,
                 embeddings: EmbeddingTable) -> np.ndarray:
    """The global condition per frame, float32 ``[len(times), GLOBAL_DIM]``: the sum of the
    embeddings of the emotion spans active at each time (seconds), weighted by intensity,
    then the total intensity."""
    out = np.zeros((len(times), GLOBAL_DIM), np.float32)
    spans = [i for i, e in enumerate(plan.emotions) if e.intensity > 0 and e.label.strip()]
    if not spans:
        return out
    weights = plan.span_weights(times, duration)[:, spans]
    vectors = embeddings.matrix([span_text(plan.emotions[i].label) for i in spans])
    out[:, :EMBED_DIM] = weights @ vectors
    out[:, EMBED_DIM] = weights.sum(1)
    return out


def clip_global(plan: EmotionPlan, n_frames: int, embeddings: EmbeddingTable, fps: float = 25.0) -> np.ndarray:
    """``frame_global`` over the ``n_frames`` frames of a clip."""
    return frame_global(plan, np.arange(n_frames) / float(fps), clip_duration(n_frames, fps), embeddings)


def build_conditions(plan: EmotionPlan, embeddings: EmbeddingTable, scope: str = "planned") -> Conditions:
    """The condition tokens of ``plan`` and its channel mask under ``scope`` (``LOCAL_SCOPES``)."""
    tokens = np.zeros((N_TOKENS, TOKEN_DIM), np.float32)
    valid = np.zeros(N_TOKENS, bool)
    groups = np.full(N_TOKENS, GROUP_NULL, np.int8)
    tokens[0, _TYPE + GROUP_NULL] = 1.0
    valid[0] = True

    spans = [e for e in plan.emotions if e.intensity > 0 and e.label.strip()]
    spans = sorted(spans, key=lambda e: -e.intensity)[:MAX_SPANS]
    spans = sorted(spans, key=lambda e: e.start)
    span_vectors = embeddings.matrix([span_text(e.label) for e in spans])
    for i, (span, vector) in enumerate(zip(spans, span_vectors)):
        row = 1 + i
        tokens[row, _TYPE + GROUP_GLOBAL] = 1.0
        tokens[row, _TEXT : _TEXT + EMBED_DIM] = vector
        tokens[row, _SPAN] = float(np.clip(span.intensity, 0, 1))
        valid[row], groups[row] = True, GROUP_GLOBAL

    names = local_channels(plan)
    channel_mask = np.zeros(ch.N_CHANNELS, np.float32)
    channel_mask[ch.indices(governed_channels(plan, scope))] = 1.0
    if names:
        peak = _peaks(plan)
        au_vectors = embeddings.matrix([au_text(n) for n in names])
        for i, (name, vector) in enumerate(zip(names, au_vectors)):
            row, col = 1 + MAX_SPANS + i, ch.AU_CHANNELS.index(name)
            tokens[row, _TYPE + GROUP_LOCAL] = 1.0
            tokens[row, _TEXT : _TEXT + EMBED_DIM] = vector
            tokens[row, _AU + col] = 1.0
            tokens[row, _PEAK] = peak.get(name, 0.0)
            valid[row], groups[row] = True, GROUP_LOCAL
    return Conditions(tokens, valid, groups, channel_mask, names)
