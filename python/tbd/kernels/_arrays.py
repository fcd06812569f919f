"""The array boundary: numpy arrays and torch tensors in, descriptors for tbd._C out.

A descriptor is `(data pointer, dtype name, shape, strides in elements, device, device index,
writable)`. Nothing is copied here. torch is never imported by this module: a value can only be a
torch tensor if the caller already imported torch.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

Descriptor = tuple[int, str, tuple[int, ...], tuple[int, ...], str, int, bool]


def torch_module() -> Any | None:
    """The torch module if the process already imported it, else None."""
    return sys.modules.get("torch")


def is_torch(x: Any) -> bool:
    torch = torch_module()
    return torch is not None and isinstance(x, torch.Tensor)


def is_numpy(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def array_kind(name: str, x: Any) -> str:
    """'numpy' or 'torch'; TypeError naming the argument for anything else."""
    if is_numpy(x):
        return "numpy"
    if is_torch(x):
        return "torch"
    raise TypeError(f"'{name}' must be a numpy array or a torch tensor, got {type(x).__name__}")


def dtype_name(x: Any) -> str:
    """'float32', 'uint8', 'bool', 'bfloat16', ... for numpy arrays and torch tensors alike."""
    if is_numpy(x):
        return x.dtype.name
    return str(x.dtype).removeprefix("torch.")


def device_of(x: Any) -> tuple[str, int]:
    if is_numpy(x):
        return "cpu", 0
    return x.device.type, x.device.index or 0


def describe(name: str, x: Any) -> Descriptor:
    """The descriptor of `x` for tbd._C (no copy)."""
    if is_numpy(x):
        itemsize = x.dtype.itemsize
        if any(s % itemsize for s in x.strides):
            raise ValueError(f"'{name}' has byte strides {x.strides} that are not whole elements")
        return (
            x.__array_interface__["data"][0],
            x.dtype.name,
            x.shape,
            tuple(s // itemsize for s in x.strides),
            "cpu",
            0,
            bool(x.flags.writeable),
        )
    if is_torch(x):
        if x.device.type not in ("cpu", "cuda"):
            raise ValueError(f"'{name}' is on device {x.device}; tbd kernels run on cpu or cuda")
        return (
            x.data_ptr(),
            str(x.dtype).removeprefix("torch."),
            tuple(x.shape),
            tuple(x.stride()),
            x.device.type,
            x.device.index or 0,
            True,
        )
    raise TypeError(f"'{name}' must be a numpy array or a torch tensor, got {type(x).__name__}")


def describe_optional(name: str, x: Any | None) -> Descriptor | None:
    return None if x is None else describe(name, x)


def cuda_stream(x: Any) -> int:
    """The caller's current CUDA stream handle for the device of `x` (0 for CPU arrays)."""
    if is_torch(x) and x.device.type == "cuda":
        return int(torch_module().cuda.current_stream(x.device).cuda_stream)
    return 0


def to_numpy(x: Any) -> np.ndarray:
    """A numpy view (or host copy, for device tensors) of `x`."""
    if is_numpy(x):
        return x
    if x.dtype == torch_module().bfloat16:
        x = x.float()
    return x.detach().cpu().numpy()


def from_numpy_like(values: np.ndarray, like: Any, dtype: Any | None = None) -> Any:
    """`values` as the array type, device and dtype of `like` (or `dtype`), rounding for integers."""
    target = like.dtype if dtype is None else dtype
    if is_numpy(like):
        return cast_numpy(values, np.dtype(target))
    torch = torch_module()
    if not target.is_floating_point:
        values = cast_numpy(values, np.dtype(str(target).removeprefix("torch.")))
        return torch.from_numpy(values).to(device=like.device)
    return torch.from_numpy(np.ascontiguousarray(values)).to(device=like.device, dtype=target)


def cast_numpy(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast with round-half-up and saturation for integer targets (what the kernels do)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.floor(np.asarray(values, dtype=np.float64) + 0.5), info.min, info.max)
    return np.asarray(values).astype(dtype, copy=False)
