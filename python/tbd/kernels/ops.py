"""Public kernel entry points: check arguments, pick a backend, run.

Backends (xformers-style, one interface): "native" is tbd._C (CPU, or CUDA for CUDA tensors when
the build has CUDA kernels); "reference" is the float64 numpy code in `tbd.kernels.reference`.
"auto" (the default) takes native when it supports the dtype and device, else the reference.
numpy in gives numpy out; torch in gives torch out on the same device.

Torch tensors run through the `tbd::` custom ops (`tbd.kernels.torch_ops`) whenever torch needs to
see them (torch.compile, export, tracing, autograd); plain eager calls skip the op dispatcher,
which would otherwise cost more than a small kernel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _arrays, reference
from ._native import native, use_native

Array = Any  # numpy.ndarray or torch.Tensor


def _shape_error(name: str, expected: str, got: tuple[int, ...]) -> ValueError:
    return ValueError(f"'{name}' must have shape {expected}, got {list(got)}")


def _check_out(out: Array, like: Array, like_name: str, shape: tuple[int, ...], name: str = "out") -> None:
    _arrays.check_like(name, out, like, like_name)
    if tuple(out.shape) != tuple(shape):
        raise _shape_error(name, str(list(shape)), tuple(out.shape))


def _torch_ops() -> Any:
    from . import torch_ops  # imports torch and registers the tbd:: ops on first use

    return torch_ops


# ---- mesh_warp -----------------------------------------------------------------------------------


def _mesh_inputs(image: Array, src: Any, dst: Any, tri: Any) -> tuple[Array, Array, Array]:
    """Vertices as float32 and triangles as int32 in the image's array type and device.

    These are small, so converting them (e.g. float64 vertices) is cheap; the image is never copied.
    """
    if isinstance(image, np.ndarray):
        src_a = np.ascontiguousarray(src, dtype=np.float32)
        dst_a = np.ascontiguousarray(dst, dtype=np.float32)
        tri_in = tri if isinstance(tri, np.ndarray) else np.asarray(tri)
    else:
        torch = _arrays.torch_module()
        src_a = torch.as_tensor(src, dtype=torch.float32, device=image.device).contiguous()
        dst_a = torch.as_tensor(dst, dtype=torch.float32, device=image.device).contiguous()
        tri_in = tri if _arrays.is_torch(tri) else np.asarray(tri)
    integer = (
        np.issubdtype(tri_in.dtype, np.integer)
        if isinstance(tri_in, np.ndarray)
        else not (tri_in.is_floating_point() or tri_in.is_complex() or tri_in.dtype == _arrays.torch_module().bool)
    )
    if not integer:
        raise TypeError(f"'triangles' must hold integer vertex indices, got dtype {_arrays.dtype_name(tri_in)}")
    if src_a.ndim != 2 or src_a.shape[1] != 2:
        raise _shape_error("src_vertices", "[V, 2] (x, y in pixels)", tuple(src_a.shape))
    n_vertices = src_a.shape[0]
    if dst_a.ndim != 3 or tuple(dst_a.shape[1:]) != (n_vertices, 2):
        raise _shape_error("dst_vertices", f"[F, {n_vertices}, 2] (F frames of src's vertices)", tuple(dst_a.shape))
    if tri_in.ndim != 2 or tri_in.shape[1] != 3:
        raise _shape_error("triangles", "[N, 3]", tuple(tri_in.shape))
    if tri_in.shape[0] and (int(tri_in.min()) < 0 or int(tri_in.max()) >= n_vertices):
        raise ValueError(f"'triangles' holds vertex indices outside [0, {n_vertices})")
    if isinstance(image, np.ndarray):
        tri_a = np.ascontiguousarray(tri_in, dtype=np.int32)
    else:
        torch = _arrays.torch_module()
        tri_a = torch.as_tensor(tri_in, device=image.device).to(torch.int32).contiguous()
    return src_a, dst_a, tri_a


def _check_image(image: Array) -> None:
    if image.ndim != 3:
        raise _shape_error("image", "[H, W, C]", tuple(image.shape))
    if _arrays.dtype_name(image) not in ("uint8", "float32"):
        raise TypeError(f"'image' has dtype {_arrays.dtype_name(image)}; expected uint8 or float32")
    if min(image.shape) < 1:
        raise ValueError(f"'image' must be non-empty, got shape {list(image.shape)}")
    if not _arrays.is_contiguous(image):
        raise ValueError("'image' must be C-contiguous (numpy.ascontiguousarray or .contiguous())")


def mesh_warp_into(image: Array, src: Array, dst: Array, tri: Array, out: Array, backend: str = "auto") -> None:
    """Warp into `out` [F, H, W, C]; arguments already normalised by `_mesh_inputs`."""
    if use_native("mesh_warp", _arrays.device_type(image), True, backend):
        native.mesh_warp(image, src, dst, tri, out, _arrays.cuda_stream(image))
        return
    result = reference.mesh_warp(*(_arrays.to_numpy(a) for a in (image, src, dst, tri)))
    _arrays.copy_into(out, result)


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
    if out is None and kind == "torch" and backend == "auto" and not _arrays.eager_torch(image, src, dst):
        return _torch_ops().mesh_warp(image, src, dst, tri)
    if out is None:
        out = _arrays.empty(image, shape)
    else:
        _check_out(out, image, "image", shape)
    mesh_warp_into(image, src, dst, tri, out, backend)
    return out


# ---- guided_step ---------------------------------------------------------------------------------

_STEP_DTYPES = {"cpu": ("float32",), "cuda": ("float32", "float16", "bfloat16")}


def _float_mask(mask: Any, x: Array) -> Array:
    """The guidance mask as float32 in x's array type and device (not broadcast: the kernel and
    the reference broadcast it; a mask already in that form is not copied)."""
    if isinstance(x, np.ndarray):
        return np.asarray(mask, dtype=np.float32)
    torch = _arrays.torch_module()
    return torch.as_tensor(mask, dtype=torch.float32, device=x.device)


def _check_step(
    eps_u: Array, eps_g: Array, eps_gl: Array, x: Array, mask: Array, x0_prev: Array | None, noise: Array | None,
    outputs: tuple[Array, Array], pred_type: str, c: float, d: float, clamp: float | None, alpha: float,
) -> None:
    """The argument checks tbd._C makes, for the reference path (same messages)."""
    _arrays.array_kind("x", x)
    named = {"eps_u": eps_u, "eps_g": eps_g, "eps_gl": eps_gl, "x0_prev": x0_prev, "noise": noise,
             "x_next": outputs[0], "x0": outputs[1]}
    for name, value in named.items():
        if value is None:
            continue
        _arrays.check_like(name, value, x, "x")
        if value.shape != x.shape:
            raise _shape_error(name, f"{list(x.shape)} (the shape of x)", tuple(value.shape))
    fits = len(mask.shape) <= len(x.shape) and all(
        m in (1, n) for m, n in zip(reversed(tuple(mask.shape)), reversed(tuple(x.shape)))
    )
    if not fits:
        raise ValueError(
            f"'mask' of shape {list(mask.shape)} does not broadcast to x {list(x.shape)}; "
            "give one value per channel ([C], the last axis) or a shape broadcastable to x"
        )
    if pred_type not in reference.PRED_TYPES:
        raise ValueError(f"'pred_type' must be 'eps', 'x0' or 'v', got '{pred_type}'")
    if c != 0 and x0_prev is None:
        raise ValueError("'c' is nonzero but 'x0_prev' was not given")
    if d != 0 and noise is None:
        raise ValueError("'d' is nonzero but 'noise' was not given")
    if clamp is not None and not clamp > 0:
        raise ValueError("'clamp' must be positive (or None)")
    if pred_type == "eps" and alpha == 0:
        raise ValueError("'alpha' must be nonzero for pred_type='eps' (x0 = (x - sigma p) / alpha)")


def guided_step_into(
    eps_u: Array, eps_g: Array, eps_gl: Array, x: Array, mask: Array,
    x0_prev: Array | None, noise: Array | None, x_next: Array, x0: Array,
    w_g: float, w_l: float, alpha: float, sigma: float, a: float, b: float, c: float, d: float,
    pred_type: str, clamp: float | None, backend: str = "auto",
) -> None:
    """One guided step into `x_next` and `x0`; `mask` is float32 (see `_float_mask`).

    The native kernel checks every argument itself (C-contiguous arrays of x's shape, dtype and
    device); dtypes it lacks run the reference after the same checks in Python.
    """
    device = _arrays.device_type(x)
    if use_native("guided_step", device, _arrays.dtype_name(x) in _STEP_DTYPES.get(device, ()), backend):
        native.guided_step(
            eps_u, eps_g, eps_gl, x, mask, x0_prev, noise, x_next, x0,
            w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp, _arrays.cuda_stream(x),
        )
        return
    _check_step(eps_u, eps_g, eps_gl, x, mask, x0_prev, noise, (x_next, x0), pred_type, c, d, clamp, alpha)
    np_ = _arrays.to_numpy
    next_ref, x0_ref = reference.guided_step(
        np_(eps_u), np_(eps_g), np_(eps_gl), np_(x), np_(mask),
        w_g=w_g, w_l=w_l, alpha=alpha, sigma=sigma, a=a, b=b, c=c, d=d,
        x0_prev=None if x0_prev is None else np_(x0_prev), noise=None if noise is None else np_(noise),
        pred_type=pred_type, clamp=clamp,
    )
    _arrays.copy_into(x_next, next_ref)
    _arrays.copy_into(x0, x0_ref)


def guided_step(
    eps_u: Array,
    eps_g: Array,
    eps_gl: Array,
    x: Array,
    mask: Any,
    *,
    w_g: float,
    w_l: float,
    alpha: float,
    sigma: float,
    a: float,
    b: float,
    c: float = 0.0,
    d: float = 0.0,
    x0_prev: Array | None = None,
    noise: Array | None = None,
    pred_type: str = "eps",
    clamp: float | None = None,
    out: tuple[Array, Array] | None = None,
    backend: str = "auto",
) -> tuple[Array, Array]:
    """Progressive-guidance combination and sampler update in one pass; returns (x_next, x0).

    p = eps_u + w_g (eps_g - eps_u) + w_l mask (eps_gl - eps_g), with `mask` per channel ([C], the
    last axis) or any shape broadcastable to x; x0 = (x - sigma p) / alpha ("eps"), p ("x0") or
    alpha x - sigma p ("v"), clipped to +-clamp when given; x_next = a x + b x0 + c x0_prev + d noise.
    All arrays share x's shape, dtype and device (CPU kernel: float32; CUDA: float32/16, bfloat16;
    other dtypes run the float64 reference). `out=(x_next, x0)` writes into given arrays.
    """
    torch = _arrays.torch_module()
    if (
        out is None and backend == "auto" and native is not None and torch is not None
        and type(x) is torch.Tensor and x.dtype is torch.float32 and x.is_cpu
        and _arrays.eager_torch(eps_u, eps_g, eps_gl, x, x0_prev, noise)
    ):
        # The sampler's per-step call (small float32 CPU tensors), kept short: at these sizes the
        # Python around the kernel costs more than the kernel. tbd._C checks every argument.
        if not (type(mask) is torch.Tensor and mask.dtype is torch.float32 and mask.is_cpu):
            mask = torch.as_tensor(mask, dtype=torch.float32)
        x_next, x0 = torch.empty_like(x), torch.empty_like(x)
        native.guided_step(eps_u, eps_g, eps_gl, x, mask, x0_prev, noise, x_next, x0,
                           w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp, 0)
        return x_next, x0
    w_g, w_l, alpha, sigma = float(w_g), float(w_l), float(alpha), float(sigma)
    a, b, c, d = float(a), float(b), float(c), float(d)
    clamp = None if clamp is None else float(clamp)
    kind = _arrays.array_kind("x", x)
    if (
        out is None and backend == "auto" and kind == "torch"
        and not _arrays.eager_torch(eps_u, eps_g, eps_gl, x, x0_prev, noise)
    ):
        return _torch_ops().guided_step(
            eps_u, eps_g, eps_gl, x, _float_mask(mask, x), x0_prev, noise,
            w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp,
        )
    if out is None:
        empty_like = np.empty_like if kind == "numpy" else _arrays.torch_module().empty_like
        out = (empty_like(x), empty_like(x))
    guided_step_into(eps_u, eps_g, eps_gl, x, _float_mask(mask, x), x0_prev, noise, out[0], out[1],
                     w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp, backend)
    return out[0], out[1]


# ---- attention -----------------------------------------------------------------------------------

_ATTENTION_DTYPES = {"cpu": ("float32",), "cuda": ("float32", "float16", "bfloat16")}
_CUDA_MAX_HEAD_DIM = 256  # csrc/cuda/attention.cu tiles head dims up to this


def _key_mask(mask: Any, q: Array) -> Array | None:
    """The key-padding mask as a contiguous bool array in q's array type and device."""
    if mask is None:
        return None
    if isinstance(q, np.ndarray):
        mask = np.asarray(mask)
        return np.ascontiguousarray(mask if mask.dtype == bool else mask != 0)
    torch = _arrays.torch_module()
    mask = torch.as_tensor(mask, device=q.device)
    return (mask if mask.dtype == torch.bool else mask != 0).contiguous()


def _check_window(window: Any) -> int | None:
    if window is None:
        return None
    if isinstance(window, bool) or int(window) != window or window < 0:
        raise ValueError(f"'window' must be a non-negative integer or None, got {window!r}")
    return int(window)


def _check_attention(q: Array, k: Array, v: Array, mask: Array | None, window: int | None, scale: float, out: Array) -> None:
    """The argument checks tbd._C makes, for the reference path (same messages)."""
    _arrays.array_kind("q", q)
    for name, t in (("k", k), ("v", v), ("out", out)):
        _arrays.check_like(name, t, q, "q")
    if q.ndim != 4:
        raise ValueError(f"'q' must have 4 dimensions [B, H, T, D], got shape {list(q.shape)}")
    batch, heads, tq, dim = q.shape
    if k.ndim != 4 or k.shape[0] != batch or k.shape[1] != heads or k.shape[3] != dim:
        raise _shape_error("k", f"[{batch}, {heads}, Tk, {dim}] [B, H, Tk, D] matching q", tuple(k.shape))
    if v.shape != k.shape:
        raise _shape_error("v", f"{list(k.shape)} [B, H, Tk, D] matching k", tuple(v.shape))
    if out.shape != q.shape:
        raise _shape_error("out", f"{list(q.shape)} (the shape of q)", tuple(out.shape))
    if k.shape[2] < 1:
        raise ValueError("'k' must have at least one key (Tk >= 1)")
    if mask is not None and tuple(mask.shape) != (batch, k.shape[2]):
        raise _shape_error("mask", f"[{batch}, {k.shape[2]}] [B, Tk]", tuple(mask.shape))
    if window is not None and tq != k.shape[2]:
        raise ValueError(f"'window' is for self-attention: q and k must have the same length, got Tq={tq} and Tk={k.shape[2]}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError("'scale' must be a positive finite number")


def attention_into(
    q: Array, k: Array, v: Array, mask: Array | None, window: int | None, scale: float | None,
    out: Array, backend: str = "auto",
) -> None:
    """Attention into `out` (shape of q); `mask` from `_key_mask`, `window` from `_check_window`.

    The native kernel checks every argument itself (shapes, dtypes, devices, a contiguous last
    axis); dtypes it lacks run the reference after the same checks in Python.
    """
    device = _arrays.device_type(q)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    supported = _arrays.dtype_name(q) in _ATTENTION_DTYPES.get(device, ()) and (
        device != "cuda" or q.shape[-1] <= _CUDA_MAX_HEAD_DIM
    )
    if use_native("attention", device, supported, backend):
        native.attention(q, k, v, mask, out, -1 if window is None else window, scale, _arrays.cuda_stream(q))
        return
    _check_attention(q, k, v, mask, window, scale, out)
    result = reference.attention(
        *(_arrays.to_numpy(t) for t in (q, k, v)),
        mask=None if mask is None else _arrays.to_numpy(mask), window=window, scale=scale,
    )
    _arrays.copy_into(out, result)


def attention(
    q: Array,
    k: Array,
    v: Array,
    *,
    mask: Any | None = None,
    window: int | None = None,
    scale: float | None = None,
    out: Array | None = None,
    backend: str = "auto",
) -> Array:
    """Fused scaled dot-product attention with online softmax (no Tq x Tk matrix in memory).

    q [B, H, Tq, D], k and v [B, H, Tk, D] (torch SDPA layout; any strides with a contiguous
    last axis); returns [B, H, Tq, D] like q. `mask` [B, Tk] is a key-padding mask (True =
    attend); `window` keeps keys with |i - j| <= window (self-attention); `scale` defaults to
    1/sqrt(D). A query with no key to attend to gets zeros. CPU kernel: float32; CUDA: float32,
    float16, bfloat16 with float32 accumulation (head dim <= 256); other inputs run the float64
    reference.
    """
    kind = _arrays.array_kind("q", q)
    window = _check_window(window)
    scale = None if scale is None else float(scale)
    mask = _key_mask(mask, q)
    if out is None and backend == "auto" and kind == "torch" and not _arrays.eager_torch(q, k, v):
        return _torch_ops().attention(q, k, v, mask, window, scale)
    if out is None:
        out = np.empty_like(q) if kind == "numpy" else _arrays.torch_module().empty_like(q)
    attention_into(q, k, v, mask, window, scale, out, backend)
    return out
