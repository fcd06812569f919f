"""Samplers in the style of k-diffusion, with progressive guidance, on numpy or torch arrays.

The noise model is variance-exploding, ``x_σ = x0 + σ·ε`` (k-diffusion's convention), and
``sigmas`` is a decreasing schedule that ends in 0. ``model(x, sigma, **extra_args)`` returns
the three denoised predictions ``(x0(∅), x0(g), x0(g,L))`` for ``x``. Every update is
``x_next = a·x + b·x0 + c·x0_prev + d·noise``: each sampler only computes the coefficients,
and ``tbd.kernels.guided_step`` combines the three branches (with the mask ``M``) and
applies the update in one pass. The math uses only arithmetic on the arrays, so the same
functions run the torch and the onnxruntime (numpy) paths.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .guidance import ProgressiveGuidance, schedule_positions

Array = Any  # np.ndarray or torch.Tensor
Denoiser3 = Callable[..., "tuple[Array, Array, Array]"]
NoiseSampler = Callable[[float, float], Array]


def get_sigmas_karras(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> np.ndarray:
    """Karras et al. (2022) noise schedule: ``n`` sigmas from ``sigma_max`` to ``sigma_min``, then 0."""
    if n < 1:
        raise ValueError(f"need at least one sampling step, got {n}")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
    ramp = np.linspace(0.0, 1.0, n)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    return np.append(sigmas, 0.0)


def default_noise_sampler(x: Array, seed: int = 0) -> NoiseSampler:
    """Standard normal noise shaped like ``x`` (numpy Generator or torch generator by type)."""
    if isinstance(x, np.ndarray):
        rng = np.random.default_rng(seed)
        return lambda sigma, sigma_next: rng.standard_normal(x.shape).astype(x.dtype)
    import torch

    gen = torch.Generator(device=x.device).manual_seed(seed)
    return lambda sigma, sigma_next: torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)


def _guided_update(
    model: Denoiser3,
    x: Array,
    sigma: float,
    t: float,
    guidance: ProgressiveGuidance,
    mask: Array,
    extra_args: dict,
    *,
    a: float,
    b: float,
    c: float = 0.0,
    d: float = 0.0,
    x0_prev: Array | None = None,
    noise: Array | None = None,
) -> tuple[Array, Array]:
    """Run the three branches at ``sigma`` and take one guided step; returns (x_next, x0̂)."""
    from .. import kernels

    x0_u, x0_g, x0_gl = model(x, sigma, **extra_args)
    w_g, w_l = guidance.weights(t)
    # The combination is the same in ε and in x0 (ε = (x − x0)/σ is affine in x0 with the
    # same coefficients for every branch), so the branches' x0 predictions go in directly.
    return kernels.guided_step(
        x0_u, x0_g, x0_gl, x, mask,
        w_g=w_g, w_l=w_l, alpha=1.0, sigma=float(sigma),
        a=a, b=b, c=c, d=d, x0_prev=x0_prev, noise=noise, pred_type="x0",
    )


def _steps(sigmas, disable: bool | None):
    sigmas = [float(s) for s in sigmas]
    if len(sigmas) < 2 or sigmas[-1] != 0.0 or any(s1 >= s0 for s0, s1 in zip(sigmas, sigmas[1:])):
        raise ValueError("sigmas must decrease strictly and end in 0 (use get_sigmas_karras)")
    indices = range(len(sigmas) - 1)
    if disable is False:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc="denoise", leave=False)
    return sigmas, schedule_positions(sigmas), indices


def sample_euler(
    model: Denoiser3,
    x: Array,
    sigmas,
    *,
    guidance: ProgressiveGuidance,
    mask: Array,
    extra_args: dict | None = None,
    callback: Callable[[dict], None] | None = None,
    disable: bool | None = None,
) -> Array:
    """Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 1 without churn)."""
    extra_args = extra_args or {}
    sigmas, ts, indices = _steps(sigmas, disable)
    for i in indices:
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        ratio = sigma_next / sigma
        x, x0 = _guided_update(model, x, sigma, ts[i], guidance, mask, extra_args, a=ratio, b=1.0 - ratio)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigma, "denoised": x0})
    return x


def sample_ddim(
    model: Denoiser3,
    x: Array,
    sigmas,
    *,
    guidance: ProgressiveGuidance,
    mask: Array,
    eta: float = 0.0,
    noise_sampler: NoiseSampler | None = None,
    extra_args: dict | None = None,
    callback: Callable[[dict], None] | None = None,
    disable: bool | None = None,
) -> Array:
    """DDIM (Song et al. 2021) in the variance-exploding form: ``eta=0`` is deterministic
    (and equals Euler's step there); ``eta>0`` re-injects noise as ancestral sampling does."""
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    extra_args = extra_args or {}
    if eta > 0 and noise_sampler is None:
        noise_sampler = default_noise_sampler(x)
    sigmas, ts, indices = _steps(sigmas, disable)
    for i in indices:
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        sigma_down, sigma_up = _ancestral_step(sigma, sigma_next, eta)
        ratio = sigma_down / sigma
        noise = noise_sampler(sigma, sigma_next) if sigma_up > 0 else None
        x, x0 = _guided_update(
            model, x, sigma, ts[i], guidance, mask, extra_args,
            a=ratio, b=1.0 - ratio, d=sigma_up, noise=noise,
        )
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigma, "denoised": x0})
    return x


def sample_dpmpp_2m(
    model: Denoiser3,
    x: Array,
    sigmas,
    *,
    guidance: ProgressiveGuidance,
    mask: Array,
    extra_args: dict | None = None,
    callback: Callable[[dict], None] | None = None,
    disable: bool | None = None,
) -> Array:
    """DPM-Solver++(2M) (Lu et al. 2022), multistep second order in log-sigma."""
    extra_args = extra_args or {}
    sigmas, ts, indices = _steps(sigmas, disable)
    x0_prev = None
    h_prev = None
    for i in indices:
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        if sigma_next == 0.0:
            a, b, c = 0.0, 1.0, 0.0
        else:
            h = math.log(sigma) - math.log(sigma_next)
            a, b, c = sigma_next / sigma, -math.expm1(-h), 0.0
            if x0_prev is not None:
                r = h_prev / h
                b, c = b * (1.0 + 1.0 / (2.0 * r)), -b / (2.0 * r)
            h_prev = h
        x, x0 = _guided_update(
            model, x, sigma, ts[i], guidance, mask, extra_args,
            a=a, b=b, c=c, x0_prev=x0_prev if c != 0.0 else None,
        )
        x0_prev = x0
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigma, "denoised": x0})
    return x


def _ancestral_step(sigma: float, sigma_next: float, eta: float) -> tuple[float, float]:
    """(sigma_down, sigma_up) of an ancestral step (k-diffusion's get_ancestral_step)."""
    if eta == 0.0 or sigma_next == 0.0:
        return sigma_next, 0.0
    sigma_up = min(sigma_next, eta * math.sqrt(sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2))
    return math.sqrt(sigma_next**2 - sigma_up**2), sigma_up


SAMPLERS: dict[str, Callable[..., Array]] = {
    "euler": sample_euler,
    "ddim": sample_ddim,
    "dpmpp_2m": sample_dpmpp_2m,
}


def get_sampler(name: str) -> Callable[..., Array]:
    """The sampler function called ``name`` (``euler``, ``ddim``, ``dpmpp_2m``)."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; use one of {', '.join(SAMPLERS)}") from None
