"""Train the DRAW denoiser: EDM loss, independent dropout of g and L, EMA, resume, DDP.

    from tbd.training import TrainConfig, train
    result = train(TrainConfig(data=["corpus/"], out="draw.safetensors", steps=3000))

``out`` receives the inference checkpoint (EMA weights, embedding table, metadata);
``<out stem>.state.safetensors`` the full training state (raw weights, EMA, AdamW moments)
for ``resume``; ``<out stem>.log.jsonl`` one JSON line per logged step. Under ``torchrun``
(WORLD_SIZE > 1) each process trains on its own random windows and DDP averages gradients
(gloo on CPU, nccl on CUDA); rank 0 writes the files.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import WeightsError
from ..generator.checkpoint import ARTICULATION_FEATURES, ModelMeta, load_checkpoint, save_checkpoint
from ..generator.conditions import EmbeddingTable, au_text, encoder_by_name, span_text
from ..generator.diffusion import build_model
from ..generator.model import DenoiserConfig, MotionDenoiser
from ..motion import channels as ch
from ..text_encoder import get_text_encoder
from ..articulation.coarticulation import N_ARTICULATION_FEATURES
from .dataset import Clip, SamplerConfig, WindowSampler, corpus_texts, motion_stats

STATE_SUFFIX = ".state.safetensors"
LOG_SUFFIX = ".log.jsonl"


@dataclass
class TrainConfig:
    """Settings of one training run (every field has a ``tbd train`` flag)."""

    data: list[str]
    out: str
    steps: int = 3000
    batch_size: int = 16
    lr: float = 4e-4
    warmup: int = 200
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    p_mean: float = -1.0
    p_std: float = 1.4
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    ffn_mult: int = 3
    window: int = 100
    overlap: int = 12
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    text_encoder: str = "auto"
    seed: int = 0
    log_every: int = 25
    save_every: int = 500
    max_minutes: float | None = None
    resume: str | None = None
    threads: int | None = None
    articulation: bool = True
    """Condition on the utterance's articulation (visemes) when the data has it."""
    local_scope: str = "planned"
    """What the local condition governs (``tbd.generator.conditions.LOCAL_SCOPES``): "planned" as the bundled
    draw-v4 was trained; "expression" keeps DRAW to the plan but renders less emotion today (RESULTS, draw-v5)."""
    command: str = ""

    def model_config(self, n_audio: int) -> DenoiserConfig:
        return DenoiserConfig(n_audio=n_audio, d_model=self.d_model, n_layers=self.n_layers,
                              n_heads=self.n_heads, ffn_mult=self.ffn_mult)


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    elapsed_s: float
    final_loss: float
    losses: list[dict[str, float]]
    param_checksum: float
    rank: int = 0
    rank_checksums: list[float] = field(default_factory=list)
    """Every rank's parameter checksum, gathered on all ranks (one entry without DDP)."""


def state_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name.removesuffix(".safetensors") + STATE_SUFFIX)


def log_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name.removesuffix(".safetensors") + LOG_SUFFIX)


def load_training_data(paths: list[str]) -> list[Clip]:
    """Training clips from built-in corpora (folders with corpus.json) and real-data folders."""
    from .dataset import load_corpus
    from .realdata import load_real_clips

    clips: list[Clip] = []
    for p in paths:
        clips += load_corpus(p, "train") if (Path(p) / "corpus.json").is_file() else load_real_clips(p)
    return clips


LABEL_QUALIFIERS = ("posed", "held back")
"""Qualifiers tbd.think adds to emotion labels ("smile (posed)")."""


def known_texts() -> list[str]:
    """Texts every checkpoint's embedding table holds: emotion names (plain and with the
    qualifiers think adds) and AU descriptions, so that plans from the rules reasoner need no
    text encoder at run time."""
    from ..emotion.prototypes import MEAD_EMOTIONS, PROTOTYPES

    names = set(PROTOTYPES) | set(MEAD_EMOTIONS)
    labels = names | {f"{n} ({q})" for n in names for q in LABEL_QUALIFIERS}
    return sorted({span_text(n) for n in labels} | {au_text(c) for c in ch.AU_CHANNELS})


def add_embeddings(path: str | Path, texts: list[str] | None = None) -> int:
    """Add the embeddings of ``texts`` (default: ``known_texts()``) to a checkpoint's table, with
    the encoder it was trained with; returns how many were added. The weights are unchanged."""
    ckpt = load_checkpoint(path)
    table = EmbeddingTable(ckpt.meta.text_encoder, dict(zip(ckpt.meta.embedding_texts, ckpt.embeddings)))
    before = len(table.texts)
    table.matrix(texts if texts is not None else known_texts())
    names, vectors = table.as_arrays()
    if len(names) == before:
        return 0
    ckpt.meta.embedding_texts = names
    save_checkpoint(path, ckpt.tensors, ckpt.meta, vectors)
    return len(names) - before


def lr_at(step: int, cfg: TrainConfig, time_fraction: float = 0.0) -> float:
    """Linear warmup, then cosine decay to ``min_lr_ratio``, over the steps or, when a wall-time
    limit binds first, over the time (``time_fraction`` of ``max_minutes`` used)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, max((step - cfg.warmup) / max(1, cfg.steps - cfg.warmup), time_fraction))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def edm_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor], cfg: TrainConfig,
             gen: torch.Generator) -> torch.Tensor:
    """EDM loss (Karras et al. 2022) over the frames that are not given as context."""
    x0 = batch["x0"]
    b = x0.shape[0]
    log_sigma = cfg.p_mean + cfg.p_std * torch.randn(b, generator=gen)
    sigma = log_sigma.exp().to(x0.device)
    noise = torch.randn(x0.shape, generator=gen).to(x0.device)
    x = x0 + sigma.view(-1, 1, 1) * noise
    denoised = model(x, sigma, batch["audio"], batch["positions"], batch["context"], batch["context_mask"],
                     batch["local"], batch["glob"], batch["tokens"], batch["token_mask"])
    sd = 1.0
    weight = ((sigma**2 + sd**2) / (sigma * sd) ** 2).view(-1, 1, 1)
    mask = batch["loss_mask"].unsqueeze(-1) * batch["loss_channels"].unsqueeze(1)
    return (weight * (denoised - x0) ** 2 * mask).sum() / mask.sum().clamp(min=1.0)


class Ema:
    """Exponential moving average of parameters, with the usual warm-up of the decay."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
            else:
                self.shadow[k].copy_(v)


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


def _optimizer_tensors(opt: torch.optim.Optimizer, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """AdamW moments and step counts as named tensors (safetensors holds no pickled state)."""
    out = {}
    for name, p in model.named_parameters():
        state = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in state:
                out[f"train.opt.{key}.{name}"] = state[key]
        if "step" in state:
            out[f"train.opt.step.{name}"] = torch.as_tensor(state["step"], dtype=torch.float32).reshape(1)
    return out


def _restore_optimizer(opt: torch.optim.Optimizer, model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    for name, p in model.named_parameters():
        if f"train.opt.exp_avg.{name}" in tensors:
            opt.state[p] = {
                "step": torch.tensor(float(tensors[f"train.opt.step.{name}"][0])),
                "exp_avg": tensors[f"train.opt.exp_avg.{name}"].clone(),
                "exp_avg_sq": tensors[f"train.opt.exp_avg_sq.{name}"].clone(),
            }


def train(cfg: TrainConfig, clips: list[Clip] | None = None) -> TrainResult:
    """Run training as configured; returns where the checkpoint went and the losses."""
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    rank, world = _distributed()
    started = time.perf_counter()
    clips = clips if clips is not None else load_training_data(cfg.data)
    if not clips:
        raise WeightsError("no training clips found in " + ", ".join(cfg.data))
    articulation = cfg.articulation and any(c.articulations for c in clips)
    n_audio = clips[0].audio.shape[1] + (N_ARTICULATION_FEATURES if articulation else 0)

    resume_ckpt = None
    if cfg.resume:
        resume_path = Path(cfg.resume)
        if not resume_path.name.endswith(STATE_SUFFIX) and state_path(resume_path).is_file():
            resume_path = state_path(resume_path)
        resume_ckpt = load_checkpoint(resume_path)
        meta = resume_ckpt.meta
        if meta.config.get("n_audio") != n_audio or bool(meta.articulation) != articulation:
            raise WeightsError(f"{resume_path}: trained on {meta.config.get('n_audio')} audio features, "
                               f"the data has {n_audio}")
        encoder = encoder_by_name(meta.text_encoder)
        mean, std = np.asarray(meta.motion_mean, np.float32), np.asarray(meta.motion_std, np.float32)
        model = build_model(meta, resume_ckpt.section("train.raw") or resume_ckpt.section("model"), str(resume_path))
        model_cfg = model.cfg
        start_step = int(meta.training.get("step", 0))
        history = list(meta.training.get("losses", []))
        elapsed_before = float(meta.training.get("elapsed_s", 0.0))
        local_scope = meta.local_scope
    else:
        local_scope = cfg.local_scope
        encoder = get_text_encoder(cfg.text_encoder)
        mean, std = motion_stats(clips)
        torch.manual_seed(cfg.seed)
        model_cfg = cfg.model_config(n_audio)
        model = MotionDenoiser(model_cfg)
        start_step, history, elapsed_before = 0, [], 0.0

    embeddings = EmbeddingTable(encoder.name, None, encoder)
    embeddings.matrix(known_texts() + corpus_texts(clips))
    model.train()
    model.attention_backend = "sdpa"
    ema = Ema(model, cfg.ema_decay)
    if resume_ckpt is not None:
        ema.shadow = {k: v.clone() for k, v in resume_ckpt.section("model").items()}
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": cfg.weight_decay}, {"params": others, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.99),
    )
    if resume_ckpt is not None:
        _restore_optimizer(opt, model, resume_ckpt.tensors)

    sampler = WindowSampler(clips, embeddings, mean, std, dataclasses.replace(cfg.sampler, window=cfg.window),
                            seed=cfg.seed * 1000 + rank + 7919 * start_step, articulation=articulation,
                            local_scope=local_scope)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + rank + 7919 * start_step + 1)

    meta = ModelMeta(
        config=model_cfg.to_dict(), text_encoder=encoder.name, motion_mean=mean.tolist(), motion_std=std.tolist(),
        window=cfg.window, overlap=cfg.overlap, articulation=ARTICULATION_FEATURES if articulation else "",
        local_scope=local_scope,
    )
    logfile = log_path(cfg.out)
    running, step, loss_value = [], start_step, float("nan")
    deadline = None if cfg.max_minutes is None else started + 60.0 * cfg.max_minutes

    def save(final: bool) -> None:
        if rank != 0:
            return
        texts, vectors = embeddings.as_arrays()
        meta.embedding_texts = texts
        meta.training = {
            "step": step, "elapsed_s": round(elapsed_before + time.perf_counter() - started, 1),
            "losses": history, "command": cfg.command, "world_size": world, "batch_size": cfg.batch_size,
            "clips": len(clips), "takes": sum(len(c.motions) for c in clips),
            "parameters": model.n_parameters(), "final": final,
        }
        save_checkpoint(cfg.out, {"model." + k: v for k, v in ema.shadow.items()}, meta, vectors)
        state = {"model." + k: v for k, v in ema.shadow.items()}
        state.update({"train.raw." + k: v for k, v in model.state_dict().items()})
        state.update(_optimizer_tensors(opt, model))
        save_checkpoint(state_path(cfg.out), state, meta, vectors)

    while step < cfg.steps:
        if deadline is not None and time.perf_counter() > deadline:
            break
        used = 0.0 if deadline is None else (time.perf_counter() - started) / (deadline - started)
        lr = lr_at(step, cfg, used)
        for group in opt.param_groups:
            group["lr"] = lr
        batch = {k: torch.from_numpy(v) for k, v in sampler.batch(cfg.batch_size).items()}
        loss = edm_loss(net, batch, cfg, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        ema.update(model, step)
        step += 1
        loss_value = float(loss.detach())
        running.append(loss_value)
        if step % cfg.log_every == 0 or step == cfg.steps:
            record = {"step": step, "loss": float(np.mean(running)), "lr": lr,
                      "elapsed_s": round(elapsed_before + time.perf_counter() - started, 1)}
            running = []
            history.append(record)
            if rank == 0:
                print(json.dumps(record), flush=True)
                with open(logfile, "a") as f:
                    f.write(json.dumps(record) + "\n")
        if cfg.save_every and step % cfg.save_every == 0 and step < cfg.steps:
            save(final=False)
    if running:  # stopped by the time limit between two log steps: record the last losses too
        history.append({"step": step, "loss": float(np.mean(running)), "lr": lr_at(step - 1, cfg),
                        "elapsed_s": round(elapsed_before + time.perf_counter() - started, 1)})
    save(final=True)
    # The DDP wrapper's reducer holds gloo work; freed here, not at interpreter exit after the
    # process group is gone (a std::terminate at exit otherwise).
    del net
    gc.collect()
    checksum = float(sum(p.detach().double().sum() for p in model.parameters()))
    rank_checksums = [checksum]
    if world > 1:
        # Gathered so that one process reports for all: ranks printing to a shared pipe interleave.
        rank_checksums = [0.0] * world
        torch.distributed.all_gather_object(rank_checksums, checksum)
    final = history[-1]["loss"] if history else loss_value
    return TrainResult(Path(cfg.out), step, elapsed_before + time.perf_counter() - started, final, history,
                       checksum, rank, rank_checksums)


def main_from_args(cfg: TrainConfig) -> int:
    """Entry point of ``tbd train`` (works under torchrun)."""
    result = train(cfg)
    if result.rank == 0:  # one summary line for all ranks
        print(json.dumps({"rank": result.rank, "world_size": len(result.rank_checksums), "steps": result.steps,
                          "final_loss": result.final_loss, "param_checksum": result.param_checksum,
                          "rank_checksums": result.rank_checksums, "elapsed_s": round(result.elapsed_s, 1),
                          "checkpoint": str(result.checkpoint)}), flush=True)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # Every rank reaches the barrier before any tears down: a rank that closed its gloo pairs
        # while the other was still in a collective made the other abort at exit (CI, 1 run in ~10).
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    sys.stdout.flush()
    return 0

