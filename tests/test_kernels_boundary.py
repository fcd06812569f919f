"""The array boundary: numpy and torch in, the same type out, no copies, torch optional, custom ops."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tbd import kernels
from tbd.kernels import reference


def mesh_case(rng: np.random.Generator, frames: int = 2):
    image = rng.integers(0, 256, (21, 26, 3), dtype=np.uint8)
    src = np.array([[-2, -2], [27, -2], [27, 22], [-2, 22], [12, 10]], np.float32)
    tri = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]], np.int32)
    dst = (src[None] + rng.normal(0, 2.0, (frames, *src.shape))).astype(np.float32)
    return image, src, dst, tri


def test_native_extension_is_built() -> None:
    info = kernels.backend_info()
    assert info["native"], f"tbd._C did not import: {info['error']}"
    import tbd._C

    assert set(tbd._C.build_info()) >= {"openmp", "cuda", "cuda_archs", "compiler"}


def test_numpy_outputs_are_written_in_place() -> None:
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 2, 5, 8)).astype(np.float32)
    out = np.full_like(q, np.nan)
    assert kernels.attention(q, q, q, out=out) is out
    assert not np.isnan(out).any()


def test_concurrent_callers_share_the_thread_pool() -> None:
    """Kernels release the GIL: several Python threads may run them at once on the same pool."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((2, 4, 150, 32)).astype(np.float32) for _ in range(4)]
    expected = [reference.attention(q, q, q) for q in inputs]

    def run(i: int) -> float:
        return max(float(np.abs(kernels.attention(inputs[i], inputs[i], inputs[i]) - expected[i]).max())
                   for _ in range(10))

    with ThreadPoolExecutor(4) as pool:
        errors = list(pool.map(run, range(4)))
    assert max(errors) < 1e-5


def _fork_child_error(_: int) -> float:
    q = np.random.default_rng(6).standard_normal((2, 4, 150, 32)).astype(np.float32)
    return float(np.abs(kernels.attention(q, q, q) - reference.attention(q, q, q)).max())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_kernels_work_in_forked_children() -> None:
    """After the parent used its worker threads, a forked child (DataLoader workers,
    multiprocessing pools) must still run the kernels instead of waiting for threads it lacks."""
    import multiprocessing

    _fork_child_error(0)  # the parent starts its OpenMP workers
    with multiprocessing.get_context("fork").Pool(2) as pool:
        errors = pool.map_async(_fork_child_error, range(2)).get(timeout=60)
    assert max(errors) < 1e-5


def test_import_and_run_without_torch() -> None:
    """tbd.kernels must work for numpy users who do not have torch installed."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any `import torch` now fails
        import numpy as np
        from tbd import kernels
        from tbd.kernels import reference
        rng = np.random.default_rng(0)
        q = rng.standard_normal((1, 2, 9, 16)).astype(np.float32)
        assert np.abs(kernels.attention(q, q, q) - reference.attention(q, q, q)).max() < 1e-5
        x = rng.standard_normal((2, 5, 4)).astype(np.float32)
        xn, x0 = kernels.guided_step(x, x, x, x, np.ones(4, np.float32), w_g=1, w_l=1, alpha=1, sigma=0, a=0, b=1)
        assert np.abs(x0 - x).max() < 1e-6
        image = rng.integers(0, 255, (8, 9, 3), dtype=np.uint8)
        v = np.array([[0, 0], [8, 0], [0, 7]], np.float32)
        assert kernels.mesh_warp(image, v, v[None], np.array([[0, 1, 2]], np.int32)).shape == (1, 8, 9, 3)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


# ---- torch -------------------------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def test_torch_in_torch_out_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 3, 17, 32)).astype(np.float32)
    k = rng.standard_normal((2, 3, 11, 32)).astype(np.float32)
    mask = rng.random((2, 11)) > 0.3
    result = kernels.attention(torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(k), mask=torch.from_numpy(mask))
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    np.testing.assert_allclose(result.numpy(), kernels.attention(q, k, k, mask=mask), atol=1e-6)

    x = rng.standard_normal((2, 9, 5)).astype(np.float32)
    coeffs = dict(w_g=2.0, w_l=1.5, alpha=0.9, sigma=0.4, a=0.2, b=0.8)
    t_next, t_x0 = kernels.guided_step(*(torch.from_numpy(x + i) for i in range(4)), torch.ones(5), **coeffs)
    n_next, n_x0 = kernels.guided_step(*(x + i for i in range(4)), np.ones(5, np.float32), **coeffs)
    assert isinstance(t_next, torch.Tensor)
    np.testing.assert_allclose(t_next.numpy(), n_next, atol=1e-6)
    np.testing.assert_allclose(t_x0.numpy(), n_x0, atol=1e-6)

    image, src, dst, tri = mesh_case(rng)
    frames = kernels.mesh_warp(torch.from_numpy(image), torch.from_numpy(src), torch.from_numpy(dst), torch.from_numpy(tri))
    assert isinstance(frames, torch.Tensor) and frames.dtype == torch.uint8
    np.testing.assert_array_equal(frames.numpy(), kernels.mesh_warp(image, src, dst, tri))


def test_torch_out_is_written_in_place_and_float64_falls_back() -> None:
    rng = np.random.default_rng(2)
    q = torch.from_numpy(rng.standard_normal((1, 2, 7, 8)).astype(np.float32))
    out = torch.full_like(q, float("nan"))
    result = kernels.attention(q, q, q, out=out)
    assert result.data_ptr() == out.data_ptr() and not torch.isnan(out).any()
    q64 = q.double()
    expected = reference.attention(q64.numpy(), q64.numpy(), q64.numpy())
    np.testing.assert_allclose(kernels.attention(q64, q64, q64).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_custom_ops_pass_opcheck() -> None:
    from tbd.kernels import torch_ops  # noqa: F401  (registers tbd::)

    rng = np.random.default_rng(3)
    q = torch.from_numpy(rng.standard_normal((2, 2, 9, 16)).astype(np.float32))
    mask = torch.from_numpy(rng.random((2, 9)) > 0.3)
    torch.library.opcheck(torch.ops.tbd.attention.default, (q, q, q, mask, 3, 0.5))
    x = torch.from_numpy(rng.standard_normal((2, 6, 4)).astype(np.float32))
    torch.library.opcheck(
        torch.ops.tbd.guided_step.default,
        (x, x + 1, x - 1, x * 2, torch.ones(4), x, x, 1.5, 2.0, 0.9, 0.3, 0.2, 0.7, 0.1, 0.05, "eps", 2.0),
    )
    image, src, dst, tri = mesh_case(rng)
    torch.library.opcheck(
        torch.ops.tbd.mesh_warp.default,
        (torch.from_numpy(image), torch.from_numpy(src), torch.from_numpy(dst), torch.from_numpy(tri)),
    )


def test_torch_compile_traces_the_kernels_without_graph_breaks() -> None:
    rng = np.random.default_rng(4)
    q = torch.from_numpy(rng.standard_normal((1, 2, 13, 16)).astype(np.float32))
    mask = torch.from_numpy(rng.random((1, 13)) > 0.2)
    x = torch.from_numpy(rng.standard_normal((1, 13, 4)).astype(np.float32))
    channel_mask = torch.tensor([1.0, 0.0, 1.0, 0.0])

    def step(q: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = kernels.attention(q, q, q, mask=mask, window=4)
        return kernels.guided_step(x, x + 1, x - 1, x, channel_mask, w_g=2.0, w_l=1.0, alpha=0.8, sigma=0.6, a=0.5, b=0.5, clamp=3.0)[0], h

    compiled = torch.compile(step, backend="eager", fullgraph=True)
    got_next, got_h = compiled(q, x)
    want_next, want_h = step(q, x)
    torch.testing.assert_close(got_next, want_next)
    torch.testing.assert_close(got_h, want_h)
