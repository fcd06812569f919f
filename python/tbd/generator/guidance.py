"""Progressive guidance: global emotion first, local muscle control late (docs/architecture.md, "DRAW").

At each step the denoiser runs on three condition sets (∅, g, g+L) and the guided
prediction is

    ε̂ = ε(∅) + w_g(t)·[ε(g) − ε(∅)] + w_l(t)·M ⊙ [ε(g,L) − ε(g)]

with ``t`` the step's place in the noise schedule (1 = the first, noisiest step, 0 = the
last). ``ProgressiveGuidance`` holds ``w_g(t)`` and ``w_l(t)``: a local share ``λ(t)`` rises
from 0 to 1 around ``t_star`` (hard switch, linear or cosine cross-fade of ``width``), and

    w_g(t) = 1 + (w_g − 1)·(1 − λ(t))        w_l(t) = w_l·λ(t)

so the early steps amplify the global emotion and the late steps the requested AUs; at
``w = 1`` a branch is plain conditioning, above 1 it is classifier-free guidance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GUIDANCE_MODES = ("progressive", "global", "local", "joint", "none")
CROSSFADES = ("hard", "linear", "cosine")


@dataclass(frozen=True)
class ProgressiveGuidance:
    """The weight schedule ``(w_g(t), w_l(t))`` of one guidance mode (see module docs).

    ``mode``: ``"progressive"`` (cross-fade), ``"global"`` (only ``w_g``, the local tokens
    never steer), ``"local"`` (only ``w_l``, the global branch plain), ``"joint"`` (both
    constant), ``"none"`` (plain conditional prediction ε(g,L), one branch per step).
    """

    # Defaults chosen on held-out corpus takes that the reported benchmark does not use
    # (benchmarks/RESULTS.md, "Generator"). t_star is a log-sigma position: 0.7 is σ ≈ 1.3
    # with the bundled schedule (σ from 20 down to 0.002).
    mode: str = "progressive"
    w_g: float = 1.25
    w_l: float = 3.0
    t_star: float = 0.7
    crossfade: str = "cosine"
    width: float = 0.4

    def __post_init__(self) -> None:
        if self.mode not in GUIDANCE_MODES:
            raise ValueError(f"unknown guidance {self.mode!r}; use one of {', '.join(GUIDANCE_MODES)}")
        if self.crossfade not in CROSSFADES:
            raise ValueError(f"unknown crossfade {self.crossfade!r}; use one of {', '.join(CROSSFADES)}")
        if not 0.0 <= self.t_star <= 1.0:
            raise ValueError(f"t_star must be in 0..1, got {self.t_star}")
        if self.width <= 0 and self.crossfade != "hard":
            raise ValueError(f"width must be positive for a {self.crossfade} crossfade, got {self.width}")
        if self.w_g < 0 or self.w_l < 0:
            raise ValueError(f"guidance weights must be >= 0, got w_g={self.w_g}, w_l={self.w_l}")

    @property
    def single_branch(self) -> bool:
        """True when only the (g, L) branch is needed (``mode == "none"``)."""
        return self.mode == "none"

    def local_share(self, t: float) -> float:
        """λ(t) in 0..1: 0 while the global emotion is shaped, 1 once the AUs are."""
        if self.crossfade == "hard":
            return 1.0 if t < self.t_star else 0.0
        ramp = min(1.0, max(0.0, (self.t_star + self.width / 2 - t) / self.width))
        return ramp if self.crossfade == "linear" else 0.5 - 0.5 * math.cos(math.pi * ramp)

    def weights(self, t: float) -> tuple[float, float]:
        """``(w_g, w_l)`` at schedule position ``t`` (1 = first step, 0 = last)."""
        if self.mode == "none":
            return 1.0, 1.0
        if self.mode == "global":
            return self.w_g, 0.0
        if self.mode == "local":
            return 1.0, self.w_l
        if self.mode == "joint":
            return self.w_g, self.w_l
        share = self.local_share(t)
        return 1.0 + (self.w_g - 1.0) * (1.0 - share), self.w_l * share

    def describe(self) -> dict:
        """A JSON-serialisable summary for Motion.meta."""
        return {"mode": self.mode, "w_g": self.w_g, "w_l": self.w_l, "t_star": self.t_star,
                "crossfade": self.crossfade, "width": self.width}


def as_guidance(spec: "str | ProgressiveGuidance | None", **overrides: float) -> ProgressiveGuidance:
    """A ProgressiveGuidance from a mode name (with optional weight overrides) or an instance."""
    if spec is None:
        spec = "progressive"
    if isinstance(spec, ProgressiveGuidance):
        if overrides:
            raise ValueError("give weight overrides with a mode name, not with a ProgressiveGuidance instance")
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"guidance must be a mode name or ProgressiveGuidance, got {type(spec).__name__}")
    return ProgressiveGuidance(mode=spec, **overrides)


def schedule_positions(sigmas) -> list[float]:
    """The position ``t`` of each step (1 = first, 0 = last) by log-sigma, for a schedule
    ``sigmas`` that ends in 0 (the usual k-diffusion layout)."""
    values = [float(s) for s in sigmas]
    steps = values[:-1]
    if not steps:
        return []
    hi, lo = math.log(steps[0]), math.log(max(steps[-1], 1e-12))
    if hi - lo < 1e-12:
        return [1.0] * len(steps)
    return [min(1.0, max(0.0, (math.log(max(s, 1e-12)) - lo) / (hi - lo))) for s in steps]
