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


@torch.library.custom_op("tbd::guided_step", mutates_args=())
def guided_step(
    eps_u: torch.Tensor, eps_g: torch.Tensor, eps_gl: torch.Tensor, x: torch.Tensor, mask: torch.Tensor,
    x0_prev: torch.Tensor | None, noise: torch.Tensor | None,
    w_g: float, w_l: float, alpha: float, sigma: float, a: float, b: float, c: float, d: float,
    pred_type: str, clamp: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    x_next, x0 = torch.empty_like(x), torch.empty_like(x)
    ops.guided_step_into(eps_u, eps_g, eps_gl, x, mask, x0_prev, noise, x_next, x0,
                         w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp)
    return x_next, x0


@guided_step.register_fake
def _(eps_u, eps_g, eps_gl, x, mask, x0_prev, noise, w_g, w_l, alpha, sigma, a, b, c, d, pred_type, clamp):
    return torch.empty_like(x), torch.empty_like(x)


@torch.library.custom_op("tbd::attention", mutates_args=())
def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, window: int | None,
    scale: float | None,
) -> torch.Tensor:
    out = torch.empty_like(q)
    ops.attention_into(q, k, v, mask, window, scale, out)
    return out


@attention.register_fake
def _(q, k, v, mask, window, scale):
    return torch.empty_like(q)
