"""Every tunable of the renderer, in one flat, commented dataclass.

Lengths are in units of the face's inter-ocular distance (IOD, about 63 mm on an adult) unless a
name says ``px``; colours are RGB 0..255; gains are plain factors. `Renderer(image, face,
config=RenderConfig(...))` takes one; the defaults are what the benchmarks in
``benchmarks/RESULTS.md`` (Fidelity) were measured with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..motion.arkit import TUCK_FULL, TUCK_JAW, TUCK_NOSE


def _default_au_gain() -> dict[str, float]:
    # The rig's handles move landmarks by their FACS displacement at intensity 1, but a warp
    # moves skin without its bulges, so the same displacement reads weaker than on a real face
    # (detectors read brows at about half of what is drawn). These gains bring each requested AU
    # to the strength a viewer (and an independent detector) reads as that intensity. AU1 and AU4
    # pull the inner brows against each other in fear and sadness: raise one, raise the other. They apply
    # to the requested expression only; the portrait's own expression is undone at the rig's rate.
    return {"AU1": 2.1, "AU2": 1.6, "AU4": 3.5, "AU5": 2.6, "AU6": 2.2, "AU7": 1.6, "AU9": 3.2, "AU10": 2.6,
            "AU12L": 4.5, "AU12R": 4.5, "AU15": 2.4, "AU16": 1.4, "AU17": 1.8, "AU18": 1.6, "AU20": 1.6, "AU22": 2.2,
            "AU23": 1.5, "AU24": 1.5, "AU26": 1.2, "AU27": 1.0}


@dataclass(frozen=True)
class RenderConfig:
    """Tunables of `tbd.render.Renderer` (geometry, appearance, eyes, mouth, teeth)."""

    # ---- expression strength -------------------------------------------------------------
    au_gain: dict[str, float] = field(default_factory=_default_au_gain)
    """Factor on each requested AU's displacement (channels not listed: 1)."""

    smile_cheek_share: float = 0.6
    """A broad smile lifts the cheeks even when the detector reports no AU6: the portrait's AU6 is taken
    as at least this share of its weaker AU12 (zygomaticus major bunches the cheek as it pulls)."""

    max_drawn: float = 1.8
    """Gains saturate (tanh) toward this many times the rig's displacement at intensity 1: strong
    requests stay anatomically possible."""
    au_max_drawn: dict[str, float] = field(default_factory=lambda: {"AU12L": 2.6, "AU12R": 2.6})
    """Channels whose saturation differs from `max_drawn`. Lip corners have the widest travel on a real face:
    a broad smile pulls them up and back about twice as far as the rig's unit displacement."""

    smile_squint_share: float = 1.0
    """Of the AU6 added that way, this share is taken off the portrait's AU7 (the detector saw the same narrowing)."""
    smile_parts_lips: float = 3.0
    """A broad smile stretches the lips apart: AU25 is drawn at least this share of the weaker requested AU12
    (not while the lips are pressed shut, see `press_closes`)."""
    smile_parting_opening: float = 0.3
    """That parting fades out as the motion's own opening (AU25 + AU26) falls below this, so a smiling speaker's
    lips still meet between syllables and at p/b/m they were not pressed for (a learned mouth closes without
    pressing); 0 parts a smile's lips whatever the motion asks."""

    # ---- speech mouth shapes (issue 11) ------------------------------------------------------
    press_closes: float = 0.15
    """Lips pressed together (AU24) shut the mouth: a bilabial (p, b, m) closes over a slightly open jaw, as
    real lips do. The press's lead over the opening AUs (requested AU24 minus `press_vs_open` x the larger of
    AU25, AU26) at which the lips meet fully; it closes smoothly from 0. A pressed-lip emotion (anger: AU24 0.3)
    still lets the vowels of its speech open, since their AU25/AU26 outweigh the press."""
    press_vs_open: float = 1.0
    """How much each unit of requested AU25/AU26 counts against the press (see `press_closes`)."""
    press_max_gap: float = 0.14
    """The most gap (IOD) that pressed lips close by stretching (beyond it the jaw is simply too open)."""
    press_upper_share: float = 0.35
    """Of the gap that pressed lips close, the upper lip covers this share and the lower lip the rest."""
    tuck_full: float = TUCK_FULL
    """The lower lip tucks up under the upper incisors (f, v; FACS AU10 with AU17, ARKit mouthRollLower) in
    proportion to the smaller of the requested AU10 and AU17, completely at this much (defaults: the ARKit export's,
    `tbd.motion.arkit`, so the rig's mouthRollLower and the pixels agree)."""
    tuck_jaw: float = TUCK_JAW
    """...and less as the jaw opens: not at all at AU26 + AU27 of this much."""
    tuck_nose: float = TUCK_NOSE
    """...and not at all once the nose wrinkles (AU9) this much: an upper lip raised with the chin (AU10 + AU17)
    beside a wrinkled nose is disgust, whose lower lip is pushed up and out, not tucked under the teeth as for f, v."""
    tuck_overlap: float = 0.012
    """The tucked lower lip's inner edge sits this far above the upper incisors' edge (IOD): it is behind them."""
    tuck_reach: float = 0.06
    """The most (IOD) that the tucked lower lip's inner edge moves, up or down, to meet the incisors."""
    tuck_roll: float = 0.55
    """The tucked lower lip rolls in: this share of its red disappears behind the teeth (its outer edge rises)."""
    tuck_shadow: float = 0.45
    """Darkening of the lower lip just under the incisors' edge where they rest on it (contact shadow)..."""
    tuck_shadow_depth: float = 0.05
    """...fading out this far (IOD) below the edge."""

    # ---- appearance (wrinkles, folds, shading; see appearance.py) --------------------------
    appearance: bool = True
    """Draw the AUs' appearance changes (lines, folds, bulges) and flatten the portrait's own."""
    appearance_step: float = 0.02
    """Appearance weights are rounded to this step (invisible), so frames in a steady expression share a texture."""
    crease_depth: float = 0.22
    """How much darker the bottom of a crease is at intensity 1 (fraction of the skin's brightness)."""
    crease_width: float = 0.014
    """Half-width of a fine wrinkle (forehead, crow's feet, nose); folds are wider (x fold_width)."""
    fold_width: float = 2.6
    """A fold (nasolabial, chin) is this many times wider than a fine wrinkle."""
    glabella_width: float = 2.24
    """The vertical furrows between lowered brows (AU4) are this many times as wide as a fine wrinkle: furrows of
    bunched skin, soft-edged. (With AU1, the grief brow, that skin is stretched upward and its lines stay fine
    creases, 1.2-1.4 times as wide.)"""
    glabella_spread: float = 0.25
    """Where those furrows sit, from the midline, as a share of the gap between the inner brow ends of the lowered
    brows (`frown_pose`): the "11" between them. Laid out at rest (0.16 of the gap there, with a second pair and a
    crease across the nose's root), the brows' inward pull squeezed them into a dark slit flanked by lit ridges:
    a tick mark on smooth skin. At 0.45 they sat on the brow heads."""
    glabella_ridge: float = 0.05
    """Their lit ridge, against their depth (fine wrinkles: 0.2); a bright line beside a dark one read as ink."""
    glabella_depth: float = 0.6
    """Their depth, against a fine wrinkle's (the wider furrow darkens more skin)."""
    bulge_light: float = 0.12
    """How much brighter the top of a bulge is at intensity 1 (cheek, chin boss, brow bunching)."""
    flatten_source: float = 0.9
    """How much of the portrait's own creases and bulges is flattened where its expression is undone (0..1)."""
    flatten_sigma: float = 0.06
    """Scale of the skin's local mean colour that flattened fine wrinkles take (eyes, forehead, brows, nose)."""
    flatten_fold_sigma: float = 0.16
    """The same for the broad folds and bulges (nasolabial fold, cheek, chin)."""
    flatten_grain_sigma: float = 0.008
    """Scale (IOD, at least `min_grain_px`) of the skin's grain (pores, freckles, noise) that flattened skin keeps. Only
    what is finer than this is grain: a crease or fold is wider (`crease_width`), and kept at any share it still
    shows the portrait's own expression (a laugh's folds at 35 % read happy to FER on every emotion asked)."""
    unfolded_lid_blur: float = 0.04
    """Raised brows unfold the skin under them; it is drawn smoothed along the brows over this scale (IOD, a Gaussian's
    sigma), in proportion to the brows' rise beyond the portrait's own: stretched as it is, a thick brow's lower hairs
    and a hooded lid's fold smeared into streaks down to the eyes (`appearance._unfolded_lids`; 0: not smoothed)."""
    unfolded_lid_reach: float = 0.5
    """How far up into the brow (a share of its height) that smoothing reaches: the brow's lower hairs stretch too."""
    min_grain_px: float = 0.7
    """The grain's scale is never below this (px): finer is the image's own noise."""
    flatten_keep_grain: float = 1.0
    """How much of that grain flattened skin keeps."""
    forehead_raise: dict[str, float] = field(default_factory=lambda: {"AU1": 0.63, "AU2": 0.56})
    """The brow raise (requested intensities) whose warp the forehead's lines are laid out for: raised that far,
    they follow the brows' arch (DRAW's surprise)."""
    grief_pose: dict[str, float] = field(default_factory=lambda: {"AU1": 0.53, "AU4": 0.38})
    """The grief brow (requested intensities, DRAW's sad) whose warp the glabella's lines are laid out for when AU1
    comes with AU4."""
    frown_pose: dict[str, float] = field(default_factory=lambda: {"AU4": 0.56})
    """The lowered brow (requested intensities, DRAW's angry) whose warp the glabella's furrows are laid out for."""
    forehead_irregularity: float = 1.0
    """How far the forehead's lines stray from ruled, evenly spaced lines of even depth (0: ruled)."""
    min_crease_px: float = 0.9
    """No crease is drawn thinner than this (px): thinner lines alias into dotted strokes."""

    # ---- eyes ----------------------------------------------------------------------------
    gaze_range: tuple[float, float] = (0.2, 0.3)
    """Iris travel at |gaze| = 1: fraction of the eye's width (x) and of its opening (y)."""
    skin_follow: float = 0.3
    """How far the skin above an upper lid follows it in a blink (the lid unfolds, the brow stays)."""
    lid_skin_min_share: float = 0.25
    """The skin between a brow and its upper lid keeps at least about this share of its height however far the
    brow is drawn down (AU4 at full gain would fold it over the lid, tearing glasses frames and lashes); the
    squeeze eases in from twice this share."""
    lid_skin_reach: float = 0.6
    """How far above an upper lid (IOD) that skin is kept from folding: past the brows, whose pull reaches about
    this far."""
    lid_skin_margin: float = 0.2
    """How far beyond an eye's corners (IOD) that skin reaches: the inner end of a lowered brow stays above the
    inner corner of the eye."""
    blink_overlap: float = 0.15
    """A shut upper lid ends this share of the eye's open height below the closure line: its lashes rest over
    the lower lid, as in a real blink (lids that only touch read as half closed to a face tracker)."""
    blink_eases_tightener: float = 1.0
    """A blink's closing upper lid covers the lower lid that a tightener (AU7) raised: AU7 is drawn at
    (1 - this x AU45) of its intensity. Kept at full strength, a glaring eye (anger's AU7 0.6) shut on a lash line
    halfway up its opening, over the raised lower lid's rim: a slit that a face tracker read as half closed
    (MediaPipe's eyeBlink 0.32-0.55 on four portraits' angry blinks, 0.46-0.61 with AU7 eased)."""
    max_source_blink: float = 0.6
    """A portrait's own lid closure above this is treated as this (the eye must still be openable)."""
    closed_eye_openness: tuple[float, float] = (0.07, 0.11)
    """An eye open less than the first share of its width in the portrait (`tbd.face.measure.eye_openness`) is shut
    there: it stays so (no opening, no raised lid, no gaze), since nothing of the eyeball shows to paint one from (an
    opened shut eye was a grey oval); from the second share on it moves fully, and between partly. MediaPipe's
    landmarks measure open eyes 0.12 (a laugh's) to 0.3, shut ones 0.09 and less."""
    hidden_eye_width: tuple[float, float] = (0.42, 0.5)
    """An eye narrower in the image than the first share of the other (`tbd.face.measure.eye_widths`: the far eye of
    a face turned some 50 degrees or more, foreshortened and half behind the nose) is held as a shut one is: its lids
    and the eyeball painted between them landed on the bridge of the nose (the cameraman, MediaPipe's yaw 52 degrees:
    0.39). From the second share on it moves fully: the far eye of a face turned 10-13 degrees is 0.89-0.92 of the
    near one, and between them the share falls about 0.013 a degree, to about 0.5 at the 45 degrees beyond which
    `Talker.prepare` warns (renders of frontal portraits turned by the warp read 0.53-0.59 at 30 degrees)."""
    hidden_eye_brightness: tuple[float, float] = (0.2, 0.3)
    """An eye whose opening's brighter pixels (`portrait.eye_brightness`, over the skin's) are darker than the first
    share is hidden (dark glasses): it is held as a shut one is (no lid painted over the lens in a blink, no white
    painted on it under a raised lid); from the second share on it moves fully. Eyes read 0.35-1.2, dark lenses
    0.1-0.15."""
    sclera_min_px: float = 0.3
    """Least height (px) that a raised upper lid (AU5) uncovers before the eyeball is painted there."""
    raised_lid_cover: float = 0.04
    """How far below where a raised lid was the uncovered eyeball is painted (IOD, at the most raised column): the
    old lash line, which the warp stretches up behind the lid, goes."""
    raised_lid_shadow: float = 0.05
    """Depth (IOD) of the shadow that a raised lid casts on the eyeball just below its edge."""
    raised_lid_fade: float = 0.35
    """The eyeball a raised lid uncovers fades into the photo's own over this lowest share of its height, its white
    turning to the photo's white there (0: a hard lower edge, which read as a crescent laid over the eye)."""
    lid_paint_min_px: float = 0.3
    """Least lid descent (px) before the closing lid is painted over the eye."""
    lid_lift: float = 0.1
    """Where the closing lid takes its skin colour from: this far above the open lid."""
    lid_fade: float = 0.04
    """Height over which a closing lid's top edge fades in over the open lid's lash line (at a full blink)."""
    lid_shade: float = 0.3
    """A closing lid is a dome over the eyeball: this much darker at its lashes than at its top (a flatter lid reads
    as half open to a face tracker)."""
    lid_grain: float = 0.08
    """The closing lid keeps the texture of the skin above it, brightened or darkened by at most this share."""

    # ---- mouth -----------------------------------------------------------------------------
    level_corners: float = -0.01
    """Lip-corner height above the lips' centre in a neutral face (the canonical face's)."""
    max_corner_calibration: float = 2.6
    """Most that a portrait's own lip-corner AUs (a broad smile or frown) are undone beyond their intensity: up to this
    many times as far. Smiles and frowns asked of the portrait are drawn at the rig's rate whatever this is."""
    smile_widening: float = 0.3
    """How much wider a full smile (AU12 = 1) makes the mouth than at rest: a smiling portrait's mouth is
    narrowed to its width / (1 + this x AU12) before the requested expression is drawn."""
    smile_min_corner_lift: float = -0.05
    """A smiling portrait's mouth is narrowed only where its lip corners are no further than this below the upper
    lip's middle (IOD): a wide speaking mouth that the blendshape model reads as a smile keeps its width."""
    opening_calibration: tuple[float, float] = (0.0, 3.0)
    """Range of the per-column factor on the portrait's own opening AUs that undoes its lip gap exactly (the
    requested opening AUs keep their nominal rate)."""
    rest_line_smoothing: int = 3
    """Smoothing steps on the relaxed lips' meeting line (takes out the upturned kinks an undone smile leaves)."""
    mouth_min_gap_px: float = 0.05
    """Least inner-lip gap (px) at the centre before the mouth interior is painted."""
    open_source_gap: float = 0.03
    """A portrait whose lips part more than this counts as open-mouthed (its teeth and lip line are reused)."""
    reuse_band: tuple[float, float] = (0.015, 0.04)
    """An open portrait mouth is reused while the lips move less than the first, redrawn past first + second."""
    lip_line_width: float = 0.025
    """Half-width of the meeting line painted where the portrait's open lips close."""
    lip_line_max_gap: float = 0.02
    """Lips closer than this at the centre get the meeting line."""
    lip_line_depth: tuple[float, float] = (0.08, 0.1)
    """How much the meeting line's shadow darkens the lips mid-mouth, and how much more toward the corners, on a
    portrait photographed with closed lips: the photo's own line is in its texture, the paint only evens a seam."""
    open_lip_line_depth: tuple[float, float] = (0.25, 0.1)
    """The same on a portrait photographed open-mouthed, whose closed lips' line is all painted: the line between
    real closed lips is 0.3-0.6 of the lips' brightness at its darkest (five closed-mouthed development photos at
    512 px); 0.08 left the lips fused into one pale band."""
    teeth_shadow: float = 0.6
    """Brightness of the teeth, relative to lit, in a barely open mouth with the lips relaxed."""
    teeth_lit_gap: float = 0.22
    """An inner-lip gap this wide (or lips drawn back by AU10, AU12 or AU20 at 1) lights the teeth fully."""
    rounded_teeth_shade: float = 0.4
    """Lips pushed forward and rounded (AU18, AU22 drawn at 1) keep this much of the teeth's light away: behind
    protruded lips (o, u, w) the teeth stand back in the mouth's shadow."""

    # ---- teeth, relative to the relaxed upper lip ------------------------------------------
    upper_teeth_drop: float = 0.0
    """How far the upper incisors' edge shows below the relaxed upper lip when the portrait shows no teeth of its
    own (a portrait that does sets it). Resting display falls from about 3 mm in young adults to none in old age;
    none is the safe guess: a band of upper teeth in a speaking mouth reads as bared teeth (FER: anger)."""
    upper_teeth_arc: float = 0.035
    """How far the upper edge curves up toward the sides."""
    lower_teeth_arc: float = 0.02
    """The same for the lower incisors (their edge starts at the upper edge's line with the jaw closed)."""
    max_teeth_drop: float = 0.06
    """A relaxed upper lip rarely shows more than 4 mm of the incisors."""
    max_arch_side_scale: float = 1.6
    """The arch's halves are sized from the relaxed mouth's halves in the image (a turned face's near half is the
    wider); no half is taken as more than this many times the mean, nor less than its inverse."""

    # ---- head --------------------------------------------------------------------------------
    pivot: tuple[float, float] = (0.0, 0.7)
    """Where the head turns about, in face coordinates (between the ears, at the nose's height)."""
    pivot_depth: float = -0.6
    """The pivot's depth behind the face's outline (IOD)."""

    def gain(self, channel: str) -> float:
        return float(self.au_gain.get(channel, 1.0))

    def gains(self, channels: Sequence[str]) -> np.ndarray:
        return np.array([self.gain(name) for name in channels], np.float32)

    def ceilings(self, channels: Sequence[str]) -> np.ndarray:
        """Each channel's saturation (`au_max_drawn`, else `max_drawn`)."""
        return np.array([self.au_max_drawn.get(name, self.max_drawn) for name in channels], np.float32)

    def drawn(self, requested: np.ndarray, gains: np.ndarray, ceilings: np.ndarray) -> np.ndarray:
        """Rig weights for requested AU intensities [..., n]: slope ``gains`` at 0, saturating at ``ceilings``."""
        return (ceilings * np.tanh(requested * gains / ceilings)).astype(np.float32)

    def requested(self, drawn: np.ndarray, gains: np.ndarray, ceilings: np.ndarray) -> np.ndarray:
        """The inverse of `drawn` (intensities that draw rig weights ``drawn``, clipped to 0..1)."""
        ratio = np.clip(np.asarray(drawn, np.float64) / ceilings, 0.0, 0.999)
        return np.clip(ceilings * np.arctanh(ratio) / gains, 0.0, 1.0).astype(np.float32)
