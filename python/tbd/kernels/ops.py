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


# ---- guided_step ---------------------------------------------------------------------------------

_STEP_DTYPES = {"cpu": ("float32",), "cuda": ("float32", "float16", "bfloat16")}


def _step_mask(mask: Any, x: Array) -> Array:
    """The guidance mask as float32 in x's array type and device, broadcast (as a view) to x."""
    shape = tuple(x.shape)
    if _arrays.is_numpy(x):
        m = np.asarray(mask, dtype=np.float32)
        if m.ndim and m.strides[-1] not in (0, 4):
            m = np.ascontiguousarray(m)
        try:
            return np.broadcast_to(m, shape)
        except ValueError:
            raise ValueError(
                f"'mask' of shape {list(m.shape)} does not broadcast to x {list(shape)}; "
                "give one value per channel ([C]) or a shape broadcastable to x"
            ) from None
    torch = _arrays.torch_module()
    m = torch.as_tensor(mask, dtype=torch.float32, device=x.device)
    if m.ndim and m.stride(-1) not in (0, 1):
        m = m.contiguous()
    try:
        return m.expand(shape)
    except RuntimeError:
        raise ValueError(
            f"'mask' of shape {list(m.shape)} does not broadcast to x {list(shape)}; "
            "give one value per channel ([C]) or a shape broadcastable to x"
        ) from None


def _check_step_arrays(arrays: dict[str, Array | None], x: Array) -> None:
    kind = _arrays.array_kind("x", x)
    dtype = _arrays.dtype_name(x)
    for name, value in arrays.items():
        if value is None:
            continue
        if _arrays.array_kind(name, value) != kind:
            raise TypeError(f"'{name}' must be a {kind} array like 'x'")
        if tuple(value.shape) != tuple(x.shape):
            raise _shape_error(name, f"{list(x.shape)} (the shape of x)", tuple(value.shape))
        if _arrays.dtype_name(value) != dtype:
            raise TypeError(f"'{name}' has dtype {_arrays.dtype_name(value)} but 'x' has {dtype}; they must match")
        if _arrays.device_of(value) != _arrays.device_of(x):
            raise ValueError(f"'{name}' must be on the same device as 'x'")


def _check_step_scalars(pred_type: str, c: float, d: float, x0_prev: Any, noise: Any, clamp: float | None, alpha: float) -> None:
    if pred_type not in reference.PRED_TYPES:
        raise ValueError(f"'pred_type' must be one of {reference.PRED_TYPES}, got {pred_type!r}")
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
    """One guided step into `x_next` and `x0`; arrays checked and `mask` broadcast (`_step_mask`)."""
    device, _ = _arrays.device_of(x)
    dtype = _arrays.dtype_name(x)
    contiguous = all(
        (t.flags.c_contiguous if _arrays.is_numpy(t) else t.is_contiguous())
        for t in (eps_u, eps_g, eps_gl, x, x0_prev, noise, x_next, x0) if t is not None
    )
    if use_native("guided_step", device, dtype in _STEP_DTYPES.get(device, ()) and contiguous, backend):
        d_ = _arrays.describe
        native.guided_step(
            d_("eps_u", eps_u), d_("eps_g", eps_g), d_("eps_gl", eps_gl), d_("x", x), d_("mask", mask),
            _arrays.describe_optional("x0_prev", x0_prev), _arrays.describe_optional("noise", noise),
            d_("x_next", x_next), d_("x0", x0),
            float(w_g), float(w_l), float(alpha), float(sigma), float(a), float(b), float(c), float(d),
            pred_type, None if clamp is None else float(clamp), _arrays.cuda_stream(x),
        )
        return
    np_ = _arrays.to_numpy
    next_ref, x0_ref = reference.guided_step(
        np_(eps_u), np_(eps_g), np_(eps_gl), np_(x), np_(mask),
        w_g=w_g, w_l=w_l, alpha=alpha, sigma=sigma, a=a, b=b, c=c, d=d,
        x0_prev=None if x0_prev is None else np_(x0_prev), noise=None if noise is None else np_(noise),
        pred_type=pred_type, clamp=clamp,
    )
    x_next[...] = _arrays.from_numpy_like(next_ref, x_next)
    x0[...] = _arrays.from_numpy_like(x0_ref, x0)


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
    others run the float64 reference). `out=(x_next, x0)` writes into given arrays.
    """
    kind = _arrays.array_kind("x", x)
    arrays = {"eps_u": eps_u, "eps_g": eps_g, "eps_gl": eps_gl, "x0_prev": x0_prev, "noise": noise}
    _check_step_arrays(arrays, x)
    _check_step_scalars(pred_type, c, d, x0_prev, noise, clamp, alpha)
    scalars = dict(w_g=float(w_g), w_l=float(w_l), alpha=float(alpha), sigma=float(sigma),
                   a=float(a), b=float(b), c=float(c), d=float(d))
    if out is None and kind == "torch" and backend == "auto":
        from . import torch_ops

        torch = _arrays.torch_module()
        m = torch.as_tensor(mask, dtype=torch.float32, device=x.device)
        return torch_ops.guided_step(eps_u, eps_g, eps_gl, x, m, x0_prev, noise, **scalars,
                                     pred_type=pred_type, clamp=None if clamp is None else float(clamp))
    mask_view = _step_mask(mask, x)
    if out is None:
        out = (_empty(x, tuple(x.shape)), _empty(x, tuple(x.shape)))
    else:
        _check_step_arrays({"out[0]": out[0], "out[1]": out[1]}, x)
    guided_step_into(eps_u, eps_g, eps_gl, x, mask_view, x0_prev, noise, out[0], out[1],
                     **scalars, pred_type=pred_type, clamp=clamp, backend=backend)
    return out[0], out[1]


# ---- attention -----------------------------------------------------------------------------------

_ATTENTION_DTYPES = {"cpu": ("float32",), "cuda": ("float32", "float16", "bfloat16")}


def _check_attention(q: Array, k: Array, v: Array, mask: Any, window: int | None) -> Any:
    """Shape/dtype/device checks; returns the key mask as a bool array (or None)."""
    kind = _arrays.array_kind("q", q)
    for name, t in (("k", k), ("v", v)):
        if _arrays.array_kind(name, t) != kind:
            raise TypeError(f"'{name}' must be a {kind} array like 'q'")
        if _arrays.dtype_name(t) != _arrays.dtype_name(q):
            raise TypeError(f"'{name}' has dtype {_arrays.dtype_name(t)} but 'q' has {_arrays.dtype_name(q)}")
        if _arrays.device_of(t) != _arrays.device_of(q):
            raise ValueError(f"'{name}' must be on the same device as 'q'")
    if q.ndim != 4:
        raise _shape_error("q", "[B, H, Tq, D]", tuple(q.shape))
    batch, heads, _, dim = q.shape
    if k.ndim != 4 or tuple(k.shape[:2]) != (batch, heads) or k.shape[3] != dim:
        raise _shape_error("k", f"[{batch}, {heads}, Tk, {dim}]", tuple(k.shape))
    if tuple(v.shape) != tuple(k.shape):
        raise _shape_error("v", f"{list(k.shape)} (the shape of k)", tuple(v.shape))
    if dim < 1 or k.shape[2] < 1:
        raise ValueError(f"attention needs D >= 1 and Tk >= 1, got q {list(q.shape)} and k {list(k.shape)}")
    if window is not None:
        if int(window) != window or window < 0:
            raise ValueError(f"'window' must be a non-negative integer or None, got {window!r}")
        if q.shape[2] != k.shape[2]:
            raise ValueError(f"'window' is for self-attention: Tq={q.shape[2]} differs from Tk={k.shape[2]}")
    if mask is None:
        return None
    if kind == "numpy":
        mask = np.asarray(mask)
        mask = np.ascontiguousarray(mask if mask.dtype == bool else mask != 0)
    else:
        torch = _arrays.torch_module()
        mask = torch.as_tensor(mask, device=q.device)
        mask = (mask if mask.dtype == torch.bool else mask != 0).contiguous()
    if tuple(mask.shape) != (batch, k.shape[2]):
        raise _shape_error("mask", f"[B, Tk] = [{batch}, {k.shape[2]}] (True = attend)", tuple(mask.shape))
    return mask


def _last_dim_contiguous(*arrays: Array) -> bool:
    for t in arrays:
        stride = t.strides[-1] // t.itemsize if _arrays.is_numpy(t) else t.stride(-1)
        if t.shape[-1] > 1 and stride != 1:
            return False
    return True


def attention_into(
    q: Array, k: Array, v: Array, mask: Array | None, window: int | None, scale: float | None,
    out: Array, backend: str = "auto",
) -> None:
    """Attention into `out` (shape of q); arguments checked by `_check_attention`."""
    device, _ = _arrays.device_of(q)
    scale = 1.0 / float(np.sqrt(q.shape[-1])) if scale is None else float(scale)
    supported = _arrays.dtype_name(q) in _ATTENTION_DTYPES.get(device, ()) and _last_dim_contiguous(q, k, v, out)
    if use_native("attention", device, supported, backend):
        native.attention(
            _arrays.describe("q", q), _arrays.describe("k", k), _arrays.describe("v", v),
            _arrays.describe_optional("mask", mask), _arrays.describe("out", out),
            -1 if window is None else int(window), scale, _arrays.cuda_stream(q),
        )
        return
    result = reference.attention(
        *(_arrays.to_numpy(t) for t in (q, k, v)),
        mask=None if mask is None else _arrays.to_numpy(mask), window=window, scale=scale,
    )
    out[...] = _arrays.from_numpy_like(result, out)


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
    float16, bfloat16 with float32 accumulation; other dtypes run the float64 reference.
    """
    kind = _arrays.array_kind("q", q)
    mask = _check_attention(q, k, v, mask, window)
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"'scale' must be a positive finite number or None, got {scale!r}")
    if out is None and kind == "torch" and backend == "auto":
        from . import torch_ops

        return torch_ops.attention(q, k, v, mask, None if window is None else int(window),
                                   None if scale is None else float(scale))
    if out is None:
        out = np.empty_like(q) if kind == "numpy" else _arrays.torch_module().empty_like(q)
    else:
        _check_out(out, q, tuple(q.shape), _arrays.dtype_name(q), kind)
    attention_into(q, k, v, mask, window, scale, out, backend)
    return out
