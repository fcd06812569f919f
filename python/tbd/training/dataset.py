"""Training data for DRAW: clips (audio features + motion + plan) and the window sampler.

A ``Clip`` holds one utterance's audio features and one or more *takes*: motion curves with
the EmotionPlan that produced them (the built-in corpus pairs each utterance with several
plans; real data has one take per clip). ``WindowSampler`` cuts random windows out of takes,
adds the previous-window context and the condition dropout that makes the three guidance
branches, and returns numpy batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..articulation.coarticulation import N_ARTICULATION_FEATURES
from ..errors import TbdError
from ..generator.checkpoint import AUDIO_FEATURES
from ..generator.conditions import EmbeddingTable, build_conditions, clip_global, local_targets, plan_texts
from ..motion import channels as ch
from ..plan import EmotionPlan

CORPUS_FORMAT = "tbd-corpus"
CORPUS_VERSION = 1


class DataError(TbdError):
    """Training data is missing or malformed."""


@dataclass
class Clip:
    """One utterance: audio features ``[T, F]`` and takes of (motion ``[T, C]``, plan)."""

    id: str
    audio: np.ndarray
    motions: list[np.ndarray]
    plans: list[EmotionPlan]
    split: str = "train"
    info: dict = field(default_factory=dict)
    observed: np.ndarray | None = None  # bool [C]: channels the data really gives (None = all)
    articulations: list[np.ndarray] = field(default_factory=list)
    """Articulation features ``[T, 16]`` of the utterance (from its transcript, from its audio);
    a training window takes one of them at random (``tbd.articulation``)."""

    def __post_init__(self) -> None:
        self.observed = (np.ones(ch.N_CHANNELS, bool) if self.observed is None
                         else np.asarray(self.observed, bool).reshape(ch.N_CHANNELS))
        if len(self.motions) != len(self.plans) or not self.motions:
            raise DataError(f"clip {self.id}: needs as many plans as motion takes (at least one)")
        for m in self.motions:
            if m.shape != (self.audio.shape[0], ch.N_CHANNELS):
                raise DataError(
                    f"clip {self.id}: motion shape {m.shape} does not match audio frames "
                    f"{self.audio.shape[0]} x {ch.N_CHANNELS} channels"
                )

    @property
    def n_frames(self) -> int:
        return int(self.audio.shape[0])


def load_corpus(root: str | Path, split: str | None = "train") -> list[Clip]:
    """Clips of a corpus written by ``tbd corpus`` (``split=None`` for all)."""
    root = Path(root)
    index_path = root / "corpus.json"
    if not index_path.is_file():
        raise DataError(f"{root}: not a tbd corpus (no corpus.json); make one with `tbd corpus -o {root}`")
    index = json.loads(index_path.read_text())
    if index.get("format") != CORPUS_FORMAT or index.get("version") != CORPUS_VERSION:
        raise DataError(f"{root}: corpus format {index.get('format')} v{index.get('version')} is not supported")
    if index.get("audio_features") != AUDIO_FEATURES:
        raise DataError(
            f"{root}: made with audio features {index.get('audio_features')!r}, this tbd computes "
            f"{AUDIO_FEATURES!r}; regenerate the corpus"
        )
    clips = []
    for entry in index["clips"]:
        if split is not None and entry["split"] != split:
            continue
        clips.append(read_clip(root / "clips", entry["id"], entry["split"]))
    return clips


def read_clip(folder: Path, clip_id: str, split: str) -> Clip:
    info = json.loads((folder / f"{clip_id}.json").read_text())
    with np.load(folder / f"{clip_id}.npz") as data:
        audio = data["audio"].astype(np.float32)
        motions = [m.astype(np.float32) for m in data["motion"]]
        arts = [data[k].astype(np.float32) for k in ("articulation_transcript", "articulation_audio") if k in data.files]
    plans = [EmotionPlan.from_dict(t["plan"]) for t in info["takes"]]
    return Clip(clip_id, audio, motions, plans, split, info, articulations=arts)


def motion_stats(
    clips: list[Clip], std_floor: float = 0.05, au_std_floor: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over every take. The std is floored (AUs at ``au_std_floor``)
    so that rarely used AUs do not become huge, heavy-tailed values after normalisation."""
    stacked = np.concatenate([m for c in clips for m in c.motions], axis=0).astype(np.float64)
    floor = np.full(ch.N_CHANNELS, std_floor)
    floor[ch.indices(ch.AU_CHANNELS)] = au_std_floor
    return stacked.mean(0).astype(np.float32), np.maximum(stacked.std(0), floor).astype(np.float32)


def corpus_texts(clips: list[Clip]) -> list[str]:
    """Every text the clips' conditions embed."""
    return sorted({t for c in clips for p in c.plans for t in plan_texts(p)})


@dataclass(frozen=True)
class SamplerConfig:
    window: int = 100
    min_window: int = 48
    p_full_window: float = 0.6
    p_context: float = 0.5
    max_context: int = 40
    p_drop_global: float = 0.2
    p_drop_local: float = 0.2
    p_stream: float = 0.2
    """Share of batches shaped like a live session's blocks: ``stream_context`` known frames
    followed by ``stream_new`` frames to generate (docs/architecture.md, "Streaming")."""
    stream_context: tuple[int, int] = (0, 32)
    stream_new: tuple[int, int] = (1, 6)


class WindowSampler:
    """Random training windows with context frames and condition dropout."""

    def __init__(
        self,
        clips: list[Clip],
        embeddings: EmbeddingTable,
        mean: np.ndarray,
        std: np.ndarray,
        config: SamplerConfig = SamplerConfig(),
        seed: int = 0,
        articulation: bool = False,
        local_scope: str = "planned",
    ) -> None:
        if not clips:
            raise DataError("no training clips")
        self.clips = clips
        self.embeddings = embeddings
        self.mean, self.std = mean.astype(np.float32), std.astype(np.float32)
        self.config = config
        self.articulation = articulation  # append an articulation to the audio rows
        self.local_scope = local_scope
        self.rng = np.random.default_rng(seed)
        lengths = np.array([c.n_frames for c in clips], dtype=np.float64)
        self._weights = lengths / lengths.sum()

    def batch(self, batch_size: int) -> dict[str, np.ndarray]:
        """x0 (normalised motion), conditioning inputs and ``loss_mask``; one window length per batch."""
        cfg, rng = self.config, self.rng
        chosen = [self.clips[i] for i in rng.choice(len(self.clips), size=batch_size, p=self._weights)]
        shortest = min(cfg.min_window, cfg.window)
        stream_known, streaming = 0, rng.random() < cfg.p_stream
        if streaming:
            stream_known = int(rng.integers(cfg.stream_context[0], cfg.stream_context[1] + 1))
            length = stream_known + int(rng.integers(cfg.stream_new[0], cfg.stream_new[1] + 1))
        else:
            length = cfg.window if rng.random() < cfg.p_full_window else int(rng.integers(shortest, cfg.window + 1))
        # One length per batch, no longer than its shortest clip (no padded frames to attend to).
        length = min(length, min(c.n_frames for c in chosen))
        stream_known = min(stream_known, length - 1)
        out: dict[str, list[np.ndarray]] = {k: [] for k in (
            "x0", "audio", "positions", "context", "context_mask", "local", "glob", "tokens", "token_mask",
            "loss_mask", "loss_channels")}
        for clip in chosen:
            take = int(rng.integers(len(clip.motions)))
            n = clip.n_frames
            span = length
            start = int(rng.integers(0, n - span + 1))
            motion = (clip.motions[take] - self.mean) / self.std
            x0 = np.zeros((length, ch.N_CHANNELS), np.float32)
            rows = clip.audio
            if self.articulation:
                art = (clip.articulations[int(rng.integers(len(clip.articulations)))] if clip.articulations
                       else np.zeros((n, N_ARTICULATION_FEATURES), np.float32))
                rows = np.concatenate([rows, art], axis=1)
            audio = np.zeros((length, rows.shape[1]), np.float32)
            x0[:span] = motion[start : start + span]
            audio[:span] = rows[start : start + span]
            positions = (np.arange(length) / 100.0)[:, None]
            known = stream_known
            if not streaming and span > 8 and rng.random() < cfg.p_context:
                known = int(rng.integers(1, min(cfg.max_context, span - 4) + 1))
            context_mask = np.zeros(length, np.float32)
            context_mask[:known] = 1.0
            loss_mask = np.zeros(length, np.float32)
            loss_mask[known:span] = 1.0
            cond = build_conditions(clip.plans[take], self.embeddings, self.local_scope)
            keep_global = rng.random() >= cfg.p_drop_global
            keep_local = rng.random() >= cfg.p_drop_local
            out["x0"].append(x0)
            out["audio"].append(audio)
            out["positions"].append(positions.astype(np.float32))
            out["context"].append(x0 * context_mask[:, None])
            out["context_mask"].append(context_mask)
            local = local_targets(clip.plans[take], n, self.mean, self.std, scope=self.local_scope)[start : start + span] * float(keep_local)
            out["local"].append(local)
            glob = clip_global(clip.plans[take], n, self.embeddings)[start : start + span] * float(keep_global)
            out["glob"].append(glob)
            out["tokens"].append(cond.tokens)
            out["token_mask"].append(cond.token_mask(keep_global, keep_local))
            out["loss_mask"].append(loss_mask)
            out["loss_channels"].append(clip.observed.astype(np.float32))
        return {k: np.stack(v) for k, v in out.items()}
