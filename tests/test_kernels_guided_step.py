"""guided_step: native kernel vs the float64 reference (and vs torch eager's own error)."""

from __future__ import annotations

import numpy as np
import pytest

from tbd import kernels
from tbd.kernels import reference

COEFFS = dict(w_g=2.5, w_l=1.75, alpha=0.83, sigma=0.56, a=0.31, b=0.69)


def random_arrays(rng: np.random.Generator, shape: tuple[int, ...], count: int) -> list[np.ndarray]:
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]


def torch_error(arrays, mask, expected, *, pred_type, clamp, c, d, **coeffs) -> tuple[float, float]:
    """Max errors (x_next, x0) of the same formula in torch eager float32."""
    torch = pytest.importorskip("torch")
    eu, eg, egl, x, prev, noise = (torch.from_numpy(a) for a in arrays)
    m = torch.from_numpy(np.asarray(mask, dtype=np.float32))
    p = eu + coeffs["w_g"] * (eg - eu) + coeffs["w_l"] * m * (egl - eg)
    if pred_type == "eps":
        x0 = (x - coeffs["sigma"] * p) / coeffs["alpha"]
    elif pred_type == "x0":
        x0 = p
    else:
        x0 = coeffs["alpha"] * x - coeffs["sigma"] * p
    if clamp is not None:
        x0 = x0.clamp(-clamp, clamp)
    x_next = coeffs["a"] * x + coeffs["b"] * x0 + c * prev + d * noise
    return (float(np.abs(x_next.numpy() - expected[0]).max()), float(np.abs(x0.numpy() - expected[1]).max()))


def per_batch_mask(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """[B, 1, ..., C]: the general (non-periodic) broadcast layout."""
    if len(shape) < 2:
        return rng.random(shape).astype(np.float32)
    return rng.random((shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)).astype(np.float32)


MASKS = {
    "per_channel": lambda rng, shape: (rng.random(shape[-1]) > 0.5).astype(np.float32),
    "scalar": lambda rng, shape: np.float32(0.7),
    "time_channel": lambda rng, shape: rng.random(shape[-2:]).astype(np.float32),
    "full": lambda rng, shape: rng.random(shape).astype(np.float32),
    "per_batch": per_batch_mask,
    "bool": lambda rng, shape: rng.random(shape[-1]) > 0.5,
}


@pytest.mark.parametrize("shape", [(1,), (7,), (1, 1, 1), (3, 97, 29), (2, 1025, 33), (4, 257, 64)])
@pytest.mark.parametrize("mask_kind", list(MASKS))
def test_matches_reference_within_twice_torch_error(shape, mask_kind) -> None:
    rng = np.random.default_rng(len(shape) * 1000 + shape[-1] + len(mask_kind))
    # Max errors are compared over at least ~8000 elements (several fresh draws for tiny shapes),
    # so that "twice torch's error" is not decided by the rounding luck of a handful of values.
    trials = min(256, max(1, 8192 // int(np.prod(shape))))
    for pred_type, clamp, c, d in [("eps", None, 0.13, 0.05), ("x0", 1.0, 0.0, 0.2), ("v", 0.8, -0.4, 0.0)]:
        kwargs = dict(COEFFS, pred_type=pred_type, clamp=clamp, c=c, d=d)
        errors = np.zeros((trials, 4))
        for trial in range(trials):
            arrays = random_arrays(rng, shape, 6)
            mask = MASKS[mask_kind](rng, shape)
            extra = dict(x0_prev=arrays[4] if c else None, noise=arrays[5] if d else None)
            expected = reference.guided_step(*arrays[:4], mask, **kwargs, **extra)
            out = (np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32))  # poisoned
            x_next, x0 = kernels.guided_step(*arrays[:4], mask, **kwargs, **extra, out=out, backend="native")
            assert x_next is out[0] and x0 is out[1]
            errors[trial, :2] = np.abs(x_next - expected[0]).max(), np.abs(x0 - expected[1]).max()
            errors[trial, 2:] = torch_error(arrays, mask, expected, **kwargs)
        err_next, err_x0, torch_next, torch_x0 = errors.max(axis=0)
        assert err_next <= 1e-5 and err_x0 <= 1e-5
        assert err_next <= 2 * torch_next + 1e-12, (pred_type, err_next, torch_next)
        assert err_x0 <= 2 * torch_x0 + 1e-12, (pred_type, err_x0, torch_x0)


def test_default_call_allocates_and_clamps() -> None:
    rng = np.random.default_rng(3)
    arrays = random_arrays(rng, (2, 50, 29), 4)
    mask = np.zeros(29, np.float32)
    mask[3:9] = 1.0
    x_next, x0 = kernels.guided_step(*arrays, mask, **COEFFS, clamp=0.5)
    assert x_next.shape == x0.shape == (2, 50, 29) and x0.dtype == np.float32
    assert np.abs(x0).max() <= 0.5
    ref_next, ref_x0 = reference.guided_step(*arrays, mask, **COEFFS, clamp=0.5)
    np.testing.assert_allclose(x_next, ref_next, atol=1e-5)
    np.testing.assert_allclose(x0, ref_x0, atol=1e-5)


def test_local_guidance_only_touches_masked_channels() -> None:
    rng = np.random.default_rng(4)
    eu, eg, egl, x = random_arrays(rng, (3, 20, 8), 4)
    mask = np.array([1, 0, 0, 1, 0, 0, 0, 0], np.float32)
    base = kernels.guided_step(eu, eg, eg, x, mask, **COEFFS)[1]
    local = kernels.guided_step(eu, eg, egl, x, mask, **COEFFS)[1]
    changed = np.abs(local - base).max(axis=(0, 1)) > 0
    np.testing.assert_array_equal(changed, mask > 0)


def test_reference_backend_and_float64_fallback() -> None:
    rng = np.random.default_rng(5)
    arrays = random_arrays(rng, (2, 13, 5), 4)
    mask = rng.random(5).astype(np.float32)
    native = kernels.guided_step(*arrays, mask, **COEFFS, backend="native")
    fallback = kernels.guided_step(*arrays, mask, **COEFFS, backend="reference")
    for a, b in zip(native, fallback):
        np.testing.assert_allclose(a, b, atol=1e-5)
    as64 = kernels.guided_step(*(a.astype(np.float64) for a in arrays), mask, **COEFFS)
    assert as64[0].dtype == np.float64
    np.testing.assert_allclose(as64[0], reference.guided_step(*arrays, mask, **COEFFS)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_bad_arguments_name_the_argument(backend: str) -> None:
    """Both backends check the same things and say the same (the native checks are in C++)."""
    rng = np.random.default_rng(6)
    eu, eg, egl, x = random_arrays(rng, (2, 6, 4), 4)
    mask = np.ones(4, np.float32)
    cases = [
        (ValueError, "'c' is nonzero but 'x0_prev'", (eu, eg, egl, x, mask), {"c": 0.5}),
        (ValueError, "'d' is nonzero but 'noise'", (eu, eg, egl, x, mask), {"d": 0.5}),
        (ValueError, "'mask' of shape \\[3\\] does not broadcast", (eu, eg, egl, x, np.ones(3, np.float32)), {}),
        (TypeError, "'eps_g' has dtype float64 but 'x' has float32", (eu, eg.astype(np.float64), egl, x, mask), {}),
        (ValueError, "'eps_gl' must have shape", (eu, eg, egl[:1], x, mask), {}),
        (ValueError, "'pred_type' must be 'eps', 'x0' or 'v'", (eu, eg, egl, x, mask), {"pred_type": "sample"}),
        (ValueError, "'clamp' must be positive", (eu, eg, egl, x, mask), {"clamp": 0.0}),
        (ValueError, "'alpha' must be nonzero", (eu, eg, egl, x, mask), {**COEFFS, "alpha": 0.0}),
        (TypeError, "'x' must be a numpy array", (eu, eg, egl, x.tolist(), mask), {}),
    ]
    for error, message, args, kwargs in cases:
        with pytest.raises(error, match=message):
            kernels.guided_step(*args, **{**COEFFS, **kwargs}, backend=backend)
    if backend == "native":
        with pytest.raises(ValueError, match="'x' must be C-contiguous"):
            kernels.guided_step(eu[:, ::2], eg[:, ::2], egl[:, ::2], x[:, ::2], mask, **COEFFS, backend="native")
