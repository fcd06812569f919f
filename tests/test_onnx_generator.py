"""The exported ONNX denoiser: same motion as torch for the same noise, and no torch needed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import tbd  # noqa: E402
from tbd.generator.checkpoint import ModelMeta, decode_embeddings  # noqa: E402
from tbd.generator.diffusion import DiffusionGenerator  # noqa: E402
from tbd.generator.onnx_generator import EMBEDDINGS_KEY, META_KEY, OnnxGenerator  # noqa: E402
from tbd.generator.testing import example_plan, speechlike_features, tiny_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    ckpt = tiny_checkpoint(folder / "tiny.safetensors", seed=4)
    onnx_path = folder / "denoiser.onnx"
    from tbd.cli import main

    assert main(["export-onnx", "-o", str(onnx_path), "--weights", str(ckpt)]) == 0
    return ckpt, onnx_path


@pytest.mark.parametrize("guidance", ["progressive", "global", "local", "joint", "none"])
def test_onnx_matches_torch_for_the_same_noise(files, guidance):
    ckpt, onnx_path = files
    feats = speechlike_features(3.7, seed=9)
    plan = example_plan()
    ref = DiffusionGenerator(ckpt).sample(plan, feats, seed=7, guidance=guidance)
    out = OnnxGenerator(onnx_path).sample(plan, feats, seed=7, guidance=guidance)
    assert out.meta["generator"] == "onnx" and out.meta["guidance"] == guidance
    assert np.abs(ref.values).max() > 0.05  # the comparison is not between two zero motions
    np.testing.assert_allclose(out.values, ref.values, atol=2e-4)


@pytest.mark.parametrize("seconds", [0.2, 1.0, 2.3])
def test_dynamic_length(files, seconds):
    ckpt, onnx_path = files
    feats = speechlike_features(seconds, seed=1)
    ref = DiffusionGenerator(ckpt).sample(example_plan(), feats, seed=1, sampler="euler", steps=4)
    out = OnnxGenerator(onnx_path).sample(example_plan(), feats, seed=1, sampler="euler", steps=4)
    assert out.values.shape == (feats.n_frames, ref.values.shape[1])
    np.testing.assert_allclose(out.values, ref.values, atol=2e-4)


def test_onnx_file_carries_the_metadata(files):
    ckpt, onnx_path = files
    proto = onnx.load(str(onnx_path))
    props = {p.key: p.value for p in proto.metadata_props}
    meta = ModelMeta.from_json(props[META_KEY], "test")
    assert meta.format == "tbd-draw" and meta.text_encoder == "hash-384-v1"
    vectors = decode_embeddings(props[EMBEDDINGS_KEY], "test")
    assert vectors.shape == (len(meta.embedding_texts), 384)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims[0] == "batch" and dims[1] == "frames"


def test_bad_onnx_files_raise_weights_error(files, tmp_path):
    _, onnx_path = files
    proto = onnx.load(str(onnx_path))
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare))
    with pytest.raises(tbd.WeightsError, match="no tbd metadata"):
        OnnxGenerator(bare)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01 definitely not protobuf")
    with pytest.raises(tbd.WeightsError, match="ONNX"):
        OnnxGenerator(junk)
    with pytest.raises(tbd.WeightsError, match="no such"):
        OnnxGenerator(tmp_path / "missing.onnx")


def test_onnx_path_runs_without_torch(files, tmp_path):
    """In a fresh interpreter where importing torch fails, the ONNX generator (and Talker
    with it) still produces the same motion as the torch path."""
    ckpt, onnx_path = files
    feats = speechlike_features(2.5, seed=3)
    ref = DiffusionGenerator(ckpt).sample(example_plan(), feats, seed=2)
    np.save(tmp_path / "ref.npy", ref.values)
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class NoTorch(importlib.abc.MetaPathFinder):  # as in an environment without torch: `import torch` fails
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError(f"No module named {{name!r}}")
                return None

        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        from tbd.generator import load_generator
        from tbd.generator.testing import example_plan, speechlike_features
        gen = load_generator({str(onnx_path)!r})
        values = gen.sample(example_plan(), speechlike_features(2.5, seed=3), seed=2).values
        ref = np.load({str(tmp_path / "ref.npy")!r})
        assert np.abs(values - ref).max() < 2e-4, np.abs(values - ref).max()
        import tbd
        talker = tbd.Talker(generator={str(onnx_path)!r}, progress=False)
        motion = talker.motion((np.zeros(16000, np.float32), 16000), example_plan())
        assert motion.meta["generator"] == "onnx"
        print("ok", gen.name, sorted(m for m in sys.modules if m.startswith("torch")))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith("ok onnx []"), result.stdout  # torch was never imported
