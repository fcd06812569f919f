"""torch custom ops `tbd::attention`, `tbd::guided_step`, `tbd::mesh_warp`.

Importing this module registers them (it imports torch, so tbd.kernels imports it only for torch
inputs). The implementations call the same dispatch as the numpy path; `register_fake` gives
torch.compile and export the output shapes without running anything. Inference only: no autograd.
"""

from __future__ import annotations

import torch

from . import ops


@torch.library.custom_op("tbd::mesh_warp", mutates_args=())
def mesh_warp(image: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, tri: torch.Tensor) -> torch.Tensor:
    out = image.new_empty((dst.shape[0], *image.shape))
    ops.mesh_warp_into(image, src, dst, tri, out)
    return out


@mesh_warp.register_fake
def _(image: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, tri: torch.Tensor) -> torch.Tensor:
    return image.new_empty((dst.shape[0], *image.shape))
