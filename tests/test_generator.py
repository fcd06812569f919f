"""DRAW generator: conditions, windows, the torch generator, checkpoints and their errors."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import tbd  # noqa: E402
from tbd.articulation.visemes import MOUTH_AUS  # noqa: E402
from tbd.generator.checkpoint import FORMAT, load_checkpoint  # noqa: E402
from tbd.generator.conditions import (  # noqa: E402
    GROUP_GLOBAL,
    GROUP_LOCAL,
    GROUP_NULL,
    N_TOKENS,
    TOKEN_DIM,
    EmbeddingTable,
    EXPRESSION_CHANNELS,
    build_conditions,
    frame_local,
    governed_channels,
    local_channels,
)
from tbd.generator.adherence import CORNER_CHANNELS, AdherenceConfig, limit_unplanned  # noqa: E402
from tbd.generator.diffusion import DiffusionGenerator  # noqa: E402
from tbd.generator.testing import example_plan, speechlike_features, tiny_checkpoint  # noqa: E402
from tbd.generator.windows import plan_windows, resample_time  # noqa: E402
from tbd.motion import channels as ch  # noqa: E402
from tbd.plan import EmotionPlan  # noqa: E402
from tbd.text_encoder import get_text_encoder  # noqa: E402


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("draw") / "tiny.safetensors")


@pytest.fixture(scope="module")
def gen(ckpt):
    return DiffusionGenerator(ckpt)


@pytest.fixture(scope="module")
def feats():
    return speechlike_features(3.7, seed=2)  # 92 frames: three windows of 40 with overlap 6


# --- conditions ------------------------------------------------------------------------------

def test_condition_tokens_follow_the_plan():
    enc = get_text_encoder("hash")
    plan = example_plan()
    cond = build_conditions(plan, EmbeddingTable(enc.name, None, enc))
    assert cond.tokens.shape == (N_TOKENS, TOKEN_DIM) and cond.tokens.dtype == np.float32
    assert cond.valid[0] and cond.groups[0] == GROUP_NULL
    assert (cond.groups[cond.valid] == GROUP_GLOBAL).sum() == 2  # happy, sad
    locals_ = local_channels(plan)
    assert set(locals_) == {"AU12L", "AU12R", "AU6", "AU1", "AU15"}
    assert (cond.groups[cond.valid] == GROUP_LOCAL).sum() == len(locals_)
    expected_mask = np.zeros(ch.N_CHANNELS, np.float32)
    expected_mask[ch.indices(locals_)] = 1.0
    np.testing.assert_array_equal(cond.channel_mask, expected_mask)
    # The global tokens hold the label embeddings; the local ones the muscle descriptions.
    happy = enc.encode(["happy"])[0]
    assert any(np.allclose(cond.tokens[i, 3:387], happy) for i in np.flatnonzero(cond.groups == GROUP_GLOBAL))
    # The three branch masks nest: ∅ ⊂ g ⊂ (g, L).
    u, g, gl = cond.branch_masks()
    assert u.sum() == 1 and g.sum() == 3 and gl.sum() == cond.valid.sum()
    assert np.all(u <= g) and np.all(g <= gl)


def test_neutral_plan_has_only_the_null_and_global_tokens():
    enc = get_text_encoder("hash")
    cond = build_conditions(EmotionPlan.neutral(), EmbeddingTable(enc.name, None, enc))
    assert cond.channel_mask.sum() == 0
    assert not np.any(cond.groups[cond.valid] == GROUP_LOCAL)


def test_expression_scope_also_governs_every_expression_au_at_rest():
    enc = get_text_encoder("hash")
    plan = example_plan()
    table = EmbeddingTable(enc.name, None, enc)
    planned, expression = build_conditions(plan, table, "planned"), build_conditions(plan, table, "expression")
    assert governed_channels(plan, "planned") == local_channels(plan)
    governed = governed_channels(plan, "expression")
    assert set(governed) == set(local_channels(plan)) | set(EXPRESSION_CHANNELS)
    assert not set(governed) & {"AU25", "AU26", "AU27", "AU45", "AU18", "AU22"}  # speech and blinks stay free
    expected_mask = np.zeros(ch.N_CHANNELS, np.float32)
    expected_mask[ch.indices(governed)] = 1.0
    np.testing.assert_array_equal(expression.channel_mask, expected_mask)
    # Tokens are the same in both scopes: one per planned AU.
    np.testing.assert_array_equal(planned.tokens, expression.tokens)
    # The frame-aligned condition states the rest value of an AU the plan leaves out (AU4).
    rng = np.random.default_rng(3)
    mean = rng.uniform(0.0, 0.2, ch.N_CHANNELS).astype(np.float32)
    std = rng.uniform(0.5, 1.5, ch.N_CHANNELS).astype(np.float32)
    times = np.linspace(0.0, 3.0, 11)
    local = frame_local(plan, times, 3.0, mean, std, scope="expression")
    n_au, col = len(ch.AU_CHANNELS), ch.AU_CHANNELS.index("AU4")
    assert "AU4" not in local_channels(plan)
    np.testing.assert_allclose(local[:, col], (0.0 - mean[ch.index("AU4")]) / std[ch.index("AU4")], rtol=1e-6)
    assert np.all(local[:, n_au + col] == 1.0)
    assert not np.any(frame_local(plan, times, 3.0, mean, std, scope="planned")[:, n_au + col])
    with pytest.raises(ValueError, match="local scope"):
        governed_channels(plan, "everything")


def test_embedding_table_prefers_stored_vectors_and_checks_encoder():
    enc = get_text_encoder("hash")
    stored = {"happy": np.full(384, 0.5, np.float32)}
    table = EmbeddingTable(enc.name, stored, enc)
    np.testing.assert_array_equal(table.matrix(["happy"])[0], stored["happy"])
    np.testing.assert_allclose(table.matrix(["sad"])[0], enc.encode(["sad"])[0])
    with pytest.raises(ValueError, match="does not match"):
        EmbeddingTable("all-MiniLM-L6-v2", None, enc)


# --- windows ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 5, 39, 40, 41, 73, 100, 257])
def test_windows_cover_every_frame_once_with_context(n):
    windows = plan_windows(n, 40, 6)
    new = np.zeros(n, int)
    for i, w in enumerate(windows):
        assert 0 <= w.start < w.stop <= n and w.stop - w.start <= 40
        new[w.start + w.known : w.stop] += 1
        if i:
            assert w.known >= 6 and w.start + w.known == windows[i - 1].stop
            assert w.stop - w.start == min(40, n)
    np.testing.assert_array_equal(new, 1)


def test_resample_time_keeps_constants_and_ramps():
    ramp = np.linspace(0, 1, 50, dtype=np.float32)[:, None]
    out = resample_time(ramp, 60)
    assert out.shape == (60, 1) and np.all(np.diff(out[:, 0]) >= 0)
    np.testing.assert_allclose(resample_time(np.full((7, 3), 2.0), 11), 2.0)


# --- the generator ---------------------------------------------------------------------------

def test_sample_is_motion_with_meta_and_seeded(gen, feats):
    plan = example_plan()
    a = gen.sample(plan, feats, seed=3)
    assert isinstance(a, tbd.Motion) and a.values.shape == (feats.n_frames, ch.N_CHANNELS)
    assert a.fps == feats.fps
    for key in ("generator", "weights", "sampler", "steps", "guidance", "seed"):
        assert key in a.meta
    assert a.meta["generator"] == "diffusion" and a.meta["guidance"] == "progressive"
    assert a.meta["weights"] == "tiny.safetensors" and a.meta["seed"] == 3
    aus = a.values[:, ch.indices(ch.AU_CHANNELS)]
    assert aus.min() >= 0.0 and aus.max() <= 1.0
    np.testing.assert_array_equal(gen.sample(plan, feats, seed=3).values, a.values)
    assert np.abs(gen.sample(plan, feats, seed=4).values - a.values).max() > 1e-4


def test_guidance_modes_and_options_change_the_motion(gen, feats):
    plan = example_plan()
    outs = {m: gen.sample(plan, feats, seed=0, guidance=m).values for m in ("progressive", "global", "local", "joint", "none")}
    for a in outs:
        for b in outs:
            if a < b:
                assert np.abs(outs[a] - outs[b]).max() > 1e-5, (a, b)
    # Unmasked channels see no local guidance: global-only and progressive differ less there.
    stronger = gen.sample(plan, feats, seed=0, guidance="global", w_g=4.0)
    assert stronger.meta["guidance_weights"]["w_g"] == 4.0
    assert np.abs(stronger.values - outs["global"]).max() > 1e-5
    m = gen.sample(plan, feats, seed=0, sampler="euler", steps=3)
    assert m.meta["sampler"] == "euler" and m.meta["steps"] == 3
    with pytest.raises(ValueError, match="unknown guidance"):
        gen.sample(plan, feats, guidance="sideways")
    with pytest.raises(ValueError, match="unknown sampler"):
        gen.sample(plan, feats, sampler="nope")


def test_any_length_and_other_frame_rates(gen):
    plan = example_plan()
    for seconds in (0.04, 1.0, 6.3):
        f = speechlike_features(seconds, seed=1)
        assert gen.sample(plan, f).values.shape == (f.n_frames, ch.N_CHANNELS)
    f30 = speechlike_features(2.0, seed=1, fps=30.0)
    m = gen.sample(plan, f30)
    assert m.values.shape == (60, ch.N_CHANNELS) and m.fps == 30.0


def test_later_windows_get_the_previous_tail_as_context(gen, monkeypatch):
    f = speechlike_features(2.96, seed=5)  # 74 frames: windows [0, 40) and [34, 74)
    seen = []
    original = gen.backend.denoise

    def spy(x, sigma, inputs):
        seen.append({k: v.clone() for k, v in inputs.items() if k in ("context", "context_mask")})
        return original(x, sigma, inputs)

    monkeypatch.setattr(gen.backend, "denoise", spy)
    m = gen.sample(example_plan(), f, seed=0, guidance="none", steps=2)
    first, second = seen[0], seen[-1]
    assert first["context_mask"].sum() == 0
    windows = plan_windows(74, 40, 6)
    assert len(windows) == 2 and len(seen) == 2 * 2
    known, start = windows[1].known, windows[1].start
    mask = second["context_mask"][0].numpy()
    assert mask[:known].all() and not mask[known:].any()
    mean = np.asarray(gen.meta.motion_mean, np.float32)
    std = np.asarray(gen.meta.motion_std, np.float32)
    expected = (m.values[start : start + known] - mean) / std
    # Outputs are clipped to 0..1 after denormalising (compare inside), and the mouth's channels are
    # edited after sampling (lip shapes with the corners they damp, bilabial closures, pauses; corner AUs
    # the plan does not ask for are held at rest): compare the other AUs.
    edited = set(MOUTH_AUS) | set(CORNER_CHANNELS)
    au = ch.indices([c for c in ch.AU_CHANNELS if c not in edited])
    inside = (m.values[start : start + known, au] > 0) & (m.values[start : start + known, au] < 1)
    assert inside.sum() > 10
    np.testing.assert_allclose(second["context"][0, :known].numpy()[:, au][inside], expected[:, au][inside], atol=1e-5)


def test_attention_backends_agree(gen, feats):
    plan = example_plan()
    ref = gen.sample(plan, feats, seed=0).values
    for backend in ("sdpa", "math"):
        gen.model.attention_backend = backend
        try:
            np.testing.assert_allclose(gen.sample(plan, feats, seed=0).values, ref, atol=2e-4)
        finally:
            gen.model.attention_backend = "kernel"
    with pytest.raises(ValueError):
        gen.model.attention_backend = "flash"


def test_generator_rejects_non_plans(gen, feats):
    with pytest.raises(TypeError):
        gen.sample("happy", feats)


# --- checkpoints and bad weights -------------------------------------------------------------

def _rewrite_meta(src, dst, **changes):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(src), framework="pt") as f:
        metadata = dict(f.metadata())
    meta = json.loads(metadata["meta"])
    for key, value in changes.items():
        if key in ("format", "format_version") and key in metadata:
            metadata[key] = str(value)
        meta[key] = value
    metadata["meta"] = json.dumps(meta)
    save_file(load_file(str(src)), str(dst), metadata=metadata)
    return dst


def test_checkpoint_round_trip(ckpt, gen, feats):
    loaded = load_checkpoint(ckpt)
    assert loaded.meta.format == FORMAT and loaded.meta.channels == list(ch.CHANNELS)
    assert loaded.meta.text_encoder == "hash-384-v1"
    again = DiffusionGenerator(ckpt)
    np.testing.assert_array_equal(again.sample(example_plan(), feats).values, gen.sample(example_plan(), feats).values)


def test_wrong_format_channels_or_encoder_raise_weights_error(ckpt, tmp_path):
    cases = {
        "not a tbd DRAW model": dict(format="someone-elses"),
        "version 99": dict(format_version=99),
        "version-1 weights take the clip position": dict(format_version=1),
        "motion channels": dict(channels=list(ch.CHANNELS[:-2])),
        "audio features": dict(audio_features="mfcc13"),
        "unknown text encoder": dict(text_encoder="word2vec-300"),
        "local scope 'everything'": dict(local_scope="everything"),
    }
    for i, (message, change) in enumerate(cases.items()):
        bad = _rewrite_meta(ckpt, tmp_path / f"bad{i}.safetensors", **change)
        with pytest.raises(tbd.WeightsError, match=message):
            DiffusionGenerator(bad)
    with pytest.raises(tbd.WeightsError, match="text encoder"):
        DiffusionGenerator(ckpt, text_encoder=_FakeEncoder())


class _FakeEncoder:
    name = "all-MiniLM-L6-v2"
    dim = 384

    def encode(self, texts):
        return np.zeros((len(texts), 384), np.float32)


def test_mismatched_weights_and_missing_files(ckpt, tmp_path):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    tensors = load_file(str(ckpt))
    with safe_open(str(ckpt), framework="pt") as f:
        metadata = dict(f.metadata())
    del tensors["model.out.weight"]
    save_file(tensors, str(tmp_path / "missing.safetensors"), metadata=metadata)
    with pytest.raises(tbd.WeightsError, match="do not fit"):
        DiffusionGenerator(tmp_path / "missing.safetensors")
    with pytest.raises(tbd.WeightsError, match="no such"):
        DiffusionGenerator(tmp_path / "absent.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(struct.pack("<Q", 12) + b"not json at all")
    with pytest.raises(tbd.WeightsError, match="safetensors"):
        DiffusionGenerator(junk)


def test_pickles_are_refused(tmp_path, gen):
    pt = tmp_path / "model.pt"
    torch.save(gen.model.state_dict(), pt)
    with pytest.raises(tbd.WeightsError, match="pickle"):
        DiffusionGenerator(pt)
    disguised = tmp_path / "model.safetensors"
    disguised.write_bytes(pt.read_bytes())
    with pytest.raises(tbd.WeightsError, match="pickle"):
        DiffusionGenerator(disguised)
    import pickle

    raw = tmp_path / "raw.safetensors"
    raw.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    with pytest.raises(tbd.WeightsError, match="pickle"):
        DiffusionGenerator(raw)


def test_qualified_labels_fall_back_to_their_base_without_an_encoder(monkeypatch):
    import tbd.generator.conditions as conditions

    def unavailable(name):
        raise tbd.BackendError("no encoder here")

    monkeypatch.setattr(conditions, "encoder_by_name", unavailable)
    smile = np.linspace(-1, 1, 384).astype(np.float32)
    table = EmbeddingTable("all-MiniLM-L6-v2", {"smile": smile})
    with pytest.warns(UserWarning, match="'smile' for 'smile \\(posed\\)'"):
        out = table.matrix(["smile (posed)", "smile"])
    np.testing.assert_array_equal(out, np.stack([smile, smile]))
    with pytest.raises(tbd.BackendError):
        table.matrix(["jubilant"])


def test_denoiser_memo_gives_the_same_output_and_stays_bounded():
    """The inference memo (noise-level terms, token keys/values, audio embedding) changes no number."""
    import torch

    from tbd.generator.model import MEMO_ENTRIES, DenoiserConfig, MotionDenoiser

    torch.manual_seed(3)
    cfg = DenoiserConfig(d_model=32, n_layers=2, n_heads=2)
    model = MotionDenoiser(cfg).eval()
    for p in model.parameters():  # adaLN-zero starts at zero: make every path count
        torch.nn.init.normal_(p, std=0.2)
    b, t = 2, 11
    inputs = dict(audio=torch.randn(b, t, cfg.n_audio), positions=(torch.arange(t) / 100.0).reshape(1, t, 1).repeat(b, 1, 1),
                  context=torch.randn(b, t, cfg.n_channels), context_mask=torch.ones(b, t),
                  local=torch.randn(b, t, 2 * cfg.n_local), glob=torch.randn(b, t, cfg.n_global),
                  tokens=torch.randn(b, 3, cfg.token_dim), token_mask=torch.tensor([[True, True, False], [True, False, True]]))
    memo: dict = {}
    with torch.inference_mode():
        for sigma in (5.0, 0.5, 5.0, 0.05):
            x = torch.randn(b, t, cfg.n_channels)
            s = torch.full((b,), sigma)
            plain = model(x, s, **inputs)
            assert torch.equal(model(x, s, **inputs, memo=memo), plain)
        assert len(memo["sigma"]) == 3 and len(memo["tokens"]) == 1
        for k in range(MEMO_ENTRIES + 5):
            model(x, torch.full((b,), 0.1 + k), **inputs, memo=memo)
        assert len(memo["sigma"]) == MEMO_ENTRIES
        other = dict(inputs, tokens=torch.randn(b, 3, cfg.token_dim))
        assert torch.equal(model(x, s, **other, memo=memo), model(x, s, **other))


def test_limit_unplanned_caps_only_corner_aus_absent_from_the_plan():
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 1.0, (37, ch.N_CHANNELS)).astype(np.float32)
    before = values.copy()
    aus = np.zeros((37, len(ch.AU_CHANNELS)), np.float32)
    aus[20:, ch.AU_CHANNELS.index("AU12L")] = 0.6  # asked for only late in the clip: still asked for
    out = limit_unplanned(values, aus, AdherenceConfig(unplanned_max=0.1))
    assert out is values
    for name in ("AU12R", "AU14L", "AU14R", "AU15"):
        i = ch.index(name)
        np.testing.assert_array_equal(values[:, i], np.minimum(before[:, i], 0.1))
    for name in ("AU12L", "AU1", "AU4", "AU6", "AU25", "AU26", "AU18", "AU20", "AU45", "pitch", "gaze_x"):
        np.testing.assert_array_equal(values[:, ch.index(name)], before[:, ch.index(name)])
    with pytest.raises(ValueError, match="emotion_aus must be"):
        limit_unplanned(values, aus[:5])
