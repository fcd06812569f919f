"""Acceptance set for tbd.think: phrases a user would write, with the AUs the FACS literature expects.

Expected AUs come from EMFACS prototypes (Ekman & Friesen), the compound emotions of Du, Tao
& Martinez (PNAS 2014), Keltner 1995 (embarrassment), Prkachin 1992 (pain), Ekman & Friesen
1982 (felt vs false smiles) and the suppression literature (lip press 24 and chin raise 17
as control actions). Phrases were written before the lexicon was checked against them, many
with words and idioms it does not list; the bar is 90% of cases.

A case passes when every AU in ``present`` is at least 0.1 at its peak, every AU in ``absent``
stays below 0.1, and its extra check (intensity order, time course, asymmetry) holds.
Plain "AU12"/"AU14" mean the stronger of the two sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from tbd.emotion import think
from tbd.motion import channels as ch
from tbd.text_encoder import minilm_available

ON = 0.1


def peak(plan, au: str) -> float:
    return max(plan.aus.get(c, 0.0) for c in ch.expand_au(au))


def curve(plan, au: str, n: int = 101) -> np.ndarray:
    cur = plan.au_curves(n)
    cols = [ch.AU_CHANNELS.index(c) for c in ch.expand_au(au)]
    return cur[:, cols].max(axis=1)


def at(plan, au: str, t: float) -> float:
    return float(curve(plan, au)[int(round(t * 100))])


def asymmetric(au: str, side: str | None = None) -> Callable:
    def check(plan) -> bool:
        left, right = plan.aus.get(au + "L", 0.0), plan.aus.get(au + "R", 0.0)
        one_sided = abs(left - right) >= ON and min(left, right) < ON
        if side == "left":
            return one_sided and left > right
        if side == "right":
            return one_sided and right > left
        return one_sided
    return check


def weaker_than(other_text: str, au: str) -> Callable:
    """The case's AU peak is clearly lower than in ``other_text``."""
    def check(plan) -> bool:
        return peak(plan, au) + 0.1 <= peak(think(other_text), au)
    return check


def rises(au: str, early: float = 0.15, late: float = 0.95, low: float = 0.1, high: float = 0.3) -> Callable:
    return lambda plan: at(plan, au, early) < low and at(plan, au, late) >= high


def falls(au: str, early: float = 0.3, late: float = 0.97) -> Callable:
    return lambda plan: at(plan, au, early) >= 0.2 and at(plan, au, late) < at(plan, au, early) - 0.15


def steepest_step(au: str) -> Callable[[object], float]:
    return lambda plan: float(np.abs(np.diff(curve(plan, au, 201))).max())


@dataclass
class Case:
    text: str
    present: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    check: Callable | None = None
    kind: str = "prototype"


CASES: list[Case] = [
    # --- prototypes, as people write them (EMFACS) ---
    Case("She is really happy to see her old friend", {"AU6", "AU12"}, {"AU4", "AU15"}),
    Case("he looks so sad", {"AU1", "AU4", "AU15"}, {"AU12"}),
    Case("totally shocked by the news", {"AU1", "AU2", "AU5", "AU26"}, {"AU12"}),
    Case("terrified of what's behind the door", {"AU1", "AU2", "AU4", "AU5", "AU20"}, {"AU12"}),
    Case("furious at his brother", {"AU4", "AU7", "AU23"}, {"AU12", "AU1"}),
    Case("disgusted by the smell", {"AU9"}, {"AU12"}),
    Case("a completely blank, expressionless face", set(),
         {"AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU9"}, lambda p: not p.aus),
    Case("grossed out by the leftovers", {"AU9"}, {"AU12"}),
    Case("scared stiff", {"AU1", "AU5", "AU20"}, {"AU12"}),
    Case("she's overjoyed", {"AU6", "AU12"}, {"AU15"}),
    Case("angry", {"AU4", "AU7", "AU23"}, set()),
    Case("surprised", {"AU1", "AU2", "AU26"}, {"AU4"}),
    # --- paraphrases and idioms the lexicon does not list ---
    Case("on top of the world", {"AU12"}, {"AU15", "AU4"}, kind="paraphrase"),
    Case("with a heavy heart", {"AU1", "AU15"}, {"AU12"}, kind="paraphrase"),
    Case("seeing red after the insult", {"AU4"}, {"AU12"}, kind="paraphrase"),
    Case("walking on air", {"AU12"}, {"AU15"}, kind="paraphrase"),
    Case("her heart sank", {"AU15"}, {"AU12"}, kind="paraphrase"),
    Case("absolutely chuffed with the result", {"AU12"}, {"AU15"}, kind="paraphrase"),
    Case("tickled pink by the joke", {"AU6", "AU12"}, {"AU4"}, kind="paraphrase"),
    Case("completely gutted about losing", {"AU15"}, {"AU12"}, kind="paraphrase"),
    Case("he blew his top", {"AU4"}, {"AU12"}, kind="paraphrase"),
    Case("grinning from ear to ear", {"AU6", "AU12"}, {"AU15"}, kind="paraphrase"),
    Case("trembling with fear", {"AU1", "AU5", "AU20"}, {"AU12"}, kind="paraphrase"),
    Case("in a foul mood", {"AU4"}, {"AU12"}, kind="paraphrase"),
    Case("worried sick about her son", {"AU1", "AU4"}, {"AU12"}, kind="paraphrase"),
    Case("full of dread", {"AU1", "AU4"}, {"AU12"}, kind="paraphrase"),
    Case("feeling blissfully at peace", {"AU12"}, {"AU4", "AU15"}, kind="paraphrase"),
    Case("sick to my stomach at the sight", {"AU9"}, {"AU12"}, kind="paraphrase"),
    # --- intensity pairs ---
    Case("slightly annoyed", {"AU4"}, set(), weaker_than("extremely angry", "AU4"), kind="intensity"),
    Case("a faint smile", {"AU12"}, set(), weaker_than("a huge smile", "AU12"), kind="intensity"),
    Case("a little sad", {"AU15"}, set(), weaker_than("deeply sad", "AU15"), kind="intensity"),
    Case("barely surprised", set(), set(), weaker_than("completely astonished", "AU2"), kind="intensity"),
    Case("mildly disgusted", set(), set(), weaker_than("utterly revolted", "AU9"), kind="intensity"),
    Case("kind of scared", {"AU20"}, set(), weaker_than("scared to death", "AU20"), kind="intensity"),
    # --- negation ---
    Case("not happy at all", set(), {"AU12", "AU6"}, lambda p: p.valence < 0, kind="negation"),
    Case("I'm not angry, just disappointed", {"AU15"}, {"AU23", "AU7"}, kind="negation"),
    Case("he isn't scared", set(), {"AU20", "AU5"}, kind="negation"),
    Case("she never smiles", set(), {"AU12"}, kind="negation"),
    Case("no longer sad", set(), {"AU15"}, kind="negation"),
    Case("he can't stop smiling", {"AU12"}, {"AU15"}, kind="negation"),
    Case("she couldn't hide her excitement", {"AU12"}, set(), kind="negation"),
    # --- masking and suppression ---
    Case("a forced smile", {"AU12"}, {"AU6"}, kind="masking"),
    Case("hiding his anger behind a polite smile", {"AU12", "AU24"}, {"AU6"},
         lambda p: peak(p, "AU4") < 0.3, kind="masking"),
    Case("trying not to laugh", {"AU24"}, set(), lambda p: peak(p, "AU12") < 0.4, kind="masking"),
    Case("fighting back tears", {"AU17", "AU24"}, set(), kind="masking"),
    Case("a fake grin", {"AU12"}, {"AU6"}, kind="masking"),
    Case("smiling through the pain", {"AU12"}, set(), kind="masking"),
    Case("a genuine, warm smile", {"AU6", "AU12"}, set(), kind="masking"),
    Case("suppressing a smirk", {"AU24"}, set(), lambda p: peak(p, "AU12") < 0.3, kind="masking"),
    # --- blends and Du et al. compounds ---
    Case("happy but nervous", {"AU12", "AU20", "AU1"}, set(), kind="blend"),
    Case("sad yet hopeful", {"AU1"}, set(), kind="blend"),
    Case("nervous but hopeful", {"AU1", "AU20"}, set(), kind="blend"),
    Case("angry and disgusted", {"AU4", "AU10"}, {"AU12"}, kind="compound"),
    Case("surprised and happy", {"AU1", "AU2", "AU12"}, {"AU15"}, kind="compound"),
    Case("sad and angry", {"AU4", "AU15"}, {"AU12"}, kind="compound"),
    Case("scared and surprised", {"AU1", "AU2", "AU5", "AU20"}, {"AU12"}, kind="compound"),
    Case("happily disgusted", {"AU10", "AU12"}, set(), kind="compound"),
    Case("a mix of fear and disgust", {"AU1", "AU4", "AU10", "AU20"}, {"AU12"}, kind="compound"),
    Case("in awe of the mountains", {"AU1", "AU2", "AU5"}, {"AU4"}, kind="compound"),
    Case("appalled by what he saw", {"AU4", "AU9", "AU10"}, {"AU12"}, kind="compound"),
    Case("pure hatred in his eyes", {"AU4", "AU7", "AU10"}, {"AU12"}, kind="compound"),
    Case("pleasantly surprised", {"AU1", "AU2", "AU12"}, {"AU4"}, kind="compound"),
    # --- time courses ---
    Case("calm at first, then furious", {"AU4"}, set(), rises("AU4", 0.2, 0.95, 0.1, 0.5), kind="time"),
    Case("starts smiling but slowly becomes sad", {"AU12", "AU15"}, set(),
         lambda p: at(p, "AU12", 0.3) > at(p, "AU12", 0.95) + 0.2 and at(p, "AU15", 0.95) > at(p, "AU15", 0.3) + 0.2,
         kind="time"),
    Case("suddenly terrified", {"AU5"}, set(), lambda p: steepest_step("AU5")(p) >= 0.2, kind="time"),
    Case("slowly getting angrier", {"AU4"}, set(),
         lambda p: steepest_step("AU4")(p) < 0.05 and at(p, "AU4", 0.98) >= 0.3, kind="time"),
    Case("a flash of anger, then a smile", {"AU4", "AU12"}, set(),
         lambda p: int(np.argmax(curve(p, "AU4"))) < int(np.argmax(curve(p, "AU12"))), kind="time"),
    Case("happy, then sad, then angry", {"AU12", "AU15", "AU4"}, set(),
         lambda p: at(p, "AU12", 0.3) > 0.3 and at(p, "AU15", 0.6) > 0.3 and at(p, "AU23", 0.97) > 0.3
         and at(p, "AU12", 0.97) < 0.1, kind="time"),
    Case("her smile fades", {"AU12"}, set(), falls("AU12"), kind="time"),
    Case("from joy to despair", {"AU12", "AU15"}, set(),
         lambda p: at(p, "AU12", 0.3) > at(p, "AU12", 0.97) and at(p, "AU15", 0.97) > at(p, "AU15", 0.3),
         kind="time"),
    Case("a polite smile that slowly turns into disbelief", {"AU12", "AU2"}, {"AU6"},
         lambda p: at(p, "AU12", 0.4) > at(p, "AU12", 0.97) and at(p, "AU2", 0.97) > at(p, "AU2", 0.4),
         kind="time"),
    # --- contempt and smirks: one-sided AU12/AU14 ---
    Case("a contemptuous sneer", {"AU14"}, set(), asymmetric("AU14"), kind="asymmetry"),
    Case("contempt", {"AU14"}, set(), asymmetric("AU14"), kind="asymmetry"),
    Case("a smirk", {"AU12"}, set(), asymmetric("AU12"), kind="asymmetry"),
    Case("a lopsided grin", {"AU12"}, set(), asymmetric("AU12"), kind="asymmetry"),
    Case("looking at him with disdain", {"AU14"}, set(), asymmetric("AU14"), kind="asymmetry"),
    Case("a smirk on the left side of her mouth", {"AU12"}, set(), asymmetric("AU12", "left"), kind="asymmetry"),
    Case("a half smile", {"AU12"}, set(), asymmetric("AU12"), kind="asymmetry"),
    # --- nuanced states ---
    Case("she's so embarrassed, her cheeks are burning", {"AU12", "AU24"}, set(), kind="nuanced"),
    Case("confused by the instructions", {"AU4", "AU7"}, {"AU12"}, kind="nuanced"),
    Case("bored out of his mind", set(), {"AU12", "AU5", "AU6"}, kind="nuanced"),
    Case("proud of her daughter", {"AU12"}, {"AU15", "AU4"}, kind="nuanced"),
    Case("exhausted after the marathon", {"AU45"}, {"AU5", "AU12"}, kind="nuanced"),
    Case("in excruciating pain", {"AU4", "AU7"}, {"AU12"}, kind="nuanced"),
    Case("sobbing uncontrollably", {"AU1", "AU15"}, {"AU12"}, kind="nuanced"),
    Case("a puzzled look", {"AU4"}, {"AU12"}, kind="nuanced"),
    Case("a skeptical squint", {"AU7"}, set(), kind="nuanced"),
    Case("gasping in surprise", {"AU1", "AU2", "AU26"}, set(), kind="nuanced"),
    Case("raised eyebrows", {"AU1", "AU2"}, {"AU4"}, kind="nuanced"),
    Case("a deep frown", {"AU4"}, {"AU12"}, lambda p: peak(p, "AU4") >= 0.5, kind="nuanced"),
]


def evaluate(case: Case) -> tuple[bool, str]:
    plan = think(case.text)
    missing = sorted(a for a in case.present if peak(plan, a) < ON)
    extra = sorted(a for a in case.absent if peak(plan, a) >= ON)
    ok_check = case.check is None or bool(case.check(plan))
    ok = not missing and not extra and ok_check
    why = []
    if missing:
        why.append(f"missing {missing}")
    if extra:
        why.append(f"unexpected {extra}")
    if not ok_check:
        why.append("check failed")
    return ok, f"[{case.kind}] {case.text!r}: {', '.join(why)}; aus={plan.aus}"


def test_acceptance_set_is_large_and_varied():
    assert len(CASES) >= 60
    kinds = {c.kind for c in CASES}
    assert {"prototype", "paraphrase", "intensity", "negation", "masking", "time", "compound",
            "asymmetry"} <= kinds


def test_acceptance_rate():
    """At least 90% of the phrases get the AUs the literature expects (with the sentence encoder;
    without it, idioms outside the lexicon cannot be read, and the bar is the non-idiom cases)."""
    results = [(c, *evaluate(c)) for c in CASES]
    if minilm_available():
        scored = results
    else:
        scored = [r for r in results if r[0].kind != "paraphrase"]
    passed = sum(ok for _, ok, _ in scored)
    rate = passed / len(scored)
    failures = "\n".join(msg for _, ok, msg in scored if not ok)
    print(f"\nacceptance: {passed}/{len(scored)} = {rate:.1%}\n{failures}")
    assert rate >= 0.9, f"acceptance {rate:.1%} < 90%; failures:\n{failures}"
