"""EvalReport: everything ``tbd.evaluate`` measured, as typed dataclasses that round-trip through JSON."""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from .blendshapes import BlendshapeResult
from .blinks import BlinkEvent, BlinkResult
from .colour import ColourResult
from .fer import FerResult
from .identity import IdentityResult
from .lipsync import LipSyncResult

FORMAT_VERSION = 1


@dataclass
class EvalReport:
    """One clip's evaluation. A detector that was not run (no portrait, no audio, no face) is None."""

    source: str
    n_frames: int
    fps: float
    size: list[int]                      # [H, W]
    emotion: str | None                  # the requested emotion text (or the Animation plan's)
    middle: list[int]                    # [first, end) frames averaged as "the middle of the clip"
    fer: FerResult | None = None
    blendshapes: BlendshapeResult | None = None
    lipsync: LipSyncResult | None = None
    blinks: BlinkResult | None = None
    identity: IdentityResult | None = None
    colour: ColourResult | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, numbers, strings, None)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EvalReport":
        """Inverse of ``to_dict``."""
        return _build(cls, data)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> "EvalReport":
        text = os.fspath(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        return cls.from_dict(json.loads(text))

    def table(self) -> str:
        """A short human-readable summary, one measurement a line."""
        return format_table(self)


def _build(tp: Any, value: Any) -> Any:
    """Rebuild a value of (resolved) type ``tp`` from its ``asdict`` form."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(inner[0], value) if len(inner) == 1 else value
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value})
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return [_build(arg, v) for v in value]
    if origin is dict:
        _, arg = typing.get_args(tp) or (Any, Any)
        return {k: _build(arg, v) for k, v in value.items()}
    return value


def _f(value: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def format_table(report: EvalReport) -> str:
    """The printed summary of ``tbd eval``."""
    lines = [f"{report.source}: {report.n_frames} frames at {report.fps:g} fps, {report.size[1]}x{report.size[0]}"
             f"{f', emotion {report.emotion!r}' if report.emotion else ''}; middle frames {report.middle[0]}..{report.middle[1] - 1}"]
    if report.fer is not None:
        fer = report.fer
        probs = " ".join(f"{k} {_f(v, '{:.2f}')}" for k, v in fer.middle_mean.items())
        verdict = "" if fer.correct is None else f" -> {'right' if fer.correct else 'WRONG'} (asked {fer.target})"
        lines.append(f"  FER          {fer.label} {fer.score:.2f}{verdict}; mean {probs}; face in {fer.face_fraction:.0%}")
    if report.blendshapes is not None:
        b = report.blendshapes
        what = "render - baseline" if b.delta is not None else "render"
        lines.append(f"  blendshapes  ({what}, middle mean) " + " ".join(f"{k} {v:+.3f}" for k, v in b.responses.items()))
        if b.requested is not None:
            from .blendshapes import RESPONSES
            asked = {k: sum(b.requested[n] for n in names) / len(names) for k, names in RESPONSES.items()}
            lines.append("  requested    " + " ".join(f"{k} {v:.3f}" for k, v in asked.items() if v > 0.005))
    if report.lipsync is not None:
        ls = report.lipsync
        lines.append(f"  lip sync     r {_f(ls.r)} (best {_f(ls.best_r)} at lag {ls.best_lag:+d} frames)")
    if report.blinks is not None:
        bl = report.blinks
        durations = ", ".join(f"{e.duration_s * 1000:.0f}" for e in bl.events)
        asked = "" if bl.requested_count is None else f" (motion asked {bl.requested_count})"
        where = "" if bl.requested_apexes is None else " at the motion's blinks"
        lines.append(f"  blinks       {bl.count}{asked}; min apex{where} {_f(bl.min_apex, '{:.2f}')}; "
                     f"durations ms [{durations}]; flickers {bl.flickers}")
    if report.identity is not None:
        idn = report.identity
        lines.append(f"  identity     median {_f(idn.median)} max {_f(idn.max)} over {len(idn.frames)} frames")
    if report.colour is not None:
        c = report.colour
        grey = f"; grey source, max chroma {c.render_max_chroma:.1f}" if c.source_is_grey else ""
        lines.append(f"  colour       face chroma {c.source_mean_chroma:.1f} -> {c.render_mean_chroma:.1f}, "
                     f"mean RGB shift {c.mean_rgb_shift:.1f}{grey}")
    if report.checks:
        lines.append("  checks       " + " ".join(f"{k} {'pass' if v else 'FAIL'}" for k, v in report.checks.items()))
    lines.extend(f"  warning: {w}" for w in report.warnings)
    return "\n".join(lines)


__all__ = ["EvalReport", "FerResult", "BlendshapeResult", "LipSyncResult", "BlinkResult", "BlinkEvent",
           "IdentityResult", "ColourResult", "format_table"]
