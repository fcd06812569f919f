"""The compiled extension tbd._C, if it was built, and what it can run."""

from __future__ import annotations

from types import ModuleType

from ..errors import BackendError

try:
    from .. import _C as native
except ImportError as error:  # built without a compiler, or running from a source tree
    native: ModuleType | None = None
    IMPORT_ERROR: str | None = str(error)
else:
    IMPORT_ERROR = None

BUILD_INFO: dict = dict(native.build_info()) if native is not None else {"openmp": False, "cuda": False}
BACKENDS = ("auto", "native", "reference")


def use_native(kernel: str, device: str, dtype_supported: bool, backend: str) -> bool:
    """Whether `kernel` runs compiled code; BackendError if backend='native' cannot."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "reference":
        return False
    if native is None:
        reason = f"tbd._C is not importable ({IMPORT_ERROR})"
    elif device == "cuda" and not BUILD_INFO["cuda"]:
        reason = "tbd._C was built without CUDA kernels (reinstall with nvcc on PATH)"
    elif device not in ("cpu", "cuda"):
        reason = f"device {device!r} has no kernels"
    elif not dtype_supported:
        reason = f"the {device} kernel does not support this dtype"
    else:
        return True
    if backend == "native":
        raise BackendError(f"{kernel}: the native backend cannot run here: {reason}")
    return False
