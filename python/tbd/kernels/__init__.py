"""Fused kernels: attention, guided diffusion step and mesh warp (CPU and CUDA).

    from tbd import kernels
    frames = kernels.mesh_warp(image, src_vertices, dst_vertices, triangles)

Each function takes numpy arrays or torch tensors and returns the same type. The compiled
extension `tbd._C` runs them when present; otherwise the float64 references in
`tbd.kernels.reference` do (slowly). `backend_info()` says which is in use. torch is optional.
"""

from __future__ import annotations

from ._native import BUILD_INFO, IMPORT_ERROR, native
from .ops import attention, guided_step, mesh_warp


def backend_info() -> dict:
    """What the kernels run on: {'native': bool, 'cuda': bool, 'openmp': bool, 'error': str | None}."""
    return {
        "native": native is not None,
        "cuda": bool(BUILD_INFO.get("cuda")),
        "openmp": bool(BUILD_INFO.get("openmp")),
        "error": IMPORT_ERROR,
    }


__all__ = ["attention", "guided_step", "mesh_warp", "backend_info"]
