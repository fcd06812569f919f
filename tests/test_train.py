"""DRAW training: the window sampler, the loop (EMA, resume, checkpoints), DDP, corpus and real data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import tbd  # noqa: E402
from tbd.generator.checkpoint import load_checkpoint  # noqa: E402
from tbd.generator.conditions import (  # noqa: E402
    EXPRESSION_CHANNELS,
    GROUP_GLOBAL,
    GROUP_LOCAL,
    EmbeddingTable,
    build_conditions,
)
from tbd.generator.diffusion import DiffusionGenerator  # noqa: E402
from tbd.generator.rig import RigGenerator  # noqa: E402
from tbd.generator.testing import example_plan, speechlike_features  # noqa: E402
from tbd.motion import channels as ch  # noqa: E402
from tbd.plan import EmotionPlan, EmotionSpan, Keyframe  # noqa: E402
from tbd.text_encoder import get_text_encoder  # noqa: E402
from tbd.training.dataset import CORPUS_FORMAT, Clip, SamplerConfig, WindowSampler, load_corpus, motion_stats  # noqa: E402
from tbd.training.trainer import TrainConfig, log_path, state_path, train  # noqa: E402

TINY = dict(d_model=32, n_layers=1, n_heads=2, ffn_mult=2, window=40, overlap=6, text_encoder="hash",
            batch_size=4, warmup=2, log_every=2)


def synthetic_clips(n: int = 5, seed: int = 0) -> list[Clip]:
    rng = np.random.default_rng(seed)
    clips = []
    for i in range(n):
        feats = speechlike_features(float(rng.uniform(2.0, 3.5)), seed=seed * 100 + i)
        plans = [example_plan(), EmotionPlan(text="angry", emotions=[EmotionSpan("angry", 0.7, 0, 1)],
                                             keyframes=[Keyframe(0, {"AU4": 0.6, "AU7": 0.4})])]
        motions = [RigGenerator().sample(p, feats, seed=i).values for p in plans]
        clips.append(Clip(f"c{i}", feats.matrix(), motions, plans))
    return clips


def write_corpus(folder: Path, clips: list[Clip]) -> Path:
    """The corpus layout of `tbd corpus`, written directly (no speech synthesis needed)."""
    from tbd.generator.checkpoint import AUDIO_FEATURES

    (folder / "clips").mkdir(parents=True)
    entries = []
    for c in clips:
        np.savez(folder / "clips" / f"{c.id}.npz", audio=c.audio, motion=np.stack(c.motions))
        info = {"id": c.id, "split": "train", "takes": [{"plan": p.to_dict(), "edits": []} for p in c.plans]}
        (folder / "clips" / f"{c.id}.json").write_text(json.dumps(info))
        entries.append({"id": c.id, "split": "train", "n_frames": c.n_frames, "takes": len(c.plans)})
    (folder / "corpus.json").write_text(json.dumps({"format": CORPUS_FORMAT, "version": 1, "fps": 25.0,
                                                    "audio_features": AUDIO_FEATURES, "clips": entries}))
    return folder


@pytest.fixture(scope="module")
def clips():
    return synthetic_clips()


# --- sampler -----------------------------------------------------------------------------------

def test_window_sampler_batches(clips):
    enc = get_text_encoder("hash")
    mean, std = motion_stats(clips)
    sampler = WindowSampler(clips, EmbeddingTable(enc.name, None, enc), mean, std,
                            SamplerConfig(window=40, min_window=20), seed=1)
    batch = sampler.batch(6)
    b, t, c = batch["x0"].shape
    assert b == 6 and 20 <= t <= 40 and c == ch.N_CHANNELS
    assert batch["audio"].shape == (6, t, tbd.audio.AudioFeatures.N_FEATURES)
    assert batch["tokens"].shape[:2] == batch["token_mask"].shape
    # Context frames are known and excluded from the loss; the rest is learned.
    known = batch["context_mask"]
    np.testing.assert_array_equal(batch["loss_mask"] + known, np.ones_like(known))
    np.testing.assert_allclose(batch["context"], batch["x0"] * known[..., None])
    # Normalised motion is O(1).
    assert np.abs(batch["x0"].mean()) < 1.0 and 0.2 < batch["x0"].std() < 3.0


def test_expression_scope_states_every_expression_au_in_the_local_condition(clips):
    enc = get_text_encoder("hash")
    table = EmbeddingTable(enc.name, None, enc)
    mean, std = motion_stats(clips)
    n_au = len(ch.AU_CHANNELS)
    expression_cols = [ch.AU_CHANNELS.index(n) for n in EXPRESSION_CHANNELS]
    for scope in ("planned", "expression"):
        sampler = WindowSampler(clips, table, mean, std, SamplerConfig(window=40, p_drop_local=0.0), seed=2,
                                local_scope=scope)
        mask = sampler.batch(8)["local"][..., n_au:]
        stated = mask[..., expression_cols].min() == 1.0
        assert stated == (scope == "expression")


@pytest.mark.parametrize("p_g,p_l", [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.5, 0.5)])
def test_global_and_local_tokens_drop_independently(clips, p_g, p_l):
    enc = get_text_encoder("hash")
    table = EmbeddingTable(enc.name, None, enc)
    mean, std = motion_stats(clips)
    sampler = WindowSampler(clips, table, mean, std,
                            SamplerConfig(window=40, p_drop_global=p_g, p_drop_local=p_l), seed=3)
    groups = build_conditions(example_plan(), table).groups
    seen = set()
    for _ in range(12):
        batch = sampler.batch(8)
        for mask in batch["token_mask"]:
            has_g = bool(mask[groups == GROUP_GLOBAL].any())
            has_l = bool(mask[groups == GROUP_LOCAL].any())
            assert mask[0]  # the null token is never dropped
            seen.add((has_g, has_l))
    expected = {(0.0, 0.0): {(True, True)}, (1.0, 0.0): {(False, True)}, (0.0, 1.0): {(True, False)},
                (0.5, 0.5): {(True, True), (True, False), (False, True), (False, False)}}[(p_g, p_l)]
    assert seen == expected


# --- the training loop ---------------------------------------------------------------------------

def test_train_writes_checkpoint_state_and_log_then_resumes(clips, tmp_path):
    out = tmp_path / "draw.safetensors"
    first = train(TrainConfig(data=[], out=str(out), steps=6, command="test", local_scope="expression", **TINY), clips)
    assert first.steps == 6 and np.isfinite(first.final_loss)
    assert out.is_file() and state_path(out).is_file() and log_path(out).is_file()
    ckpt = load_checkpoint(out)
    assert ckpt.meta.training["step"] == 6 and ckpt.meta.training["command"] == "test"
    assert ckpt.meta.local_scope == "expression"  # the scope is stored with the weights
    assert [r["step"] for r in ckpt.meta.training["losses"]] == [2, 4, 6]
    assert not any(k.startswith("train.") for k in ckpt.tensors)  # inference file: EMA weights only
    state = load_checkpoint(state_path(out))
    assert any(k.startswith("train.opt.exp_avg.") for k in state.tensors)
    motion = DiffusionGenerator(out).sample(example_plan(), speechlike_features(1.5), steps=3)
    assert motion.values.shape == (38, ch.N_CHANNELS)

    before = {k: v.clone() for k, v in state.section("train.raw").items()}
    resumed = train(TrainConfig(data=[], out=str(out), steps=10, resume=str(out), local_scope="planned", **TINY),
                    clips)
    assert resumed.steps == 10
    assert load_checkpoint(out).meta.local_scope == "expression"  # a resumed run keeps its scope
    again = load_checkpoint(state_path(out))
    assert [r["step"] for r in again.meta.training["losses"]] == [2, 4, 6, 8, 10]
    after = again.section("train.raw")
    assert max(float((after[k] - before[k]).abs().max()) for k in before) > 0
    # The moments were restored, not restarted: AdamW's step counter kept counting.
    step_keys = [k for k in again.tensors if k.startswith("train.opt.step.")]
    assert float(again.tensors[step_keys[0]][0]) == 10.0


def test_ema_lags_the_raw_weights(clips, tmp_path):
    out = tmp_path / "ema.safetensors"
    train(TrainConfig(data=[], out=str(out), steps=8, ema_decay=0.9, **TINY), clips)
    state = load_checkpoint(state_path(out))
    raw, ema = state.section("train.raw"), state.section("model")
    assert set(raw) == set(ema)
    assert max(float((raw[k] - ema[k]).abs().max()) for k in raw) > 1e-6


def test_cli_train_on_a_corpus_folder(clips, tmp_path):
    from tbd.cli import main

    corpus = write_corpus(tmp_path / "corpus", clips)
    assert len(load_corpus(corpus)) == len(clips)
    out = tmp_path / "cli.safetensors"
    code = main(["train", str(corpus), "-o", str(out), "--steps", "3", "--batch-size", "2", "--d-model", "32",
                 "--layers", "1", "--heads", "2", "--text-encoder", "hash", "--log-every", "1", "--warmup", "1"])
    assert code == 0 and out.is_file()
    meta = load_checkpoint(out).meta
    assert meta.training["command"].startswith("tbd train") and meta.training["step"] == 3


@pytest.mark.slow
def test_ddp_two_cpu_processes_stay_in_sync(clips, tmp_path):
    """torchrun with 2 processes on gloo: each samples its own windows, gradients are averaged,
    so both end with identical weights (and rank 0 writes the checkpoint)."""
    corpus = write_corpus(tmp_path / "corpus", clips)
    out = tmp_path / "ddp.safetensors"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "tbd.cli", "train", str(corpus), "-o", str(out), "--steps", "3", "--batch-size", "2",
           "--d-model", "32", "--layers", "1", "--heads", "2", "--text-encoder", "hash", "--log-every", "1",
           "--warmup", "1", "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    finals = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"rank"')]
    assert len(finals) == 1 and finals[0]["rank"] == 0 and finals[0]["world_size"] == 2
    first, second = finals[0]["rank_checksums"]
    assert first == finals[0]["param_checksum"]
    assert first == pytest.approx(second, rel=1e-9, abs=1e-9)
    meta = load_checkpoint(out).meta
    assert meta.training["world_size"] == 2 and meta.training["step"] == 3


# --- corpus and real data ------------------------------------------------------------------------

def test_corpus_generation_end_to_end(tmp_path):
    from tbd.training.corpus import CorpusConfig, make_corpus
    from tbd.training.speech import espeak_available

    if not espeak_available():
        pytest.fail("espeak-ng is needed to synthesise the corpus: apt-get install espeak-ng")
    out = make_corpus(tmp_path / "c", CorpusConfig(n_clips=2, takes=2, seed=5), progress=False, log=lambda s: None)
    clips = load_corpus(out)
    assert len(clips) == 2 and all(len(c.motions) == 2 for c in clips)
    for c in clips:
        assert c.audio.shape == (c.n_frames, tbd.audio.AudioFeatures.N_FEATURES)
        assert (out / "clips" / f"{c.id}.wav").is_file()
        assert c.info["text"] and c.info["voice"]["name"]
        # Both articulations are stored (transcript from the alignment, audio from the classifier).
        assert len(c.articulations) == 2 and all(a.shape == (c.n_frames, 16) for a in c.articulations)
        mouth = c.motions[0][:, ch.index("AU26")]
        assert mouth.max() > 0.05  # speech opens the jaw
    # Extending the same folder keeps the clips already there.
    make_corpus(out, CorpusConfig(n_clips=3, takes=2, seed=5), progress=False, log=lambda s: None)
    assert len(load_corpus(out)) == 3
    # Refreshing the motion keeps each take's plan and seed, so the rig remakes the same motion; asked for
    # more takes it adds new ones, the same on every run. (The refresh reads the speech back from its
    # 16-bit wav, so features differ from the float originals by about 1e-4.)
    from tbd.training.corpus import refresh_motion

    before = {c.id: c.motions for c in load_corpus(out)}
    assert refresh_motion(out, progress=False) == 3
    for c in load_corpus(out):
        np.testing.assert_allclose(np.stack(c.motions), np.stack(before[c.id]), atol=1e-3)
    refresh_motion(out, takes=3, progress=False)
    grown = load_corpus(out)
    assert all(len(c.motions) == 3 for c in grown)
    assert all(np.allclose(c.motions[0], before[c.id][0], atol=1e-3) for c in grown)
    first_new = {c.id: c.info["takes"][2] for c in grown}
    refresh_motion(out, takes=3, progress=False)
    assert {c.id: c.info["takes"][2] for c in load_corpus(out)} == first_new


def test_festival_speaks_for_the_corpus_at_the_rate_and_size_asked():
    from tbd.training.speech import Voice, festival_available, synthesize

    if not festival_available():
        pytest.fail("festival is needed for the corpus's second synthesiser: apt-get install festival festvox-kdlpc16k")
    text = "The old captain found a broken umbrella by the river."
    slow, rate = synthesize(text, Voice("festival:ked", 120, 50, 100))
    fast, _ = synthesize(text, Voice("festival:ked", 200, 50, 100))
    small, _ = synthesize(text, Voice("festival:ked", 120, 99, 100))  # a smaller speaker: played faster
    assert rate == 16000 and slow.dtype == np.float32 and np.abs(slow).max() <= 1.0
    assert 1.4 < len(slow) / len(fast) < 2.0  # 200 / 120 words per minute
    assert 0.88 < len(small) / len(slow) < 0.96
    sound = tbd.audio.load((slow, rate))
    assert tbd.audio.features(sound).loudness.max() > 0.5  # speech, not silence
    from tbd.training.corpus import FESTIVAL_SHARE, CorpusConfig, make_clip

    cfg = CorpusConfig(festival_share=FESTIVAL_SHARE, takes=1, align=False)
    voices = {make_clip(i, cfg, None)["info"]["voice"]["name"] for i in range(8)}
    assert "festival:ked" in voices and any(not v.startswith("festival:") for v in voices)


def test_local_edits_change_the_plan():
    from tbd.training.corpus import edit_plan

    rng = np.random.default_rng(0)
    base = example_plan()
    kinds = set()
    for _ in range(20):
        edited, edits = edit_plan(base, rng)
        assert 1 <= len(edits) <= 2
        kinds |= {e["op"] for e in edits}
        assert edited.au_curves(8).tolist() != base.au_curves(8).tolist() or all(
            e["op"] == "scale" and e["factor"] > 1 and base.aus.get(e["channel"], 0) >= 1 for e in edits)
    assert kinds == {"add", "scale", "remove"}


def _real_clip(folder: Path, seconds: float, motion_file: str, meta: dict) -> None:
    import soundfile as sf

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(folder / "audio.wav", (rng.standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32), 16000)
    (folder / "meta.json").write_text(json.dumps(meta))
    n = int(round(seconds * meta.get("fps", 25)))
    if motion_file == "aus.csv":
        rows = ["AU12L,AU12R,AU6"] + [f"{0.5 + 0.3 * np.sin(i / 5):.3f},0.6,0.3" for i in range(n)]
        (folder / "aus.csv").write_text("\n".join(rows))
    else:
        np.save(folder / "motion.npy", rng.uniform(0, 0.3, (n, ch.N_CHANNELS)).astype(np.float32))


def test_real_data_layout(tmp_path):
    from tbd.training.realdata import load_real_clips

    _real_clip(tmp_path / "data" / "a", 2.0, "aus.csv", {"emotion": "happy", "intensity": 0.66, "fps": 30})
    _real_clip(tmp_path / "data" / "b", 1.5, "motion.npy", {"emotion": "sad", "intensity": 1.0})
    a, b = load_real_clips(tmp_path / "data")
    assert a.n_frames == 50 and a.motions[0].shape == (50, ch.N_CHANNELS)  # 30 fps curves resampled to 25
    assert a.observed.sum() == 3 and a.observed[ch.index("AU12L")] and not a.observed[ch.index("pitch")]
    assert a.plans[0].emotions[0].label == "happy" and a.plans[0].emotions[0].intensity == pytest.approx(0.66)
    assert {"AU12L", "AU12R", "AU6"} <= set(a.plans[0].aus)
    assert b.observed.all() and b.plans[0].emotions[0].label == "sad"
    # Train on it: unobserved channels carry no loss, so this just has to run.
    result = train(TrainConfig(data=[str(tmp_path / "data")], out=str(tmp_path / "r.safetensors"), steps=2,
                               **{**TINY, "batch_size": 2}))
    assert result.steps == 2 and np.isfinite(result.final_loss)


def test_real_data_errors(tmp_path):
    from tbd.training.dataset import DataError
    from tbd.training.realdata import load_real_clips

    with pytest.raises(DataError, match="no such"):
        load_real_clips(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="meta.json"):
        load_real_clips(tmp_path / "empty")
    _real_clip(tmp_path / "bad" / "x", 1.0, "aus.csv", {"emotion": "happy", "intensity": 0.5})
    (tmp_path / "bad" / "x" / "aus.csv").write_text("AU99,AU1\n0.1,0.2\n")
    with pytest.raises(DataError, match="unknown channel"):
        load_real_clips(tmp_path / "bad")


def test_mead_and_hdtf_indexes(tmp_path):
    from tbd.training.realdata import index_hdtf, index_mead

    for emotion, level in (("happy", "level_3"), ("neutral", "level_1"), ("contempt", "level_2")):
        v = tmp_path / "MEAD" / "M003" / "video" / "front" / emotion / level / "001.mp4"
        v.parent.mkdir(parents=True)
        v.write_bytes(b"")
        a = tmp_path / "MEAD" / "M003" / "audio" / emotion / level / "001.m4a"
        a.parent.mkdir(parents=True)
        a.write_bytes(b"")
    clips = {c.emotion: c for c in index_mead(tmp_path / "MEAD")}
    assert set(clips) == {"happy", "neutral", "contempt"}
    assert clips["happy"].intensity == 1.0 and clips["contempt"].intensity == 0.66
    assert clips["neutral"].intensity == 0.0 and clips["happy"].audio.name == "001.m4a"
    for name in ("WDA_BarackObama_000.mp4", "RD_Radio1_000.mp4", "notes.mp4"):
        (tmp_path / "HDTF").mkdir(exist_ok=True)
        (tmp_path / "HDTF" / name).write_bytes(b"")
    hdtf = index_hdtf(tmp_path / "HDTF")
    assert sorted(c.clip_id for c in hdtf) == ["hdtf-RD_Radio1_000", "hdtf-WDA_BarackObama_000"]
    assert all(c.emotion == "neutral" and c.audio is None for c in hdtf)
