"""Viseme curves from timed phones, with coarticulation (Cohen and Massaro's dominance model).

Every phone pulls the mouth toward its viseme's shape with a *dominance* that peaks at the
phone's centre and decays with distance in time, ``α · exp(-θ · |τ|)``; at each frame a channel
takes the dominance-weighted mean of the targets of the phones around it. Two channel groups
have their own dominances: the aperture (lips and jaw) and the lip shape (rounding and
spreading). Consonants that do not use the lips' shape (k, t, s, n, ...) have little shape
dominance, so a rounded vowel's rounding spreads over them, earlier before the vowel than after
it (anticipatory rounding: θ is smaller before a phone's centre than after). Bilabial stops
are held closed through their whole span, however short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .align import Segment
from .visemes import MOUTH_AUS, N_VISEMES, VISEME_INDEX, VISEMES, phone_viseme, shape_matrix

SHAPE_AUS = ("AU18", "AU20", "AU22")
"""Channels blended with the lip-shape dominances; the other mouth channels use the aperture's."""


@dataclass(frozen=True)
class CoarticulationConfig:
    """Dominance constants (per second and unitless), after Cohen and Massaro (1993)."""

    theta_after: float = 40.0          # decay of a phone's pull after its centre (1/s)
    theta_before: float = 32.0         # ... before it
    shape_theta_before: float = 9.0    # rounding/spreading reaches this far ahead (anticipation)
    shape_theta_after: float = 16.0
    silence_dominance: float = 0.6
    aperture_dominance: dict | None = None  # per-viseme overrides of DEFAULT_APERTURE
    shape_dominance: dict | None = None


DEFAULT_APERTURE = {"sil": 0.6, "PP": 3.0, "FF": 2.0, "TH": 1.0, "DD": 0.8, "kk": 0.6, "CH": 1.2, "SS": 1.2,
                    "nn": 0.6, "RR": 0.9, "aa": 1.5, "E": 1.3, "ih": 1.2, "oh": 1.4, "ou": 1.4}
"""Aperture dominance: bilabials and labiodentals win over their neighbours."""
DEFAULT_SHAPE = {"sil": 0.15, "PP": 0.1, "FF": 0.15, "TH": 0.1, "DD": 0.1, "kk": 0.1, "CH": 1.0, "SS": 0.6,
                 "nn": 0.1, "RR": 0.9, "aa": 0.8, "E": 1.0, "ih": 1.1, "oh": 1.5, "ou": 1.8}
"""Shape dominance: vowels and the rounded/spread consonants set the lips' shape."""


@dataclass
class Articulation:
    """Frame-aligned articulation of an utterance.

    ``weights``: float32 ``[T, 15]`` viseme curves (OVR order, rows sum to 1);
    ``targets``: float32 ``[T, len(MOUTH_AUS)]`` the coarticulated mouth shape;
    ``closure``: float32 ``[T]`` 0..1, how firmly the lips must meet (bilabials);
    ``source``: "transcript" or "audio".
    """

    weights: np.ndarray
    targets: np.ndarray
    closure: np.ndarray
    source: str

    @property
    def n_frames(self) -> int:
        return int(self.weights.shape[0])

    def slice(self, start: int, stop: int) -> "Articulation":
        return Articulation(self.weights[start:stop], self.targets[start:stop], self.closure[start:stop], self.source)

    def features(self) -> np.ndarray:
        """float32 ``[T, 15 + 1]``: viseme weights and closure, the generator's articulation condition."""
        return np.concatenate([self.weights, self.closure[:, None]], axis=1).astype(np.float32)


N_ARTICULATION_FEATURES = N_VISEMES + 1


def from_phones(phones: Iterable[Segment | object], n_frames: int, fps: float,
                config: CoarticulationConfig = CoarticulationConfig()) -> Articulation:
    """Articulation of ``n_frames`` frames (frame ``i`` at ``(i + 0.5) / fps`` s) from timed
    phones (anything with ``label``, ``start``, ``end``); gaps between phones are silence."""
    spans = [Segment(str(p.label), float(p.start), float(p.end)) for p in phones]
    spans = [s for s in spans if s.end > s.start]
    t = (np.arange(n_frames) + 0.5) / fps
    shapes = shape_matrix()
    ap_dom = {**DEFAULT_APERTURE, **(config.aperture_dominance or {})}
    sh_dom = {**DEFAULT_SHAPE, **(config.shape_dominance or {})}
    vis = [VISEME_INDEX[phone_viseme(s.label)] for s in spans]

    def blend(dominance: dict, theta_before: float, theta_after: float) -> np.ndarray:
        # Silence as a weak phone everywhere, so long gaps relax to rest.
        w = np.zeros((n_frames, N_VISEMES))
        w[:, 0] = config.silence_dominance * 0.05
        for s, v in zip(spans, vis):
            centre, half = 0.5 * (s.start + s.end), 0.5 * (s.end - s.start)
            tau = t - centre
            dist = np.maximum(np.abs(tau) - half, 0.0)  # full strength inside the phone
            theta = np.where(tau < 0, theta_before, theta_after)
            w[:, v] += dominance[VISEMES[v]] * np.exp(-theta * dist)
        return w / w.sum(axis=1, keepdims=True)

    w_ap = blend(ap_dom, config.theta_before, config.theta_after)
    w_sh = blend(sh_dom, config.shape_theta_before, config.shape_theta_after)
    targets = np.zeros((n_frames, len(MOUTH_AUS)), np.float32)
    for j, au in enumerate(MOUTH_AUS):
        w = w_sh if au in SHAPE_AUS else w_ap
        targets[:, j] = w @ shapes[:, j]
    closure = _held_closures(spans, vis, t, fps, w_ap[:, VISEME_INDEX["PP"]])
    return Articulation(w_ap.astype(np.float32), targets, closure, "transcript")


def _held_closures(spans: Sequence[Segment], vis: Sequence[int], t: np.ndarray, fps: float,
                   pp_weight: np.ndarray) -> np.ndarray:
    """1 on every frame inside a bilabial (and on the nearest frame of one shorter than a
    frame), easing out over the dominance weight elsewhere."""
    closure = np.clip((pp_weight - 0.3) / 0.4, 0.0, 1.0)
    pp = VISEME_INDEX["PP"]
    for s, v in zip(spans, vis):
        if v != pp:
            continue
        inside = (t >= s.start) & (t <= s.end)
        if not inside.any() and len(t):
            inside = np.zeros(len(t), bool)
            inside[int(np.argmin(np.abs(t - 0.5 * (s.start + s.end))))] = True
        closure[inside] = 1.0
    return closure.astype(np.float32)


def from_posteriors(posteriors: np.ndarray, *, source: str = "audio") -> Articulation:
    """Articulation from per-frame viseme probabilities ``[T, 15]`` (the audio model's output)."""
    p = np.asarray(posteriors, np.float32)
    p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-6)
    targets = (p @ shape_matrix()).astype(np.float32)
    closure = np.clip((p[:, VISEME_INDEX["PP"]] - 0.3) / 0.35, 0.0, 1.0).astype(np.float32)
    return Articulation(p, targets, closure, source)
