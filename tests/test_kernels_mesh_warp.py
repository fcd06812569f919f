"""mesh_warp: native kernel vs the float64 reference, dtypes, odd shapes, edge cases, errors."""

from __future__ import annotations

import numpy as np
import pytest

from tbd import kernels
from tbd.kernels import reference


def grid_mesh(height: int, width: int, rows: int, cols: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """A regular triangulated grid that extends `margin` pixels beyond the image."""
    xs, ys = np.meshgrid(
        np.linspace(-margin, width - 1 + margin, cols + 1), np.linspace(-margin, height - 1 + margin, rows + 1)
    )
    vertices = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    triangles = []
    for r in range(rows):
        for c in range(cols):
            i = r * (cols + 1) + c
            triangles += [[i, i + 1, i + cols + 2], [i, i + cols + 2, i + cols + 1]]
    return vertices, np.array(triangles, dtype=np.int32)


def random_case(rng: np.random.Generator, height: int, width: int, channels: int, frames: int, dtype: str):
    if dtype == "uint8":
        image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    else:
        image = rng.uniform(-1.0, 1.0, (height, width, channels)).astype(np.float32)
    src, tri = grid_mesh(height, width, 4, 5, margin=3.0)
    jitter = rng.normal(0.0, 0.04 * min(height, width), (frames, *src.shape))
    dst = (src[None] + jitter).astype(np.float32)
    return image, src, dst, tri


def poisoned_outputs(image: np.ndarray, frames: int) -> list[np.ndarray]:
    """Output buffers that make any unwritten element fail the comparison."""
    shape = (frames, *image.shape)
    if image.dtype == np.uint8:  # two different fills: no correct value can match both
        return [np.full(shape, 0, np.uint8), np.full(shape, 255, np.uint8)]
    return [np.full(shape, np.nan, np.float32)]


def grid_sample_error(image: np.ndarray, src, dst, tri, expected: np.ndarray) -> float:
    """Error of the same warp done by torch grid_sample in float32 (torch's own precision)."""
    torch = pytest.importorskip("torch")
    h, w, _ = image.shape
    coords, covered = reference.mesh_warp_coordinates(src, dst, tri, h, w)
    grid = np.stack([coords[..., 0] / (w - 1) * 2 - 1, coords[..., 1] / (h - 1) * 2 - 1], axis=-1)
    frames = grid.shape[0]
    img = torch.from_numpy(image).permute(2, 0, 1)[None].expand(frames, -1, -1, -1).float()
    sampled = torch.nn.functional.grid_sample(
        img, torch.from_numpy(grid).float(), mode="bilinear", padding_mode="border", align_corners=True
    )
    result = np.where(covered[..., None], sampled.permute(0, 2, 3, 1).double().numpy(), image[None])
    return float(np.abs(result - expected).max())


@pytest.mark.parametrize(
    "height,width,channels,frames",
    [(1, 7, 3, 1), (7, 1, 1, 2), (37, 53, 3, 3), (97, 64, 4, 2), (33, 41, 5, 1), (64, 97, 1, 4)],
)
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_matches_reference(height: int, width: int, channels: int, frames: int, dtype: str) -> None:
    rng = np.random.default_rng(height * 1000 + width * 10 + channels)
    image, src, dst, tri = random_case(rng, height, width, channels, frames, dtype)
    expected = reference.mesh_warp(image, src, dst, tri)
    for out in poisoned_outputs(image, frames):
        result = kernels.mesh_warp(image, src, dst, tri, out=out, backend="native")
        assert result is out and result.dtype == image.dtype
        error = np.abs(result.astype(np.float64) - expected)
        if dtype == "uint8":
            assert error.max() <= 0.5 + 1e-3  # rounding to nearest
        else:
            if min(height, width) > 1:
                assert error.max() <= 2 * grid_sample_error(image, src, dst, tri, expected) + 1e-6
            assert error.max() <= 1e-4


def test_default_call_allocates_and_matches() -> None:
    rng = np.random.default_rng(1)
    image, src, dst, tri = random_case(rng, 29, 31, 3, 2, "uint8")
    frames = kernels.mesh_warp(image, src, dst, tri)
    assert frames.shape == (2, 29, 31, 3) and frames.dtype == np.uint8
    assert np.abs(frames - reference.mesh_warp(image, src, dst, tri)).max() <= 0.5 + 1e-3


def test_uncovered_pixels_keep_source_and_identity_mesh_is_identity() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    # One small triangle: everything else is uncovered. Identity mesh: the triangle maps to itself.
    src = np.array([[10, 10], [30, 12], [15, 30]], np.float32)
    frames = kernels.mesh_warp(image, src, src[None], np.array([[0, 1, 2]], np.int32))
    assert np.array_equal(frames[0], image)
    # Shifted source: only pixels inside the triangle change.
    moved = kernels.mesh_warp(image, src + 5.0, src[None], np.array([[0, 1, 2]], np.int32))
    _, covered = reference.mesh_warp_coordinates(src + 5.0, src[None], np.array([[0, 1, 2]]), 40, 50)
    assert np.array_equal(moved[0][~covered[0]], image[~covered[0]])
    assert np.array_equal(moved[0, 20, 18], image[25, 23])  # integer shift samples exactly


def test_overlap_highest_index_wins_and_degenerate_covers_nothing() -> None:
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 1, (32, 32, 2)).astype(np.float32)
    src = np.array([[2, 2], [28, 2], [2, 28], [5, 5], [25, 5], [5, 25], [9, 9], [9, 9], [9, 9]], np.float32)
    dst = np.array([[2, 2], [28, 2], [2, 28], [2, 2], [28, 2], [2, 28], [1, 1], [30, 30], [15.5, 15.5]], np.float32)
    tri = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]], np.int32)  # 0 and 1 coincide; 2 is a line
    first_wins = kernels.mesh_warp(image, src, dst[None], tri[[1, 0]], backend="native")[0]
    last_wins = kernels.mesh_warp(image, src, dst[None], tri, backend="native")[0]
    only_second = kernels.mesh_warp(image, src, dst[None], tri[[1]], backend="native")[0]
    only_first = kernels.mesh_warp(image, src, dst[None], tri[[0]], backend="native")[0]
    np.testing.assert_array_equal(last_wins, only_second)
    np.testing.assert_array_equal(first_wins, only_first)
    assert not np.array_equal(only_first, only_second)
    expected = reference.mesh_warp(image, src, dst[None], tri)[0]
    np.testing.assert_allclose(last_wins, expected, atol=1e-5)


def test_triangles_far_outside_and_huge_coordinates() -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    src = np.array([[0, 0], [23, 0], [0, 19], [-1e6, -1e6], [1e6, -1e6], [0, 1e6]], np.float32)
    dst = np.array([[[1, 1], [40, 3], [2, 50], [-1e6, -1e6], [1e6, -1e6], [0, 1e6]]], np.float32)
    tri = np.array([[3, 4, 5], [0, 1, 2]], np.int32)
    frames = kernels.mesh_warp(image, src, dst, tri, backend="native")
    expected = reference.mesh_warp(image, src, dst, tri)
    assert np.abs(frames - expected).max() <= 0.5 + 1e-3


def test_reference_backend_and_vertex_conversion() -> None:
    rng = np.random.default_rng(5)
    image, src, dst, tri = random_case(rng, 17, 19, 3, 2, "float32")
    native = kernels.mesh_warp(image, src.astype(np.float64), dst.astype(np.float64), tri.astype(np.int64))
    fallback = kernels.mesh_warp(image, src, dst, tri, backend="reference")
    np.testing.assert_allclose(native, fallback, atol=1e-4)


@pytest.mark.parametrize(
    "change,error,match",
    [
        (lambda a: {**a, "image": a["image"][..., 0]}, ValueError, "'image' must have shape"),
        (lambda a: {**a, "image": a["image"].astype(np.int16)}, TypeError, "'image' has dtype int16"),
        (lambda a: {**a, "image": a["image"][:, ::2]}, ValueError, "'image' must be C-contiguous"),
        (lambda a: {**a, "src_vertices": a["src_vertices"][:, :1]}, ValueError, "'src_vertices' must have shape"),
        (lambda a: {**a, "dst_vertices": a["dst_vertices"][:, :-1]}, ValueError, "'dst_vertices' must have shape"),
        (lambda a: {**a, "triangles": a["triangles"] + 1000}, ValueError, "'triangles' holds vertex indices"),
        (lambda a: {**a, "triangles": a["triangles"].astype(np.float32)}, TypeError, "'triangles' must hold integer"),
        (lambda a: {**a, "image": [[1.0]]}, TypeError, "'image' must be a numpy array"),
    ],
)
def test_bad_arguments_name_the_argument(change, error, match) -> None:
    rng = np.random.default_rng(6)
    image, src, dst, tri = random_case(rng, 12, 14, 3, 1, "uint8")
    args = change({"image": image, "src_vertices": src, "dst_vertices": dst, "triangles": tri})
    with pytest.raises(error, match=match):
        kernels.mesh_warp(**args)


def test_bad_out_is_rejected() -> None:
    rng = np.random.default_rng(7)
    image, src, dst, tri = random_case(rng, 12, 14, 3, 2, "uint8")
    with pytest.raises(ValueError, match="'out' must have shape"):
        kernels.mesh_warp(image, src, dst, tri, out=np.empty((1, 12, 14, 3), np.uint8))
    with pytest.raises(TypeError, match="'out' has dtype"):
        kernels.mesh_warp(image, src, dst, tri, out=np.empty((2, 12, 14, 3), np.float32))
    readonly = np.empty((2, 12, 14, 3), np.uint8)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="'out' is read-only"):
        kernels.mesh_warp(image, src, dst, tri, out=readonly, backend="native")
