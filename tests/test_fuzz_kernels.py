"""Fuzzing the kernels' arguments (issue 12): random shapes, strides and dtypes. A call either
matches the float64 reference or raises ValueError/TypeError naming the bad argument; never a
crash, a wrong answer or a hang. Arguments valid by construction must succeed. Under the
sanitizer build (.ci/run) these also check the C++ for out-of-bounds access."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tbd import kernels
from tbd.errors import BackendError
from tbd.kernels import reference

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
BACKENDS = ["auto", "reference"] + (["native"] if kernels.backend_info()["native"] else [])
ARG_ERRORS = (ValueError, TypeError, BackendError)  # BackendError: backend="native" asked for a dtype it lacks


def _refused(exc: Exception, backend: str) -> None:
    event(f"{type(exc).__name__}")
    if isinstance(exc, BackendError):
        assert backend == "native" and "does not support" in str(exc), exc


def _view(rng: np.random.Generator, base: np.ndarray, layout: str) -> np.ndarray:
    """``base``'s values in another memory layout: contiguous, a strided slice, or a transposed copy."""
    if layout == "contiguous":
        return base
    if layout == "strided":  # every other element of a bigger array along the first axis
        big = np.empty((base.shape[0] * 2,) + base.shape[1:], base.dtype)
        big[::2] = base
        big[1::2] = rng.standard_normal(big[1::2].shape).astype(base.dtype) if base.dtype.kind == "f" else 0
        return big[::2]
    if layout == "fortran":
        return np.asfortranarray(base)
    return base[..., ::-1][..., ::-1]  # a view with the same strides (still contiguous)


# --- attention ----------------------------------------------------------------------------


@settings(FUZZ, max_examples=120)
@given(b=st.integers(1, 3), h=st.integers(1, 3), tq=st.integers(1, 19), tk=st.integers(1, 19),
       d=st.integers(1, 40), dtype=st.sampled_from(["float32", "float64", "float16"]),
       layout=st.sampled_from(["contiguous", "strided", "fortran", "same"]), use_mask=st.booleans(),
       window=st.sampled_from([None, 0, 1, 3, 100]), backend=st.sampled_from(BACKENDS), seed=st.integers(0, 999),
       bad=st.sampled_from([None, None, None, "k_dim", "v_shape", "mask_shape", "ndim", "scale", "window_neg",
                            "int_dtype", "last_axis", "empty_k"]))
def test_attention(b, h, tq, tk, d, dtype, layout, use_mask, window, backend, seed, bad):
    rng = np.random.default_rng(seed)
    if window is not None:
        tk = tq  # window is for self-attention
    q = rng.standard_normal((b, h, tq, d)).astype(dtype)
    k = rng.standard_normal((b, h, tk, d)).astype(dtype)
    v = rng.standard_normal((b, h, tk, d)).astype(dtype)
    mask = (rng.random((b, tk)) > 0.3) if use_mask else None
    scale = None
    q, k, v = (_view(rng, t, layout) for t in (q, k, v))
    if bad == "k_dim":
        k = k[..., : max(1, d - 1)] if d > 1 else np.concatenate([k, k], -1)
    elif bad == "v_shape":
        v = v[:, :, :1] if tk > 1 else np.concatenate([v, v], 2)
    elif bad == "mask_shape":
        mask = np.ones((b, tk + 1), bool)
    elif bad == "ndim":
        q = q[0]
    elif bad == "scale":
        scale = float(rng.choice([0.0, -1.0, np.nan, np.inf]))
    elif bad == "window_neg":
        window = -1
    elif bad == "int_dtype":
        q, k, v = (t.astype(np.int32) for t in (q, k, v))
    elif bad == "last_axis":
        q = np.ascontiguousarray(np.concatenate([q, q], -1))[..., ::2]
    elif bad == "empty_k":
        k, v = k[:, :, :0], v[:, :, :0]
        window = None
    try:
        out = kernels.attention(q, k, v, mask=mask, window=window, scale=scale, backend=backend)
    except ARG_ERRORS as exc:
        _refused(exc, backend)
        if isinstance(exc, BackendError):
            return
        assert bad is not None or (layout == "fortran" and backend != "reference"), f"valid call refused: {exc}"
        return
    event("attention: result")
    assert bad in (None, "int_dtype", "last_axis") or (bad == "scale" and False), f"bad argument {bad!r} accepted"
    if bad == "int_dtype":
        return
    expected = reference.attention(*(np.asarray(t, np.float64) for t in (q, k, v)), mask=mask, window=window,
                                   scale=scale)
    tol = {"float16": 2e-2, "float32": 2e-5, "float64": 1e-9}[dtype]
    assert out.shape == q.shape and out.dtype == q.dtype
    np.testing.assert_allclose(np.asarray(out, np.float64), expected, atol=tol * 10, rtol=tol * 10)


# --- guided_step --------------------------------------------------------------------------


@settings(FUZZ, max_examples=120)
@given(shape=st.lists(st.integers(1, 17), min_size=1, max_size=4).map(tuple),
       dtype=st.sampled_from(["float32", "float64"]), layout=st.sampled_from(["contiguous", "strided", "fortran"]),
       mask_kind=st.sampled_from(["channel", "scalar", "full", "bool", "wrong"]),
       pred_type=st.sampled_from(["eps", "x0", "v", "bogus"]), clamp=st.sampled_from([None, 0.5, 3.0]),
       extras=st.booleans(), alpha=st.sampled_from([0.83, 1.0, 0.0]), backend=st.sampled_from(BACKENDS),
       seed=st.integers(0, 999), mismatch=st.sampled_from([None, None, "shape", "dtype"]))
def test_guided_step(shape, dtype, layout, mask_kind, pred_type, clamp, extras, alpha, backend, seed, mismatch):
    rng = np.random.default_rng(seed)
    arrays = [_view(rng, rng.standard_normal(shape).astype(dtype), layout) for _ in range(6)]
    eu, eg, egl, x, prev, noise = arrays
    if mismatch == "shape":
        egl = rng.standard_normal(shape + (2,)).astype(dtype)
    elif mismatch == "dtype":
        eg = eg.astype(np.float16)
    mask = {"channel": lambda: rng.random(shape[-1]), "scalar": lambda: np.float32(0.4),
            "full": lambda: rng.random(shape), "bool": lambda: rng.random(shape[-1]) > 0.5,
            "wrong": lambda: rng.random(shape[-1] + 1)}[mask_kind]()
    kwargs = dict(w_g=2.5, w_l=1.5, alpha=alpha, sigma=0.5, a=0.3, b=0.7, c=0.1 if extras else 0.0,
                  d=0.05 if extras else 0.0, pred_type=pred_type, clamp=clamp)
    expect_error = mismatch is not None or mask_kind == "wrong" or pred_type == "bogus" or (
        alpha == 0.0 and pred_type == "eps")
    try:
        x_next, x0 = kernels.guided_step(eu, eg, egl, x, mask, x0_prev=prev if extras else None,
                                         noise=noise if extras else None, backend=backend, **kwargs)
    except ARG_ERRORS as exc:
        _refused(exc, backend)
        if isinstance(exc, BackendError):
            return
        assert expect_error or layout != "contiguous", f"valid call refused: {exc}"
        return
    event("guided_step: result")
    assert not expect_error, "a bad argument was accepted"
    f64 = [np.asarray(a, np.float64) for a in (eu, eg, egl, x)]
    ref_next, ref_x0 = reference.guided_step(*f64, np.asarray(mask, np.float64), **kwargs,
                                             x0_prev=np.asarray(prev, np.float64) if extras else None,
                                             noise=np.asarray(noise, np.float64) if extras else None)
    tol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(x0, ref_x0, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(x_next, ref_next, rtol=tol, atol=tol * 10)


# --- mesh_warp ----------------------------------------------------------------------------


@settings(FUZZ, max_examples=100)
@given(height=st.integers(1, 24), width=st.integers(1, 24), channels=st.integers(1, 4),
       frames=st.integers(1, 3), n_vertices=st.integers(3, 9), n_triangles=st.integers(0, 8),
       dtype=st.sampled_from(["uint8", "float32", "float64", "int16"]),
       layout=st.sampled_from(["contiguous", "strided", "fortran"]), spread=st.sampled_from([0.0, 1.0, 3.0, 1e4]),
       bad=st.sampled_from([None, None, None, "index", "negative", "float_tri", "dst_shape", "src_shape", "nan"]),
       backend=st.sampled_from(BACKENDS), seed=st.integers(0, 999))
def test_mesh_warp(height, width, channels, frames, n_vertices, n_triangles, dtype, layout, spread, bad, backend,
                   seed):
    rng = np.random.default_rng(seed)
    if dtype in ("uint8", "int16"):
        image = rng.integers(0, 256, (height, width, channels)).astype(dtype)
    else:
        image = rng.uniform(-1, 1, (height, width, channels)).astype(dtype)
    image = _view(rng, image, layout)
    size = np.array([width, height], np.float32)
    src = (rng.uniform(-0.5, 1.5, (n_vertices, 2)) * size * max(spread, 1e-3)).astype(np.float32)
    dst = (src[None] + rng.normal(0, 2.0, (frames, n_vertices, 2))).astype(np.float32)
    tri = rng.integers(0, n_vertices, (n_triangles, 3)).astype(np.int64)
    if bad == "index" and n_triangles:
        tri[0, 0] = n_vertices
    elif bad == "negative" and n_triangles:
        tri[-1, 2] = -1
    elif bad == "float_tri":
        tri = tri.astype(np.float32)
    elif bad == "dst_shape":
        dst = dst[:, :-1]
    elif bad == "src_shape":
        src = src[:, :1]
    elif bad == "nan":
        dst[0, 0, 0] = np.nan
    try:
        out = kernels.mesh_warp(image, src, dst, tri, backend=backend)
    except ARG_ERRORS as exc:
        _refused(exc, backend)
        if isinstance(exc, BackendError):
            return
        refusable = bad is not None or layout != "contiguous" or dtype not in ("uint8", "float32")
        assert refusable, f"valid call refused: {exc}"
        return
    event("mesh_warp: result")
    assert bad in (None, "nan") or (bad in ("index", "negative") and n_triangles == 0), f"{bad!r} accepted"
    assert out.shape == (frames, height, width, channels) and out.dtype == image.dtype
    if bad == "nan":
        return  # a NaN vertex makes its triangles degenerate: any in-range output is allowed
    expected = reference.mesh_warp(np.ascontiguousarray(image), src, dst, tri.astype(np.int32))
    atol = 1 if dtype == "uint8" else 1e-4
    # far-outside vertices make huge, thin triangles: float32 edge tests may flip a boundary pixel
    mismatch = np.abs(out.astype(np.float64) - expected.astype(np.float64)) > atol
    assert mismatch.mean() <= (0.0 if spread <= 3.0 else 0.02), f"{mismatch.sum()} pixels differ"


@pytest.mark.parametrize("backend", BACKENDS)
def test_fuzz_covers_results_and_refusals(backend):
    """The fuzzed generators above reach both outcomes (not only refusals): a fixed sample."""
    q = np.ones((1, 1, 4, 8), np.float32)
    assert kernels.attention(q, q, q, backend=backend).shape == q.shape
    with pytest.raises(ValueError):
        kernels.attention(q, q[..., :4], q, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_no_triangles_keeps_the_image(backend, index_dtype):
    """Found by the fuzzer: an empty [0, 3] index array (strides of 0) was refused as non-contiguous."""
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    out = kernels.mesh_warp(image, np.zeros((3, 2)), np.zeros((2, 3, 2)), np.zeros((0, 3), index_dtype),
                            backend=backend)
    np.testing.assert_array_equal(out, np.stack([image, image]))
