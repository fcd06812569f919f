"""EmotionPlan: THINK's inspectable output, and the input of every generator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import PlanError
from .motion import channels as ch

REGIONS: tuple[str, ...] = ("brows", "eyes", "cheeks", "nose", "mouth", "jaw")
FACS_LETTERS: dict[str, float] = {"A": 0.2, "B": 0.4, "C": 0.6, "D": 0.8, "E": 1.0}
SCHEMA_VERSION = 1


class EmotionSpan(NamedTuple):
    """One emotion over part of the clip: ``start``/``end`` are fractions of its length."""

    label: str
    intensity: float
    start: float = 0.0
    end: float = 1.0


class Keyframe(NamedTuple):
    """AU targets (channel name -> 0..1) at normalised time ``time``."""

    time: float
    aus: dict[str, float]


@dataclass
class EmotionPlan:
    """The chain of thought from emotion text to facial muscles. See DESIGN.md (EmotionPlan)."""

    text: str
    steps: list[str] = field(default_factory=list)
    emotions: list[EmotionSpan] = field(default_factory=list)
    keyframes: list[Keyframe] = field(default_factory=list)
    aus: dict[str, float] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    valence: float = 0.0
    arousal: float = 0.0
    backend: str = "rules"
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.emotions = [EmotionSpan(*e) for e in self.emotions]
        self.keyframes = [Keyframe(float(t), dict(a)) for t, a in self.keyframes]
        for name in list(self.aus) + [n for k in self.keyframes for n in k.aus]:
            if name not in ch.AU_CHANNELS:
                raise PlanError(f"plan names unknown AU channel {name!r}; use one of {', '.join(ch.AU_CHANNELS)}")

    # --- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; ``EmotionPlan.from_dict`` inverts it exactly."""
        return {
            "schema_version": SCHEMA_VERSION,
            "text": self.text,
            "steps": list(self.steps),
            "emotions": [list(e) for e in self.emotions],
            "keyframes": [[k.time, dict(k.aus)] for k in self.keyframes],
            "aus": dict(self.aus),
            "regions": dict(self.regions),
            "valence": self.valence,
            "arousal": self.arousal,
            "backend": self.backend,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EmotionPlan":
        """Rebuild a plan from ``to_dict`` output; raises PlanError on a malformed dict."""
        if not isinstance(d, dict):
            raise PlanError(f"a plan must be a dict, got {type(d).__name__}")
        version = d.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise PlanError(f"plan schema version {version} is not supported (this tbd reads {SCHEMA_VERSION})")
        try:
            return cls(
                text=str(d["text"]),
                steps=list(d.get("steps", [])),
                emotions=[EmotionSpan(str(l), float(i), float(s), float(e)) for l, i, s, e in d.get("emotions", [])],
                keyframes=[Keyframe(float(t), {str(k): float(v) for k, v in a.items()}) for t, a in d.get("keyframes", [])],
                aus={str(k): float(v) for k, v in d.get("aus", {}).items()},
                regions={str(k): str(v) for k, v in d.get("regions", {}).items()},
                valence=float(d.get("valence", 0.0)),
                arousal=float(d.get("arousal", 0.0)),
                backend=str(d.get("backend", "rules")),
                warnings=list(d.get("warnings", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"malformed plan dict: {exc}") from exc

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    # --- use by generators ---------------------------------------------------------
    def au_curves(self, n_frames: int) -> np.ndarray:
        """AU targets over ``n_frames`` frames, ``[n_frames, len(AU_CHANNELS)]``, linearly
        interpolated between keyframes (held flat before the first and after the last).
        Without keyframes the peak ``aus`` hold over the whole clip."""
        out = np.zeros((n_frames, len(ch.AU_CHANNELS)), dtype=np.float32)
        if n_frames <= 0:
            return out
        t = np.linspace(0.0, 1.0, n_frames) if n_frames > 1 else np.zeros(1)
        col = {n: i for i, n in enumerate(ch.AU_CHANNELS)}
        if not self.keyframes:
            for name, v in self.aus.items():
                out[:, col[name]] = v
            return out
        keys = sorted(self.keyframes, key=lambda k: k.time)
        times = np.array([k.time for k in keys])
        for name in {n for k in keys for n in k.aus}:
            vals = np.array([k.aus.get(name, 0.0) for k in keys])
            out[:, col[name]] = np.interp(t, times, vals)
        return out

    @classmethod
    def neutral(cls, text: str = "", warning: str | None = None) -> "EmotionPlan":
        """A plan with no emotion: a still, relaxed face."""
        return cls(
            text=text,
            steps=["No emotion is asked for, so the face stays neutral and relaxed."],
            emotions=[EmotionSpan("neutral", 0.0, 0.0, 1.0)],
            keyframes=[Keyframe(0.0, {}), Keyframe(1.0, {})],
            aus={},
            regions={r: "relaxed" for r in REGIONS},
            backend="neutral",
            warnings=[warning] if warning else [],
        )
