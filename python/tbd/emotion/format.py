"""A readable, multi-line rendering of an EmotionPlan (the CLI's `tbd think TEXT` output)."""

from __future__ import annotations

import textwrap

from ..motion import channels as ch
from ..plan import REGIONS, EmotionPlan
from .aus import ACTION_UNITS, intensity_letter

WIDTH = 100


def format_plan(plan: EmotionPlan) -> str:
    """The chain of thought, emotions over time, peak AUs with bars, regions and warnings."""
    wrap = textwrap.TextWrapper(width=WIDTH, subsequent_indent="      ")
    lines = [f'Think: "{_short(plan.text, 80)}"   (backend: {plan.backend})', "", "Chain of thought:"]
    for i, step in enumerate(plan.steps, 1):
        lines.extend(wrap.wrap(f"  {i:>2}. {step}"))
    lines += ["", "Emotions over the clip:"]
    for e in plan.emotions:
        lines.append(f"  {e.label:<28} {e.intensity:4.2f}   {100 * e.start:3.0f}% - {100 * e.end:3.0f}%")
    lines += ["", "Peak action units:"]
    if not plan.aus:
        lines.append("  (none: neutral face)")
    for name in ch.AU_CHANNELS:
        if name in plan.aus:
            v = plan.aus[name]
            unit = ACTION_UNITS[name]
            lines.append(f"  {name:<6} {unit.facs_name:<22} {v:4.2f} {intensity_letter(v)}  {'#' * round(v * 20)}")
    lines += ["", "Regions:"]
    for region in REGIONS:
        text = plan.regions.get(region, "relaxed")
        lines.extend(textwrap.wrap(f"  {region:<7} {text}", width=WIDTH, subsequent_indent=" " * 10))
    lines += ["", f"Valence {plan.valence:+.2f}   arousal {plan.arousal:.2f}", "", "Keyframes:"]
    for k in plan.keyframes:
        aus = ", ".join(f"{n} {v:.2f}" for n, v in k.aus.items()) or "rest"
        lines.extend(textwrap.wrap(f"  t={k.time:4.2f}  {aus}", width=WIDTH, subsequent_indent=" " * 10))
    if plan.warnings:
        lines += ["", "Warnings:"]
        for w in plan.warnings:
            lines.extend(textwrap.wrap(f"  - {w}", width=WIDTH, subsequent_indent="    "))
    return "\n".join(lines)


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
