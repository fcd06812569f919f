"""Samplers and progressive guidance against closed-form Gaussian denoisers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbd.generator.guidance import ProgressiveGuidance, as_guidance, schedule_positions
from tbd.generator.sampling import (
    get_sampler,
    get_sigmas_karras,
    sample_ddim,
    sample_dpmpp_2m,
    sample_euler,
)

C = 5


def gaussian_denoiser(means, s):
    """Exact denoisers of N(mean_k, s^2) data, one per branch: D(x, σ) = m + s²/(s²+σ²)(x − m)."""

    def model(x, sigma):
        k = s**2 / (s**2 + sigma**2)
        return tuple(m + k * (x - m) for m in means)

    return model


def ode_solution(x_T, mean, s, sigma_max):
    """Probability-flow ODE of a Gaussian, solved exactly from sigma_max to 0."""
    return mean + (x_T - mean) * s / math.sqrt(s**2 + sigma_max**2)


@pytest.fixture
def setup():
    rng = np.random.default_rng(11)
    means = [rng.normal(size=C).astype(np.float32) for _ in range(3)]
    mask = (rng.random(C) < 0.5).astype(np.float32)
    mask[0], mask[1] = 1.0, 0.0
    x_T = rng.normal(size=(2, 7, C)).astype(np.float32) * 10.0
    return means, mask, x_T


@pytest.mark.parametrize("name,steps,tol", [("dpmpp_2m", 40, 2e-3), ("euler", 400, 2e-2), ("ddim", 400, 2e-2)])
def test_joint_guidance_lands_on_the_guided_gaussian(setup, name, steps, tol):
    """Constant weights: the guided denoiser is the Gaussian denoiser of the guided mean."""
    means, mask, x_T = setup
    s, sigma_max = 0.7, 10.0
    guidance = ProgressiveGuidance(mode="joint", w_g=2.0, w_l=3.0)
    sigmas = get_sigmas_karras(steps, 0.002, sigma_max)
    out = get_sampler(name)(gaussian_denoiser(means, s), x_T, sigmas, guidance=guidance, mask=mask)
    guided_mean = means[0] + 2.0 * (means[1] - means[0]) + 3.0 * mask * (means[2] - means[1])
    expected = ode_solution(x_T.astype(np.float64), guided_mean, s, sigma_max)
    assert out.shape == x_T.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=tol * 10, rtol=tol)


def test_none_guidance_is_the_full_condition(setup):
    means, mask, x_T = setup
    s, sigma_max = 0.5, 10.0
    sigmas = get_sigmas_karras(30, 0.002, sigma_max)
    model = gaussian_denoiser([means[2]] * 3, s)  # single-branch mode hands the same prediction thrice
    out = sample_dpmpp_2m(model, x_T, sigmas, guidance=ProgressiveGuidance(mode="none"), mask=mask)
    np.testing.assert_allclose(out, ode_solution(x_T.astype(np.float64), means[2], s, sigma_max), atol=2e-2)


def test_progressive_uses_global_early_and_local_late(setup):
    """A hard switch: the local branch's mean shows only on the masked channels, and only
    through the late steps (so its effect sits between none and joint's)."""
    means, mask, x_T = setup
    s, sigma_max = 0.5, 10.0
    sigmas = get_sigmas_karras(30, 0.002, sigma_max)
    model = gaussian_denoiser(means, s)
    runs = {}
    for mode in ("global", "progressive", "joint"):
        g = ProgressiveGuidance(mode=mode, w_g=1.0, w_l=1.0, crossfade="hard", t_star=0.8)
        runs[mode] = sample_dpmpp_2m(model, x_T, sigmas, guidance=g, mask=mask)
    off = mask == 0
    # Unmasked channels never see the local branch.
    np.testing.assert_allclose(runs["progressive"][..., off], runs["global"][..., off], atol=1e-5)
    # Masked channels: the local shift toward means[2] is partial under progressive guidance.
    on = mask == 1
    total = runs["joint"][..., on] - runs["global"][..., on]
    part = runs["progressive"][..., on] - runs["global"][..., on]
    frac = (part * total).sum() / (total * total).sum()
    assert 0.05 < frac < 1.0


def test_numpy_and_torch_samplers_agree(setup):
    torch = pytest.importorskip("torch")
    means, mask, x_T = setup
    s = 0.8
    sigmas = get_sigmas_karras(12, 0.002, 10.0)
    g = ProgressiveGuidance()
    means_t = [torch.from_numpy(m) for m in means]
    for name in ("euler", "dpmpp_2m"):
        ref = get_sampler(name)(gaussian_denoiser(means, s), x_T, sigmas, guidance=g, mask=mask)
        out = get_sampler(name)(gaussian_denoiser(means_t, s), torch.from_numpy(x_T), sigmas, guidance=g,
                                mask=torch.from_numpy(mask))
        assert isinstance(out, torch.Tensor)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-4)


def test_ddim_eta_zero_is_euler_and_eta_adds_seeded_noise(setup):
    means, mask, x_T = setup
    model = gaussian_denoiser(means, 0.6)
    sigmas = get_sigmas_karras(10, 0.002, 10.0)
    g = ProgressiveGuidance()
    np.testing.assert_array_equal(
        sample_ddim(model, x_T, sigmas, guidance=g, mask=mask),
        sample_euler(model, x_T, sigmas, guidance=g, mask=mask),
    )

    def noise(seed):
        rng = np.random.default_rng(seed)
        return lambda sigma, sigma_next: rng.standard_normal(x_T.shape).astype(np.float32)

    a = sample_ddim(model, x_T, sigmas, guidance=g, mask=mask, eta=1.0, noise_sampler=noise(3))
    b = sample_ddim(model, x_T, sigmas, guidance=g, mask=mask, eta=1.0, noise_sampler=noise(3))
    c = sample_ddim(model, x_T, sigmas, guidance=g, mask=mask, eta=1.0, noise_sampler=noise(4))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_callback_sees_every_step(setup):
    means, mask, x_T = setup
    seen = []
    sigmas = get_sigmas_karras(7, 0.01, 5.0)
    sample_euler(gaussian_denoiser(means, 1.0), x_T, sigmas, guidance=ProgressiveGuidance(), mask=mask,
                 callback=lambda info: seen.append((info["i"], info["sigma"])))
    assert [i for i, _ in seen] == list(range(7))
    assert seen[0][1] == pytest.approx(5.0)


def test_bad_schedules_and_names_are_refused(setup):
    means, mask, x_T = setup
    model = gaussian_denoiser(means, 1.0)
    with pytest.raises(ValueError, match="decrease"):
        sample_euler(model, x_T, [1.0, 2.0, 0.0], guidance=ProgressiveGuidance(), mask=mask)
    with pytest.raises(ValueError, match="end in 0"):
        sample_euler(model, x_T, [2.0, 1.0], guidance=ProgressiveGuidance(), mask=mask)
    with pytest.raises(ValueError, match="unknown sampler"):
        get_sampler("heun9")
    with pytest.raises(ValueError):
        get_sigmas_karras(0, 0.01, 1.0)
    with pytest.raises(ValueError):
        get_sigmas_karras(5, 2.0, 1.0)


def test_karras_schedule():
    sigmas = get_sigmas_karras(9, 0.002, 20.0)
    assert len(sigmas) == 10 and sigmas[-1] == 0.0
    assert sigmas[0] == pytest.approx(20.0) and sigmas[-2] == pytest.approx(0.002)
    assert np.all(np.diff(sigmas) < 0)


# --- the schedule object -------------------------------------------------------------------

def test_progressive_weights_move_from_global_to_local():
    g = ProgressiveGuidance(w_g=3.0, w_l=2.0, t_star=0.5, crossfade="cosine", width=0.4)
    assert g.weights(1.0) == (3.0, 0.0)
    assert g.weights(0.0) == (1.0, 2.0)
    mid = g.weights(0.5)
    assert mid[0] == pytest.approx(2.0) and mid[1] == pytest.approx(1.0)
    ts = np.linspace(1, 0, 21)
    wg = [g.weights(t)[0] for t in ts]
    wl = [g.weights(t)[1] for t in ts]
    assert all(np.diff(wg) <= 1e-12) and all(np.diff(wl) >= -1e-12)


@pytest.mark.parametrize("crossfade", ["hard", "linear", "cosine"])
def test_crossfades(crossfade):
    g = ProgressiveGuidance(crossfade=crossfade, t_star=0.4, width=0.2)
    assert g.local_share(0.9) == 0.0 and g.local_share(0.1) == 1.0
    if crossfade == "hard":
        assert g.local_share(0.41) == 0.0 and g.local_share(0.39) == 1.0
    else:
        assert 0.0 < g.local_share(0.42) < 0.5 < g.local_share(0.38) < 1.0
    if crossfade == "linear":
        assert g.local_share(0.45) == pytest.approx(0.25)
    if crossfade == "cosine":
        assert g.local_share(0.45) == pytest.approx(0.5 - 0.5 * math.cos(math.pi * 0.25))


def test_ablation_modes():
    assert ProgressiveGuidance(mode="global", w_g=2.5).weights(0.1) == (2.5, 0.0)
    assert ProgressiveGuidance(mode="local", w_l=3.0).weights(0.9) == (1.0, 3.0)
    assert ProgressiveGuidance(mode="joint", w_g=2.0, w_l=3.0).weights(0.5) == (2.0, 3.0)
    assert ProgressiveGuidance(mode="none").single_branch
    assert as_guidance("global", w_g=4.0).w_g == 4.0
    assert as_guidance(None).mode == "progressive"


def test_bad_guidance_is_refused():
    with pytest.raises(ValueError, match="unknown guidance"):
        ProgressiveGuidance(mode="clever")
    with pytest.raises(ValueError, match="crossfade"):
        ProgressiveGuidance(crossfade="sigmoid")
    with pytest.raises(ValueError, match="t_star"):
        ProgressiveGuidance(t_star=1.5)
    with pytest.raises(ValueError, match=">= 0"):
        ProgressiveGuidance(w_g=-1.0)
    with pytest.raises(TypeError):
        as_guidance(3)
    with pytest.raises(ValueError):
        as_guidance(ProgressiveGuidance(), w_g=2.0)


def test_schedule_positions_by_log_sigma():
    pos = schedule_positions([10.0, 1.0, 0.1, 0.0])
    assert pos == pytest.approx([1.0, 0.5, 0.0])
    assert schedule_positions([3.0, 0.0]) == [1.0]
