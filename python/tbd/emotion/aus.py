"""FACS knowledge for the 24 AU channels: names, muscles, face regions, sides, ARKit blendshapes.

Sources: Ekman, Friesen & Hager, *Facial Action Coding System: the manual* (2002), for AU
names, muscular basis and appearance changes; Apple ARKit ``ARFaceAnchor.BlendShapeLocation``
for the blendshape names (the weights themselves live in ``tbd.motion.arkit``, the one
place that maps channels to ARKit).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..motion import channels as ch
from ..motion.arkit import ARKIT_BLENDSHAPES, ARKIT_MATRIX

SIDES = ("both", "left", "right")


@dataclass(frozen=True)
class ActionUnit:
    """One AU channel: what FACS calls it, which muscles do it and what they do."""

    channel: str  # motion channel name, e.g. "AU12L"
    au: str  # plain FACS number, e.g. "AU12"
    facs_name: str  # "Lip Corner Puller"
    muscles: tuple[str, ...]  # ("zygomaticus major",)
    region: str  # one of tbd.plan.REGIONS
    side: str  # "both", or "left"/"right" (the subject's) for split channels
    action: str  # what the muscle does, as a clause: "pulls the lip corners up and back"

    @property
    def description(self) -> str:
        """Plain muscle description: "zygomaticus major pulls the lip corner up and back (subject's left side)"."""
        names = self.muscles[0] if len(self.muscles) == 1 else ", ".join(self.muscles[:-1]) + " and " + self.muscles[-1]
        text = f"{names} {self.action}"
        return text if self.side == "both" else f"{text} on the subject's {self.side} side"

    @property
    def arkit(self) -> tuple[str, ...]:
        """ARKit blendshapes this channel drives most (weight >= 0.5 in tbd.motion.arkit)."""
        row = ARKIT_MATRIX[ch.AU_CHANNELS.index(self.channel)]
        return tuple(name for name, w in zip(ARKIT_BLENDSHAPES, row) if w >= 0.5)


# (facs name, muscles, region, action) per plain AU number.
_FACS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "AU1": ("Inner Brow Raiser", ("frontalis, pars medialis",), "brows",
            "lifts the inner ends of the brows and wrinkles the middle of the forehead"),
    "AU2": ("Outer Brow Raiser", ("frontalis, pars lateralis",), "brows",
            "lifts the outer ends of the brows into an arch"),
    "AU4": ("Brow Lowerer", ("corrugator supercilii", "depressor supercilii", "procerus"), "brows",
            "pull the brows down and together, creasing the skin between them"),
    "AU5": ("Upper Lid Raiser", ("levator palpebrae superioris",), "eyes",
            "raises the upper eyelids and widens the eyes, showing more white above the iris"),
    "AU6": ("Cheek Raiser", ("orbicularis oculi, pars orbitalis",), "cheeks",
            "lifts the cheeks and gathers the skin around the eyes into crow's feet"),
    "AU7": ("Lid Tightener", ("orbicularis oculi, pars palpebralis",), "eyes",
            "tightens and narrows the eyelids, raising the lower lid"),
    "AU9": ("Nose Wrinkler", ("levator labii superioris alaeque nasi",), "nose",
            "wrinkles the skin along the sides of the nose and pulls the nostril wings up"),
    "AU10": ("Upper Lip Raiser", ("levator labii superioris",), "mouth",
             "raises the upper lip and deepens the nasolabial furrow"),
    "AU12": ("Lip Corner Puller", ("zygomaticus major",), "mouth",
             "pulls the lip corner up and back toward the cheekbone"),
    "AU14": ("Dimpler", ("buccinator",), "mouth",
             "tightens the lip corner inward and dimples the cheek beside it"),
    "AU15": ("Lip Corner Depressor", ("depressor anguli oris (triangularis)",), "mouth",
             "pulls the lip corners down"),
    "AU16": ("Lower Lip Depressor", ("depressor labii inferioris",), "mouth",
             "pulls the lower lip down and slightly sideways"),
    "AU17": ("Chin Raiser", ("mentalis",), "jaw",
             "pushes the chin boss and the lower lip up, wrinkling the chin"),
    "AU18": ("Lip Pucker", ("incisivii labii superioris", "incisivii labii inferioris"), "mouth",
             "draw the lips forward into a pucker"),
    "AU20": ("Lip Stretcher", ("risorius", "platysma"), "mouth",
             "stretch the lips sideways and flatten them"),
    "AU22": ("Lip Funneler", ("orbicularis oris",), "mouth",
             "funnels the lips outward, as if saying 'sh'"),
    "AU23": ("Lip Tightener", ("orbicularis oris",), "mouth",
             "tightens and narrows the red of the lips"),
    "AU24": ("Lip Pressor", ("orbicularis oris",), "mouth",
             "presses the lips together"),
    "AU25": ("Lips Part", ("depressor labii inferioris", "relaxed mentalis and orbicularis oris"), "mouth",
             "let the lips part"),
    "AU26": ("Jaw Drop", ("relaxed masseter", "relaxed temporalis and internal pterygoid"), "jaw",
             "let the jaw fall open"),
    "AU27": ("Mouth Stretch", ("lateral pterygoid", "digastric"), "jaw",
             "pull the jaw wide open, stretching the mouth"),
    "AU45": ("Blink", ("orbicularis oculi, pars palpebralis", "relaxed levator palpebrae superioris"), "eyes",
             "close the eyelids"),
}


def _build() -> dict[str, ActionUnit]:
    table: dict[str, ActionUnit] = {}
    for channel in ch.AU_CHANNELS:
        au = channel.rstrip("LR") if channel[-1] in "LR" else channel
        side = {"L": "left", "R": "right"}.get(channel[-1], "both")
        facs_name, muscles, region, action = _FACS[au]
        table[channel] = ActionUnit(channel, au, facs_name, muscles, region, side, action)
    return table


ACTION_UNITS: Mapping[str, ActionUnit] = MappingProxyType(_build())
"""Channel name -> ActionUnit, for every channel in ``tbd.motion.channels.AU_CHANNELS``."""


def action_unit(channel: str) -> ActionUnit:
    """The ActionUnit of an AU channel name (``"AU12L"``)."""
    try:
        return ACTION_UNITS[channel]
    except KeyError:
        raise KeyError(f"unknown AU channel {channel!r}; known: {', '.join(ch.AU_CHANNELS)}") from None


def au_description(channel: str) -> str:
    """Plain muscle description of an AU channel, e.g. ``au_description("AU12L")`` ->
    "zygomaticus major pulls the lip corner up and back toward the cheekbone on the subject's left side"."""
    return action_unit(channel).description


def channels_of(au: str) -> tuple[str, ...]:
    """The channels of an AU name: ``"AU12"`` -> both sides, ``"AU12L"`` -> itself."""
    return ch.expand_au(au)


def intensity_letter(value: float) -> str:
    """FACS intensity letter A..E for a 0..1 value (A=0.2 ... E=1.0); "-" below 0.1."""
    if value < 0.1:
        return "-"
    return "ABCDE"[min(4, max(0, int(round(value * 5)) - 1))]
