"""The mouth of speech: loudness, visemes and the emotion's AUs combined into the AU channels.

Loudness says how wide the mouth opens (silence closes it); the articulation says which
shape it takes (``tbd.articulation.coarticulation``); the emotion's AUs stay where speech
does not need the same muscles. The rules where they meet:

* speech opens the mouth beyond the emotion's own opening (a soft union, so a surprised mouth
  still moves with every syllable);
* a bilabial closes the lips over any expression (a smiling or surprised mouth still closes
  for /m/), and presses them;
* rounding (/u/, /o/, /w/) narrows the mouth: it damps the smile's and the stretch's pull on
  the lip corners and the press of an angry mouth, so an angry face still rounds;
* f/v raise the lower lip under the upper teeth and hold the jaw nearly closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, grey_closing

from ..motion import channels as ch
from .coarticulation import Articulation
from .visemes import MOUTH_AUS, SHAPES, VISEME_INDEX

_AU = {n: i for i, n in enumerate(ch.AU_CHANNELS)}
_T = {n: j for j, n in enumerate(MOUTH_AUS)}


SPEECH_GATE = 0.3   # loudness (``AudioFeatures.loudness``, 0..1) below this is silence: the mouth closes
SPEECH_RANGE = 0.4  # loudness above the gate plus this opens the mouth fully
MOUTH_SMOOTH_S = 0.03  # smoothing of the mouth opening (co-articulation), seconds


LIP_SHAPE_AUS = ("AU18", "AU22", "AU20")
"""The channels that give the lips their shape in speech (pucker, funnel, stretch)."""


def loudness_opening(loudness: np.ndarray, gate: float = SPEECH_GATE, span: float = SPEECH_RANGE) -> np.ndarray:
    """The mouth opening that loudness alone asks for, 0..1 per frame (0 in silence)."""
    return np.clip((np.asarray(loudness, np.float32) - gate) / span, 0.0, 1.0)


def bridge_dips(opening: np.ndarray, frames: float) -> np.ndarray:
    """A loudness opening [T] with every dip narrower than ``frames`` filled up to the level around it
    (a grey closing): what is left low is a pause, not a stop's closure or a short gap between words."""
    opening = np.asarray(opening, np.float32)
    size = int(round(frames))
    return grey_closing(opening, size=size, mode="nearest") if size > 1 and len(opening) else opening


def smooth_opening(raw: np.ndarray, sigma_frames: float, keep_dips: bool = True) -> np.ndarray:
    """A loudness opening [T] smoothed (Gaussian, ``sigma_frames``; the ends held) and, with ``keep_dips``,
    never above a frame's own: at 25 fps a p/b closure is often one quiet frame, which smoothing alone fills in."""
    raw = np.asarray(raw, np.float32)
    if sigma_frames <= 0.3 or not len(raw):
        return raw
    smooth = gaussian_filter1d(raw, sigma_frames, mode="nearest")
    return np.minimum(smooth, raw) if keep_dips else smooth


@dataclass(frozen=True)
class MouthConfig:
    """How speech drives the mouth channels."""

    # AU26 at full loudness opening, for a typical vowel, and AU25 per unit of it. At 0.75 and 1.6 neutral speech
    # parted the lips 1.0-1.2 cm in half its frames and 1.6-1.9 cm in a tenth (bundled portrait, both clips), and
    # FER read such frames as fear, sadness or surprise on every face (benchmarks/RESULTS.md, Fidelity).
    jaw_gain: float = 0.5
    lips_gain: float = 1.3
    shape_share: float = 0.55         # share of the aperture set by the viseme (the rest by loudness)
    typical_jaw: float = 0.35         # the viseme AU26 that loudness alone stands for
    press: float = 0.55               # AU24 at full closure
    rounding_damping: float = 0.7     # how much full rounding damps AU12/AU14/AU20/AU23/AU24
    learned_corner_rounding: float = 2.0  # a learned mouth's corner pull beyond the emotion's: gone from rounding 1/this
    ff_jaw_damping: float = 0.8
    pause_opening: float = 0.15       # below this loudness opening speech fades out of the mouth (a pause)
    learned_aperture_share: float = 1.0   # a learned mouth's jaw (AU26, AU27) while speaking: this share is the articulation's
    learned_lips_share: float = 1.0   # a learned mouth's lip parting and press (AU25, AU24) while speaking: the articulation's
    learned_fade_opening: float = 0.15  # below this loudness opening a learned mouth keeps some of its own aperture (0: never)
    learned_min_pause_s: float = 0.2  # a quiet stretch shorter than this (a stop, a gap between words) is no pause: no fade


def _fade_in(opening: np.ndarray, level: float) -> np.ndarray:
    """0..1 per frame [T]: 0 at no opening, 1 from ``level`` up, smoothly between (1 everywhere if ``level`` <= 0)."""
    opening = np.asarray(opening, np.float32)
    if level <= 0:
        return np.ones_like(opening)
    x = np.clip(opening / level, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _speaking(opening: np.ndarray, config: MouthConfig) -> np.ndarray:
    """How much speech rules a learned mouth [T] (0..1): 0 in a pause, 1 above ``pause_opening``, smoothly between."""
    return _fade_in(opening, config.pause_opening)


def _open(aus: np.ndarray, jaw: np.ndarray, lips: np.ndarray) -> None:
    """Speech's jaw (AU26) and lip (AU25) opening on top of the emotion's own (in place), as a soft union
    ``e + s - e * s``: an open-mouthed emotion (surprise, fear) still opens further on every loud syllable
    and keeps its own opening in pauses (a plain maximum hid all speech below the emotion's opening)."""
    for name, speech in (("AU26", jaw), ("AU25", lips)):
        own = aus[:, _AU[name]]
        aus[:, _AU[name]] = own + speech - own * speech


def _shape_lips(aus: np.ndarray, art: Articulation, opening: np.ndarray, config: MouthConfig,
                own: np.ndarray | None = None, ff_aperture: bool = True) -> None:
    """The articulation's lip shapes on AU intensities ``[T, N_AU]`` (in place), faded in with speech:
    rounding protrudes the lips and narrows the mouth, damping the corners' pull and the press;
    f/v raise the lower lip under the upper teeth and hold the jaw nearly closed.

    ``aus`` are the emotion's AUs (the rig), or with ``own`` (the emotion's AUs, same shape) a
    learned mouth: rounding takes away what it adds to the corners beyond the emotion's own (a
    planned smile is not taken down twice; the rig's corners carry no such pull, and a trace of
    0.02 flattens the rounded lips a detector reads), and while speaking its lip-shape channels become the
    articulation's (at least the emotion's own), as the rig's are: a learned mouth blurs rounding
    into the spread vowels next to it. ``ff_aperture=False`` leaves the lip parting and jaw (AU25,
    AU26) to the caller, for an aperture that gets f/v's once elsewhere."""
    tg = art.targets
    speaking = np.clip(opening / config.pause_opening, 0.0, 1.0)  # 0 in silence: no shapes in pauses
    rounding = np.clip(np.maximum(tg[:, _T["AU18"]], tg[:, _T["AU22"]]) * speaking / 0.6, 0.0, 1.0)
    damp = 1.0 - config.rounding_damping * rounding
    for name in ("AU12L", "AU12R", "AU14L", "AU14R", "AU20", "AU23", "AU24"):
        col = _AU[name]
        if own is None:
            aus[:, col] *= damp
        else:  # only what the learned mouth adds beyond the emotion's own pull
            excess = np.maximum(aus[:, col] - own[:, col], 0.0)
            aus[:, col] -= excess * np.clip(config.learned_corner_rounding * rounding, 0.0, 1.0)
    for name in LIP_SHAPE_AUS:
        col = _AU[name]
        if own is None:
            aus[:, col] = np.maximum(aus[:, col], tg[:, _T[name]] * speaking)
        else:
            aus[:, col] = (1 - speaking) * aus[:, col] + speaking * np.maximum(own[:, col], tg[:, _T[name]])

    ff = np.clip(art.weights[:, VISEME_INDEX["FF"]] * 1.5, 0.0, 1.0) * np.clip(opening / 0.05, 0, 1)
    for name in ("AU10", "AU17"):
        aus[:, _AU[name]] = np.maximum(aus[:, _AU[name]], SHAPES["FF"][name] * ff)
    if ff_aperture:
        aus[:, _AU["AU25"]] = aus[:, _AU["AU25"]] * (1 - ff) + SHAPES["FF"]["AU25"] * ff
        aus[:, _AU["AU26"]] *= 1.0 - config.ff_jaw_damping * ff


def speech_mouth(aus: np.ndarray, opening: np.ndarray, art: Articulation | None,
                 config: MouthConfig = MouthConfig(), *, finish: bool = True) -> np.ndarray:
    """AU intensities ``[T, N_AU]`` (a new array) with speech applied to ``aus`` (the emotion's
    AUs, same shape). ``opening`` is the loudness-driven opening 0..1 per frame; without an
    articulation the mouth follows loudness alone. ``finish=False`` leaves out f/v's held jaw and lip
    parting and the bilabial closures: `follow_aperture`'s target, which `shape_lips` and
    `close_for_bilabials` finish (applied in both, they narrowed a learned mouth twice)."""
    out = np.array(aus, dtype=np.float32, copy=True)
    opening = np.asarray(opening, np.float32)
    jaw = config.jaw_gain * opening
    lips = np.clip(config.lips_gain * opening, 0.0, 1.0)
    if art is None:
        _open(out, jaw, lips)
        return np.clip(out, 0.0, 1.0)

    tg = art.targets
    speaking = np.clip(opening / config.pause_opening, 0.0, 1.0)  # 0 in silence: no shapes in pauses
    s = config.shape_share
    # Aperture: loudness scaled by how open this viseme is relative to a typical vowel.
    rel = np.clip(tg[:, _T["AU26"]] / config.typical_jaw, 0.0, 2.0)
    jaw = jaw * ((1 - s) + s * rel)
    lips = np.clip(lips * ((1 - s) + s * np.clip(tg[:, _T["AU25"]] / 0.5, 0.0, 1.6)), 0.0, 1.0)
    _open(out, jaw, lips)
    out[:, _AU["AU27"]] = np.maximum(out[:, _AU["AU27"]], tg[:, _T["AU27"]] * speaking)

    _shape_lips(out, art, opening, config, ff_aperture=finish)
    if not finish:
        return np.clip(out, 0.0, 1.0)

    # Bilabials: lips meet over any expression, and press.
    c = art.closure
    for name in ("AU25", "AU26", "AU27"):
        out[:, _AU[name]] *= 1.0 - c
    out[:, _AU["AU24"]] = np.maximum(out[:, _AU["AU24"]], config.press * c)
    return np.clip(out, 0.0, 1.0)


def shape_lips(values: np.ndarray, art: Articulation | None, opening: np.ndarray,
               emotion_aus: np.ndarray | None = None, config: MouthConfig = MouthConfig()) -> np.ndarray:
    """Motion values ``[T, N_CHANNELS]`` of a learned mouth with the lip shapes of ``art`` applied
    (in place; returned), faded in with the loudness ``opening`` [T]: while speaking, pucker,
    funnel and stretch are the articulation's (at least the emotion's own, ``emotion_aus``
    ``[T, N_AU]``, zeros when not given), so the lips protrude and round for /u/, /o/, /w/ and
    spread for /i/ as the rig's do, and the lower lip tucks under the teeth for f/v. DRAW's output
    goes through it, as through `close_for_bilabials`: on its own it rounds at a third of the
    rig's strength and carries the rounding into the spread vowels around it (benchmarks/RESULTS.md,
    "Articulation"). Rounding narrows only what DRAW adds to the corners beyond the emotion's own: a
    planned smile is not taken down twice (DRAW has learned part of the rig's narrowing)."""
    if art is None:
        return values
    cols = ch.indices(ch.AU_CHANNELS)
    aus = values[:, cols]
    own = np.zeros_like(aus) if emotion_aus is None else np.asarray(emotion_aus, np.float32)
    _shape_lips(aus, art, np.asarray(opening, np.float32), config, own=own)
    values[:, cols] = np.clip(aus, 0.0, 1.0)
    return values


def close_for_bilabials(values: np.ndarray, art: Articulation | None, config: MouthConfig = MouthConfig()) -> np.ndarray:
    """Motion values ``[T, N_CHANNELS]`` with the bilabial closures of ``art`` enforced (in
    place; returned): the lips meet and press where ``art.closure`` says so. The rig's mouth
    does this itself; DRAW's output goes through it, so a learned mouth that only nearly closes
    for /m/ still closes."""
    if art is None:
        return values
    c = np.asarray(art.closure, np.float32)[:, None]
    cols = ch.indices(("AU25", "AU26", "AU27"))
    values[:, cols] *= 1.0 - c
    press = ch.index("AU24")
    values[:, press] = np.maximum(values[:, press], config.press * c[:, 0])
    return values


def apply_speech_rules(values: np.ndarray, opening: np.ndarray, emotion_aus: np.ndarray,
                       art: Articulation | None, config: MouthConfig = MouthConfig(), *, fps: float = 25.0,
                       past_opening: np.ndarray | None = None) -> np.ndarray:
    """A learned mouth (DRAW's motion values ``[T, N_CHANNELS]``, batch or live) held to the rules
    the rig's mouth follows by itself (in place; returned): closed in pauses (`close_in_pauses`), the
    articulation's aperture (`follow_aperture`), its lip shapes (`shape_lips`) and its bilabial closures
    (`close_for_bilabials`). What stays DRAW's own: the mouth as speech fades into a pause, and every
    channel but the mouth's (expression, head, gaze, blinks). ``fps`` is the motion's frame rate; a live
    stream gives ``past_opening``, the openings of the frames before these, so a block's first frames
    tell a stop from a pause as the batch does."""
    close_in_pauses(values, opening, emotion_aus, config)
    follow_aperture(values, opening, emotion_aus, art, config, fps=fps, past_opening=past_opening)
    shape_lips(values, art, opening, emotion_aus, config)
    return close_for_bilabials(values, art, config)


def follow_aperture(values: np.ndarray, opening: np.ndarray, emotion_aus: np.ndarray, art: Articulation | None,
                    config: MouthConfig = MouthConfig(), *, fps: float = 25.0,
                    past_opening: np.ndarray | None = None) -> np.ndarray:
    """Motion values ``[T, N_CHANNELS]`` whose speech opening is held toward the articulation's aperture (in place;
    returned): ``learned_aperture_share`` of the jaw (AU26, AU27) and ``learned_lips_share`` of the lips' parting
    and press (AU25, AU24) are what `speech_mouth` makes of this loudness and viseme (narrower for /u/ and /w/,
    wider for /a/, pressed only at p/b/m, the emotion's own in a pause); the rest stays the learned mouth's, and
    so does all of it below ``learned_fade_opening`` in a pause (quiet for ``learned_min_pause_s`` or longer: a
    stop's quiet frame is not a pause, its lips close as the rig's do). On its own DRAW opens about as wide for a
    rounded vowel as for an open one, follows loudness more loosely than the rig it learned from, and keeps its
    lips a little pressed between the bilabials (benchmarks/RESULTS.md, "Articulation")."""
    if art is None:
        return values
    names = ("AU24", "AU25", "AU26", "AU27")
    shares = np.array([config.learned_lips_share, config.learned_lips_share,
                       config.learned_aperture_share, config.learned_aperture_share], np.float32)
    if not shares.any():
        return values
    cols = ch.indices(names)
    target = speech_mouth(np.asarray(emotion_aus, np.float32), opening, art, config,
                          finish=False)[:, [_AU[n] for n in names]]
    past = np.zeros(0, np.float32) if past_opening is None else np.asarray(past_opening, np.float32)
    bridged = bridge_dips(np.concatenate([past, np.asarray(opening, np.float32)]), config.learned_min_pause_s * fps)
    share = shares[None, :] * _fade_in(bridged[len(past):], config.learned_fade_opening)[:, None]
    values[:, cols] += share * (target - values[:, cols])
    return values


def close_in_pauses(values: np.ndarray, opening: np.ndarray, emotion_aus: np.ndarray,
                    config: MouthConfig = MouthConfig()) -> np.ndarray:
    """Motion values ``[T, N_CHANNELS]`` with the lips closed where speech pauses (in place; returned).

    ``opening`` [T] is `loudness_opening` of the audio, ``emotion_aus`` ``[T, N_AU]`` the plan's AU
    targets. What the opening AUs (AU25-27) add beyond the emotion's own fades out as the
    loudness opening falls below ``pause_opening``: a learned mouth left open after a word
    closes, a surprised jaw stays dropped. The rig's mouth does this itself (`speech_mouth`);
    DRAW's output goes through it, as through `close_for_bilabials`."""
    speaking = _speaking(opening, config)
    cols = ch.indices(("AU25", "AU26", "AU27"))
    own = np.asarray(emotion_aus, np.float32)[:, [_AU["AU25"], _AU["AU26"], _AU["AU27"]]]
    speech = np.maximum(values[:, cols] - own, 0.0)
    values[:, cols] = np.minimum(values[:, cols], own + speech * speaking[:, None])
    return values
