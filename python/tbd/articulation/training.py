"""Training the viseme classifier on the built-in corpus (``tbd train-visemes``).

Labels: each frame's viseme from the corpus's forced-aligned phones (the phone under the
frame's midpoint; silence between phones). Inputs are augmented so unseen voices and
synthesisers read alike: a level shift, a spectral tilt and a shift of the mel bands by up
to two bands (a crude vocal-tract-length change). Future rows are dropped at random (as in a
live block, where the frame's later audio has not arrived). Needs torch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .align import Segment
from .audio_model import VisemeClassifier, VisemeModelConfig, window_inputs
from .visemes import N_VISEMES, VISEME_INDEX, phone_viseme


@dataclass(frozen=True)
class VisemeTrainConfig:
    """What ``train_visemes`` does."""

    epochs: int = 12
    batch_size: int = 512
    lr: float = 2e-3
    weight_decay: float = 1e-4
    p_partial_future: float = 0.5   # share of examples with 0..ahead-1 future rows
    level_shift: float = 0.4        # normalised log-mel units (x4 in natural log)
    tilt: float = 0.3               # max change across the mel range
    band_shift: int = 2
    class_weights: tuple[tuple[str, float], ...] = ()
    """Loss weight per viseme name (others 1), e.g. (("PP", 2.0),): a missed closure costs more than a
    vowel mistaken for its neighbour."""
    seed: int = 0


def _loss_weights(cfg: VisemeTrainConfig) -> np.ndarray:
    """float32 ``[N_VISEMES]``: the cross-entropy weight of each viseme class."""
    weights = np.ones(N_VISEMES, np.float32)
    for name, weight in cfg.class_weights:
        if name not in VISEME_INDEX:
            raise ValueError(f"class_weights: unknown viseme {name!r} (one of {sorted(VISEME_INDEX)})")
        weights[VISEME_INDEX[name]] = weight
    return weights


def frame_labels(phones: list[Segment], n_frames: int, fps: float) -> np.ndarray:
    """int64 ``[n_frames]``: the viseme under each frame's midpoint (0 = silence)."""
    labels = np.zeros(n_frames, np.int64)
    t = (np.arange(n_frames) + 0.5) / fps
    for p in phones:
        v = VISEME_INDEX[phone_viseme(p.label)]
        labels[(t >= p.start) & (t < p.end)] = v
    return labels


def load_examples(corpus: str | Path, split: str) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(audio rows, labels, voice) per aligned clip of ``split``."""
    corpus = Path(corpus)
    index = json.loads((corpus / "corpus.json").read_text())
    fps = float(index["fps"])
    out = []
    for clip in index["clips"]:
        if clip["split"] != split:
            continue
        info = json.loads((corpus / "clips" / f"{clip['id']}.json").read_text())
        if not info.get("phones"):
            continue
        with np.load(corpus / "clips" / f"{clip['id']}.npz", allow_pickle=False) as d:
            rows = d["audio"].astype(np.float32)
        phones = [Segment(p["label"], p["start"], p["end"]) for p in info["phones"]]
        out.append((rows, frame_labels(phones, len(rows), fps), info["voice"]["name"]))
    return out


def _augment(rows: np.ndarray, rng: np.random.Generator, cfg: VisemeTrainConfig) -> np.ndarray:
    mel = rows[:, :-1]
    shift = int(rng.integers(-cfg.band_shift, cfg.band_shift + 1))
    if shift:
        mel = np.roll(mel, shift, axis=1)
        if shift > 0:
            mel[:, :shift] = mel[:, shift:shift + 1]
        else:
            mel[:, shift:] = mel[:, shift - 1:shift]
    ramp = np.linspace(-0.5, 0.5, mel.shape[1], dtype=np.float32)
    mel = mel + rng.uniform(-cfg.level_shift, cfg.level_shift) + rng.uniform(-cfg.tilt, cfg.tilt) * ramp
    return np.concatenate([mel, rows[:, -1:]], axis=1).astype(np.float32)


def _inputs(examples, model_cfg: VisemeModelConfig, cfg: VisemeTrainConfig, rng: np.random.Generator,
            augment: bool) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for rows, labels, _ in examples:
        r = _augment(rows, rng, cfg) if augment else rows
        x = window_inputs(r, model_cfg)
        if augment and model_cfg.ahead:
            # Some frames see only part of their future (a live block's later frames).
            partial = np.flatnonzero(rng.random(len(x)) < cfg.p_partial_future)
            for i in partial:
                k = int(rng.integers(0, model_cfg.ahead))
                x[i:i + 1] = window_inputs(r, model_cfg, available=i + 1 + k, first=i, count=1)
        xs.append(x)
        ys.append(labels)
    return np.concatenate(xs), np.concatenate(ys)


def accuracy(model: VisemeClassifier, examples) -> float:
    """Frame accuracy over ``examples`` (full lookahead)."""
    right = total = 0
    for rows, labels, _ in examples:
        pred = model.posteriors(rows).argmax(1)
        right += int((pred == labels).sum())
        total += len(labels)
    return right / max(total, 1)


def train_visemes(corpus: str | Path, out: str | Path, *, config: VisemeTrainConfig = VisemeTrainConfig(),
                  model_config: VisemeModelConfig = VisemeModelConfig(),
                  log: Callable[[str], None] = print) -> dict:
    """Train on the corpus's train split, report accuracy on its test split (all voices, and the
    voices training never heard), save to ``out``; returns the record stored with the weights."""
    import torch

    from ..training.speech import VOICES_HELD_OUT

    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    train = load_examples(corpus, "train")
    test = load_examples(corpus, "test")
    if not train:
        raise ValueError(f"{corpus}: no aligned training clips (make the corpus with pocketsphinx installed)")
    x0, _ = _inputs(train, model_config, config, rng, augment=False)
    mean, std = x0.mean(0), x0.std(0) + 1e-3
    net = torch.nn.Sequential(
        torch.nn.Linear(model_config.n_inputs, model_config.hidden), torch.nn.ReLU(),
        torch.nn.Linear(model_config.hidden, model_config.hidden), torch.nn.ReLU(),
        torch.nn.Linear(model_config.hidden, N_VISEMES))
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=config.epochs * (len(x0) // config.batch_size + 1))
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    class_weight = torch.from_numpy(_loss_weights(config))
    for epoch in range(config.epochs):
        x, y = _inputs(train, model_config, config, rng, augment=True)
        order = rng.permutation(len(x))
        total = 0.0
        for s in range(0, len(x), config.batch_size):
            b = order[s:s + config.batch_size]
            logits = net((torch.from_numpy(x[b]) - mean_t) / std_t)
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[b]), weight=class_weight,
                                                   label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched.last_epoch < sched.total_steps - 1:
                sched.step()
            total += float(loss.detach()) * len(b)
        log(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(x):.3f}")
    w = [p.detach().numpy().astype(np.float32) for p in net.parameters()]
    params = {"mean": mean, "std": std, "w1": w[0].T.copy(), "b1": w[1], "w2": w[2].T.copy(), "b2": w[3],
              "w3": w[4].T.copy(), "b3": w[5]}
    model = VisemeClassifier(params, model_config)
    held = [e for e in test if e[2] in VOICES_HELD_OUT]
    record = {
        "train_clips": len(train), "test_clips": len(test), "held_out_voice_clips": len(held),
        "accuracy_test": round(accuracy(model, test), 4),
        "accuracy_held_out_voices": round(accuracy(model, held), 4) if held else None,
        "minutes": round((time.perf_counter() - started) / 60, 1), "config": config.__dict__,
    }
    model.meta = {"training": record}
    model.save(out)
    log(f"wrote {out}: {json.dumps(record)}")
    return record
