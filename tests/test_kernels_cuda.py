"""CUDA kernels vs the float64 references (skipped without a CUDA device or a CUDA build)."""

from __future__ import annotations

import numpy as np
import pytest

from tbd import kernels
from tbd.kernels import reference

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
    pytest.mark.skipif(not kernels.backend_info()["cuda"], reason="tbd._C built without CUDA kernels"),
]

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def to_cuda(a: np.ndarray, dtype) -> "torch.Tensor":
    return torch.from_numpy(np.ascontiguousarray(a)).to(device="cuda", dtype=dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize(
    "shape", [(1, 1, 1, 1, 64), (2, 3, 7, 7, 33), (2, 2, 97, 97, 64), (1, 2, 100, 37, 128), (1, 1, 1025, 1025, 32), (1, 2, 9, 300, 256)]
)
def test_attention_matches_reference_within_twice_torch_error(shape, dtype) -> None:
    rng = np.random.default_rng(sum(shape))
    b, h, tq, tk, d = shape
    q = rng.standard_normal((b, h, tq, d)).astype(np.float32)
    k = rng.standard_normal((b, h, tk, d)).astype(np.float32)
    v = rng.standard_normal((b, h, tk, d)).astype(np.float32)
    tdtype = DTYPES[dtype]
    # The reference sees exactly the values the kernel sees (rounded to the input dtype).
    q, k, v = (to_cuda(a, tdtype).float().cpu().numpy() for a in (q, k, v))
    mask = rng.random((b, tk)) > 0.3
    cases = [{}, {"mask": mask}] + ([{"window": 6, "mask": mask}] if tq == tk else [])
    for opts in cases:
        expected = reference.attention(q, k, v, **opts)
        out = torch.full((b, h, tq, d), float("nan"), device="cuda", dtype=tdtype)
        cuda_mask = None if "mask" not in opts else to_cuda(opts["mask"], torch.bool)
        result = kernels.attention(
            *(to_cuda(a, tdtype) for a in (q, k, v)), mask=cuda_mask, window=opts.get("window"), out=out,
            backend="native",
        )
        torch.cuda.synchronize()
        error = float(np.abs(result.float().cpu().numpy() - expected).max())
        allowed = torch.ones(b, 1, tq, tk, dtype=torch.bool, device="cuda")
        if "mask" in opts:
            allowed &= to_cuda(opts["mask"], torch.bool)[:, None, None, :]
        if "window" in opts:
            i, j = torch.arange(tq, device="cuda")[:, None], torch.arange(tk, device="cuda")[None, :]
            allowed &= ((i - j).abs() <= opts["window"])[None, None]
        ref_t = torch.nn.functional.scaled_dot_product_attention(
            *(to_cuda(a, tdtype) for a in (q, k, v)), attn_mask=allowed
        ).float().cpu().numpy()
        valid = allowed.any(-1).cpu().numpy()[..., None]
        torch_error = float(np.abs(np.where(valid, ref_t, expected) - expected).max())
        assert error <= 2 * torch_error + 1e-6, (opts, error, torch_error)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_guided_step_matches_reference(dtype) -> None:
    rng = np.random.default_rng(7)
    tdtype = DTYPES[dtype]
    for shape, mask in [((3, 97, 29), rng.random(29)), ((2, 1025, 33), rng.random((2, 1, 33))), ((7,), np.float32(0.5))]:
        arrays = [to_cuda(rng.standard_normal(shape).astype(np.float32), tdtype) for _ in range(6)]
        host = [a.float().cpu().numpy() for a in arrays]
        kw = dict(w_g=2.5, w_l=1.5, alpha=0.8, sigma=0.6, a=0.3, b=0.7, c=0.1, d=0.05, clamp=1.5)
        expected = reference.guided_step(*host[:4], mask, **kw, x0_prev=host[4], noise=host[5])
        out = tuple(torch.full(shape, float("nan"), device="cuda", dtype=tdtype) for _ in range(2))
        got = kernels.guided_step(*arrays[:4], mask, **kw, x0_prev=arrays[4], noise=arrays[5], out=out, backend="native")
        torch.cuda.synchronize()
        # Rounding the result to the dtype is the only error beyond float32 arithmetic.
        eps = {"float32": 1e-5, "float16": 2 ** -10, "bfloat16": 2 ** -7}[dtype]
        for value, ref in zip(got, expected):
            err = np.abs(value.float().cpu().numpy() - ref)
            assert (err <= eps * (np.abs(ref) + 1) * 1.01).all()


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_mesh_warp_matches_cpu_and_reference(dtype) -> None:
    rng = np.random.default_rng(8)
    height, width = 97, 130
    if dtype == "uint8":
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        image = rng.uniform(-1, 1, (height, width, 3)).astype(np.float32)
    xs, ys = np.meshgrid(np.linspace(-4, width + 3, 9), np.linspace(-4, height + 3, 7))
    src = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    tri = []
    for r in range(6):
        for c in range(8):
            i = r * 9 + c
            tri += [[i, i + 1, i + 10], [i, i + 10, i + 9]]
    tri = np.array(tri, np.int32)
    dst = (src[None] + rng.normal(0, 3.0, (3, *src.shape))).astype(np.float32)
    expected = reference.mesh_warp(image, src, dst, tri)
    out = torch.full((3, height, width, 3), 7, device="cuda", dtype=getattr(torch, dtype))
    result = kernels.mesh_warp(to_cuda(image, getattr(torch, dtype)), to_cuda(src, torch.float32),
                               to_cuda(dst, torch.float32), to_cuda(tri, torch.int32), out=out, backend="native")
    torch.cuda.synchronize()
    error = np.abs(result.cpu().numpy().astype(np.float64) - expected)
    assert error.max() <= (0.5 + 1e-3 if dtype == "uint8" else 1e-4)


def test_work_runs_on_the_callers_stream() -> None:
    rng = np.random.default_rng(9)
    q = to_cuda(rng.standard_normal((2, 4, 257, 64)).astype(np.float32), torch.float32)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        result = kernels.attention(q, q, q)
    stream.synchronize()
    expected = reference.attention(*(q.cpu().numpy(),) * 3)
    assert np.abs(result.cpu().numpy() - expected).max() < 1e-4
