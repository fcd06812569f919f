"""attention: native kernel vs the float64 reference (and vs torch SDPA's own error)."""

from __future__ import annotations

import numpy as np
import pytest

from tbd import kernels
from tbd.kernels import reference

# (B, H, Tq, Tk, D): self and cross attention, odd lengths and head sizes.
SHAPES = [
    (1, 1, 1, 1, 64),
    (2, 3, 7, 7, 33),
    (2, 2, 97, 97, 64),
    (1, 2, 100, 37, 128),
    (3, 1, 7, 97, 32),
    (1, 1, 1025, 1025, 32),
    (1, 2, 1, 1025, 64),
    (2, 1, 33, 17, 5),
]


def random_qkv(rng: np.random.Generator, b: int, h: int, tq: int, tk: int, d: int):
    q = rng.standard_normal((b, h, tq, d)).astype(np.float32)
    k = rng.standard_normal((b, h, tk, d)).astype(np.float32)
    v = rng.standard_normal((b, h, tk, d)).astype(np.float32)
    return q, k, v


def options(rng: np.random.Generator, b: int, tq: int, tk: int) -> list[dict]:
    cases: list[dict] = [{}, {"mask": rng.random((b, tk)) > 0.3}, {"scale": 0.37}]
    if tq == tk:
        cases += [{"window": 0}, {"window": 5, "mask": rng.random((b, tk)) > 0.5}]
    return cases


def torch_error(q, k, v, expected, mask=None, window=None, scale=None) -> float:
    """Max error of torch SDPA in float32 against the float64 reference, same inputs."""
    torch = pytest.importorskip("torch")
    tq, tk = q.shape[2], k.shape[2]
    allowed = torch.ones(q.shape[0], 1, tq, tk, dtype=torch.bool)
    if mask is not None:
        allowed &= torch.from_numpy(mask)[:, None, None, :]
    if window is not None:
        i, j = torch.arange(tq)[:, None], torch.arange(tk)[None, :]
        allowed &= ((i - j).abs() <= window)[None, None]
    result = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)), attn_mask=allowed, scale=scale
    ).numpy()
    valid = allowed.any(-1).numpy()[..., None]  # torch gives NaN where nothing is attended
    return float(np.abs(np.where(valid, result, expected) - expected).max())


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_reference_within_twice_torch_error(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    b, h, tq, tk, d = shape
    q, k, v = random_qkv(rng, b, h, tq, tk, d)
    for opts in options(rng, b, tq, tk):
        expected = reference.attention(q, k, v, **opts)
        out = np.full(q.shape, np.nan, np.float32)  # poisoned: unwritten elements fail
        result = kernels.attention(q, k, v, **opts, out=out, backend="native")
        assert result is out
        error = float(np.abs(result - expected).max())
        assert error <= 1e-5, (opts, error)
        assert error <= 2 * torch_error(q, k, v, expected, **opts) + 1e-12, (opts, error)


def test_strided_views_like_a_transformer() -> None:
    """q, k, v as [B, T, H, D] tensors viewed as [B, H, T, D]: no copy needed, same result."""
    rng = np.random.default_rng(11)
    packed = rng.standard_normal((2, 97, 3, 4, 64)).astype(np.float32)  # [B, T, (q,k,v), H, D]
    q, k, v = (packed[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    assert not q.flags.c_contiguous
    out = np.full((2, 4, 97, 64), np.nan, np.float32).transpose(0, 2, 1, 3).copy().transpose(0, 2, 1, 3)
    result = kernels.attention(q, k, v, out=out, backend="native")
    np.testing.assert_allclose(result, reference.attention(q, k, v), atol=2e-6)


def test_fully_masked_rows_give_zeros() -> None:
    rng = np.random.default_rng(12)
    q, k, v = random_qkv(rng, 2, 2, 9, 13, 16)
    mask = rng.random((2, 13)) > 0.5
    mask[1] = False
    result = kernels.attention(q, k, v, mask=mask, backend="native")
    assert np.all(result[1] == 0.0)
    np.testing.assert_allclose(result, reference.attention(q, k, v, mask=mask), atol=2e-6)


def test_large_logits_stay_finite() -> None:
    rng = np.random.default_rng(13)
    q, k, v = random_qkv(rng, 1, 2, 40, 70, 64)
    q *= 30.0  # logits in the hundreds: the online softmax must rescale, not overflow
    result = kernels.attention(q, k, v, backend="native")
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, reference.attention(q, k, v), atol=2e-5)


def test_other_dtypes_use_the_reference() -> None:
    rng = np.random.default_rng(14)
    q, k, v = (a.astype(np.float64) for a in random_qkv(rng, 1, 2, 7, 9, 8))
    result = kernels.attention(q, k, v)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, reference.attention(q, k, v), rtol=1e-12, atol=1e-12)


def test_reference_backend_agrees_with_native() -> None:
    rng = np.random.default_rng(15)
    q, k, v = random_qkv(rng, 2, 2, 31, 31, 33)
    mask = rng.random((2, 31)) > 0.2
    native = kernels.attention(q, k, v, mask=mask, window=4, backend="native")
    fallback = kernels.attention(q, k, v, mask=mask, window=4, backend="reference")
    np.testing.assert_allclose(native, fallback, atol=2e-6)


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_bad_arguments_name_the_argument(backend: str) -> None:
    """Both backends check the same things and say the same (the native checks are in C++)."""
    rng = np.random.default_rng(16)
    q, k, v = random_qkv(rng, 2, 2, 5, 6, 8)
    cases = [
        (TypeError, "'k' has dtype float64 but 'q' has float32", (q, k.astype(np.float64), v), {}),
        (ValueError, "'v' must have shape", (q, k, v[:, :, :3]), {}),
        (ValueError, "'k' must have shape", (q, k[..., :4], v[..., :4]), {}),
        (ValueError, "'q' must have 4 dimensions", (q[0], k, v), {}),
        (ValueError, "'mask' must have shape", (q, k, v), {"mask": np.ones((2, 5), bool)}),
        (ValueError, "'window' is for self-attention", (q, k, v), {"window": 2}),
        (ValueError, "'window' must be a non-negative integer", (q, q, q), {"window": -1}),
        (ValueError, "'scale' must be a positive finite number", (q, k, v), {"scale": 0.0}),
        (ValueError, "'out' must have shape", (q, k, v), {"out": np.empty((2, 2, 5, 4), np.float32)}),
        (TypeError, "'q' must be a numpy array or a torch tensor", (q.tolist(), k, v), {}),
    ]
    for error, message, args, kwargs in cases:
        with pytest.raises(error, match=message):
            kernels.attention(*args, **kwargs, backend=backend)
    if backend == "native":
        with pytest.raises(ValueError, match="'q' must be contiguous in its last"):
            kernels.attention(np.asfortranarray(q), k, v, backend="native")
