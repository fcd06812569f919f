"""The array boundary on the Python side: numpy arrays and torch tensors, never importing torch.

tbd._C reads pointer, dtype, shape, strides and device straight from the array objects, so
nothing here copies the big arrays; these helpers check kinds, allocate outputs like the inputs,
and move data for the float64 reference fallback.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def torch_module() -> Any | None:
    """The torch module if the process already imported it, else None."""
    return sys.modules.get("torch")


def is_torch(x: Any) -> bool:
    torch = torch_module()
    return torch is not None and isinstance(x, torch.Tensor)


def array_kind(name: str, x: Any) -> str:
    """'numpy' or 'torch'; TypeError naming the argument for anything else."""
    if isinstance(x, np.ndarray):
        return "numpy"
    if is_torch(x):
        return "torch"
    raise TypeError(f"'{name}' must be a numpy array or a torch tensor, got {type(x).__name__}")


def dtype_name(x: Any) -> str:
    """'float32', 'uint8', 'bool', 'bfloat16', ... for numpy arrays and torch tensors alike."""
    if isinstance(x, np.ndarray):
        return x.dtype.name
    return str(x.dtype).removeprefix("torch.")


def device_type(x: Any) -> str:
    """'cpu', 'cuda' or another torch device type (is_cpu/is_cuda are much cheaper than .device)."""
    if isinstance(x, np.ndarray) or x.is_cpu:
        return "cpu"
    return "cuda" if x.is_cuda else x.device.type


def is_contiguous(x: Any) -> bool:
    return x.flags.c_contiguous if isinstance(x, np.ndarray) else x.is_contiguous()


def check_like(name: str, x: Any, like: Any, like_name: str) -> None:
    """`x` must have the array kind, dtype and device of `like`."""
    if type(x) is not type(like) and array_kind(name, x) != array_kind(like_name, like):
        raise TypeError(f"'{name}' must be a {array_kind(like_name, like)} array like '{like_name}'")
    if x.dtype != like.dtype:
        raise TypeError(f"'{name}' has dtype {dtype_name(x)} but '{like_name}' has {dtype_name(like)}; they must match")
    if not isinstance(x, np.ndarray) and x.device != like.device:
        raise ValueError(f"'{name}' is on {x.device} but '{like_name}' is on {like.device}")


def eager_torch(*tensors: Any) -> bool:
    """True when torch tensors can go straight to the kernels, skipping the custom-op dispatcher:
    plain tensors, no torch.compile / export / jit tracing, nothing that needs autograd. Otherwise
    callers go through the registered `tbd::` ops so that torch sees them."""
    torch = torch_module()
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return False
    grad = torch.is_grad_enabled()
    plain = torch.Tensor
    for t in tensors:
        if t is not None and (type(t) is not plain or (grad and t.requires_grad)):
            return False
    return True


def cuda_stream(x: Any) -> int:
    """The caller's current CUDA stream handle for the device of `x` (0 for CPU arrays)."""
    if isinstance(x, np.ndarray) or not x.is_cuda:
        return 0
    return int(torch_module().cuda.current_stream(x.device).cuda_stream)


def empty(like: Any, shape: tuple[int, ...]) -> Any:
    """An uninitialised array of `like`'s kind, dtype and device."""
    if isinstance(like, np.ndarray):
        return np.empty(shape, dtype=like.dtype)
    return like.new_empty(shape)


def to_numpy(x: Any) -> np.ndarray:
    """A numpy view (or host copy, for device or bfloat16 tensors) of `x`."""
    if isinstance(x, np.ndarray):
        return x
    if x.dtype == torch_module().bfloat16:
        x = x.float()
    return x.detach().cpu().numpy()


def cast_numpy(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast with round-half-up and saturation for integer targets (what the kernels do)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.floor(np.asarray(values, dtype=np.float64) + 0.5), info.min, info.max)
    return np.asarray(values).astype(dtype, copy=False)


def copy_into(out: Any, values: np.ndarray) -> None:
    """Write float64 reference results into `out` (numpy or torch, any device)."""
    if isinstance(out, np.ndarray):
        out[...] = cast_numpy(values, out.dtype)
        return
    torch = torch_module()
    if out.dtype.is_floating_point:
        out.copy_(torch.from_numpy(np.ascontiguousarray(values)))
    else:
        target = np.dtype(str(out.dtype).removeprefix("torch."))
        out.copy_(torch.from_numpy(cast_numpy(values, target)))
