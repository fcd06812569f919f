"""Public kernel entry points: check arguments, pick a backend, run.

Backends (xformers-style, one interface): "native" is tbd._C (CPU, or CUDA for CUDA tensors when
the build has CUDA kernels); "reference" is the float64 numpy code in `tbd.kernels.reference`.
"auto" (the default) takes native when it can run the inputs and the reference otherwise.
numpy in gives numpy out; torch in gives torch out on the same device. Torch callers without
`out=` go through the `tbd::` custom ops (tbd.kernels.torch_ops) so torch.compile sees them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _arrays, reference
from ._native import native, use_native

Array = Any  # numpy.ndarray or torch.Tensor


def _shape_error(name: str, expected: str, got: tuple[int, ...]) -> ValueError:
    return ValueError(f"'{name}' must have shape {expected}, got {list(got)}")


def _check_out(out: Array, like: Array, shape: tuple[int, ...], dtype: str, kind: str) -> None:
    if _arrays.array_kind("out", out) != kind:
        raise TypeError(f"'out' must be a {kind} array like the inputs")
    if tuple(out.shape) != tuple(shape):
        raise _shape_error("out", str(list(shape)), tuple(out.shape))
    if _arrays.dtype_name(out) != dtype:
        raise TypeError(f"'out' has dtype {_arrays.dtype_name(out)}; expected {dtype}")
    if _arrays.device_of(out) != _arrays.device_of(like):
        raise ValueError("'out' must be on the same device as the inputs")


def _empty(like: Array, shape: tuple[int, ...]) -> Array:
    if _arrays.is_numpy(like):
        return np.empty(shape, dtype=like.dtype)
    return like.new_empty(shape)


# ---- mesh_warp -----------------------------------------------------------------------------------


def _mesh_inputs(image: Array, src: Any, dst: Any, tri: Any) -> tuple[Array, Array, Array]:
    """Vertices as float32 and triangles as int32 in the image's array type and device.

    These are small, so converting them (e.g. float64 vertices) is cheap; the image is never copied.
    """
    if _arrays.is_numpy(image):
        src_a = np.ascontiguousarray(src, dtype=np.float32)
        dst_a = np.ascontiguousarray(dst, dtype=np.float32)
        tri_np = np.asarray(tri)
    else:
        torch = _arrays.torch_module()
        src_a = torch.as_tensor(src, dtype=torch.float32, device=image.device).contiguous()
        dst_a = torch.as_tensor(dst, dtype=torch.float32, device=image.device).contiguous()
        tri_np = tri if _arrays.is_torch(tri) else np.asarray(tri)
    if _arrays.is_numpy(tri_np) and not np.issubdtype(tri_np.dtype, np.integer):
        raise TypeError(f"'triangles' must hold integer vertex indices, got dtype {tri_np.dtype}")
    if _arrays.is_torch(tri_np) and (tri_np.is_floating_point() or tri_np.is_complex()):
        raise TypeError(f"'triangles' must hold integer vertex indices, got dtype {tri_np.dtype}")
    if src_a.ndim != 2 or src_a.shape[1] != 2:
        raise _shape_error("src_vertices", "[V, 2] (x, y in pixels)", tuple(src_a.shape))
    n_vertices = src_a.shape[0]
    if dst_a.ndim != 3 or tuple(dst_a.shape[1:]) != (n_vertices, 2):
        raise _shape_error("dst_vertices", f"[F, {n_vertices}, 2] (F frames of src's vertices)", tuple(dst_a.shape))
    if tri_np.ndim != 2 or tri_np.shape[1] != 3:
        raise _shape_error("triangles", "[N, 3]", tuple(tri_np.shape))
    if tri_np.shape[0] and (int(tri_np.min()) < 0 or int(tri_np.max()) >= n_vertices):
        raise ValueError(f"'triangles' holds vertex indices outside [0, {n_vertices})")
    if _arrays.is_numpy(image):
        tri_a = np.ascontiguousarray(tri_np, dtype=np.int32)
    else:
        torch = _arrays.torch_module()
        tri_a = torch.as_tensor(tri_np, device=image.device).to(torch.int32).contiguous()
    return src_a, dst_a, tri_a


def _check_image(image: Array) -> None:
    if image.ndim != 3:
        raise _shape_error("image", "[H, W, C]", tuple(image.shape))
    if _arrays.dtype_name(image) not in ("uint8", "float32"):
        raise TypeError(f"'image' has dtype {_arrays.dtype_name(image)}; expected uint8 or float32")
    if min(image.shape) < 1:
        raise ValueError(f"'image' must be non-empty, got shape {list(image.shape)}")
    contiguous = image.flags.c_contiguous if _arrays.is_numpy(image) else image.is_contiguous()
    if not contiguous:
        raise ValueError("'image' must be C-contiguous (numpy.ascontiguousarray or .contiguous())")


def mesh_warp_into(image: Array, src: Array, dst: Array, tri: Array, out: Array, backend: str = "auto") -> None:
    """Warp into `out` [F, H, W, C]; arguments already normalised by `_mesh_inputs`."""
    device, _ = _arrays.device_of(image)
    if use_native("mesh_warp", device, True, backend):
        native.mesh_warp(
            _arrays.describe("image", image),
            _arrays.describe("src_vertices", src),
            _arrays.describe("dst_vertices", dst),
            _arrays.describe("triangles", tri),
            _arrays.describe("out", out),
            _arrays.cuda_stream(image),
        )
        return
    result = reference.mesh_warp(*(_arrays.to_numpy(a) for a in (image, src, dst, tri)))
    out[...] = _arrays.from_numpy_like(result, out)


def mesh_warp(
    image: Array,
    src_vertices: Any,
    dst_vertices: Any,
    triangles: Any,
    *,
    out: Array | None = None,
    backend: str = "auto",
) -> Array:
    """Warp `image` [H, W, C] (uint8 or float32) by a triangle mesh for F frames at once.

    `src_vertices` [V, 2] and `dst_vertices` [F, V, 2] are (x, y) pixel positions (pixel centres at
    integer coordinates); `triangles` [N, 3] indexes the vertices. Each output pixel inside
    destination triangle t samples the image bilinearly (border clamped) at its affine image in
    source triangle t. Pixels no triangle covers keep the source pixel; where triangles overlap,
    the one with the highest index wins; degenerate destination triangles cover nothing.
    Returns [F, H, W, C] with the image's dtype, array type and device (uint8 rounds to nearest).
    """
    kind = _arrays.array_kind("image", image)
    _check_image(image)
    src, dst, tri = _mesh_inputs(image, src_vertices, dst_vertices, triangles)
    shape = (dst.shape[0], *image.shape)
    if out is None and kind == "torch" and backend == "auto":
        from . import torch_ops

        return torch_ops.mesh_warp(image, src, dst, tri)
    if out is None:
        out = _empty(image, shape)
    else:
        _check_out(out, image, shape, _arrays.dtype_name(image), kind)
    mesh_warp_into(image, src, dst, tri, out, backend)
    return out
