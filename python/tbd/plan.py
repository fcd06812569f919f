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
SCHEMA_VERSION = 2
TIME_UNITS: tuple[str, ...] = ("clip", "s")
"""``"clip"``: times are fractions of the clip (0..1), resolved against its length when it is
known; ``"s"``: times are seconds from the start of the clip (or of the ``set_emotion`` call
in a live session). See docs/architecture.md, "Time model"."""


class EmotionSpan(NamedTuple):
    """One emotion over part of the clip: ``start``/``end`` in the plan's ``time_unit``
    (fractions of the clip by default, or seconds)."""

    label: str
    intensity: float
    start: float = 0.0
    end: float = 1.0


class Keyframe(NamedTuple):
    """AU targets (channel name -> 0..1) at ``time`` (in the plan's ``time_unit``)."""

    time: float
    aus: dict[str, float]


@dataclass
class EmotionPlan:
    """The chain of thought from emotion text to facial muscles (docs/architecture.md, "Data types").

    Times (``emotions`` start/end, ``keyframes`` time) are in ``time_unit``: ``"clip"``
    (fractions 0..1 of a clip whose length is known when the plan is used; what ``tbd.think``
    writes) or ``"s"`` (seconds). ``in_seconds(duration)`` converts; ``au_at(times, duration)``
    and ``span_weights`` read the plan at absolute times.
    """

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
    time_unit: str = "clip"

    def __post_init__(self) -> None:
        if self.time_unit not in TIME_UNITS:
            raise PlanError(f"unknown plan time_unit {self.time_unit!r}; use one of {', '.join(TIME_UNITS)}")
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
            "time_unit": self.time_unit,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EmotionPlan":
        """Rebuild a plan from ``to_dict`` output (schema version 2, or version 1, whose times are
        fractions of the clip); raises PlanError on a malformed dict."""
        if not isinstance(d, dict):
            raise PlanError(f"a plan must be a dict, got {type(d).__name__}")
        version = d.get("schema_version", SCHEMA_VERSION)
        if version not in (1, SCHEMA_VERSION):
            raise PlanError(f"plan schema version {version} is not supported (this tbd reads 1 and {SCHEMA_VERSION})")
        if version == 1 and d.get("time_unit", "clip") != "clip":
            raise PlanError("a version-1 plan has no time_unit (its times are fractions of the clip)")
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
                time_unit=str(d.get("time_unit", "clip")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanError(f"malformed plan dict: {type(exc).__name__}: {exc}") from exc

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str | bytes) -> "EmotionPlan":
        """Rebuild a plan from ``to_json`` text; raises PlanError on text that is not a plan."""
        try:
            d = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, deep nesting
            raise PlanError(f"not a JSON plan ({type(exc).__name__}: {exc}); give the text tbd think --json writes") from exc
        return cls.from_dict(d)

    # --- use by generators ---------------------------------------------------------
    def seconds(self, t: float, duration: float | None = None) -> float:
        """Plan time ``t`` in seconds: as is for ``time_unit="s"``; times ``duration`` (the
        time of the clip's last frame) for ``"clip"``."""
        if self.time_unit == "s":
            return float(t)
        if duration is None:
            raise PlanError("this plan's times are fractions of the clip: give the clip's duration "
                            "(or convert it with plan.in_seconds(duration))")
        return float(t) * float(duration)

    def in_seconds(self, duration: float) -> "EmotionPlan":
        """A copy with every time in seconds (``time_unit="s"``); ``duration`` is the time of
        the last frame of the clip the normalised times refer to. A seconds plan is returned as is."""
        if self.time_unit == "s":
            return self
        import dataclasses

        return dataclasses.replace(
            self,
            emotions=[EmotionSpan(e.label, e.intensity, self.seconds(e.start, duration), self.seconds(e.end, duration))
                      for e in self.emotions],
            keyframes=[Keyframe(self.seconds(k.time, duration), dict(k.aus)) for k in self.keyframes],
            time_unit="s",
        )

    def au_at(self, times: np.ndarray, duration: float | None = None) -> np.ndarray:
        """AU targets ``[len(times), len(AU_CHANNELS)]`` at ``times`` (seconds), linearly
        interpolated between keyframes (held flat before the first and after the last).
        Without keyframes the peak ``aus`` hold throughout. ``duration`` resolves normalised plans."""
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        out = np.zeros((len(times), len(ch.AU_CHANNELS)), dtype=np.float32)
        col = {n: i for i, n in enumerate(ch.AU_CHANNELS)}
        if not self.keyframes:
            for name, v in self.aus.items():
                out[:, col[name]] = v
            return out
        keys = sorted(self.keyframes, key=lambda k: k.time)
        key_times = np.array([self.seconds(k.time, duration) for k in keys])
        for name in {n for k in keys for n in k.aus}:
            vals = np.array([k.aus.get(name, 0.0) for k in keys])
            out[:, col[name]] = np.interp(times, key_times, vals)
        return out

    def span_weights(self, times: np.ndarray, duration: float | None = None) -> np.ndarray:
        """float32 ``[len(times), len(emotions)]``: each span's intensity where it is active
        (start <= t <= end, in seconds), 0 elsewhere."""
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        out = np.zeros((len(times), len(self.emotions)), dtype=np.float32)
        for i, e in enumerate(self.emotions):
            lo, hi = self.seconds(e.start, duration), self.seconds(e.end, duration)
            out[:, i] = np.where((times >= lo - 1e-9) & (times <= hi + 1e-9), float(e.intensity), 0.0)
        return out

    def au_curves(self, n_frames: int, fps: float = 25.0) -> np.ndarray:
        """AU targets over ``n_frames`` frames of a clip, ``[n_frames, len(AU_CHANNELS)]``:
        ``au_at`` at the frame times, normalised times spanning first to last frame."""
        if n_frames <= 0:
            return np.zeros((0, len(ch.AU_CHANNELS)), dtype=np.float32)
        times = np.arange(n_frames) / float(fps)
        return self.au_at(times, clip_duration(n_frames, fps))

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


def clip_duration(n_frames: int, fps: float) -> float:
    """The duration normalised plan times refer to: the time of the clip's last frame
    (``(n_frames - 1) / fps``; a one-frame clip gets one frame's time, so times stay finite)."""
    return max(n_frames - 1, 1) / float(fps)
