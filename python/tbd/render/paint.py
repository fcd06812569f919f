"""Per-frame painting of what the warp cannot show: the inside of the mouth, the line of closed lips,
eyelids over closing eyes.

Each is painted around its contour with antialiased edges, in the colours of the portrait's
`Palette`. Teeth are placed where the skull (upper) and the jaw (lower) hold them, so the lips
cover or uncover them as they move (`Teeth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter

from .pixels import LUMA, band, band_alpha, between, blend, blend_at, pixel_box, sample, smooth, through, unit
from .portrait import SHARP_EDGE, Palette, SourceTeeth


_LIP_SHADOW = np.array([0.8, 1.15, 1.1])  # the shadow between closed lips is darker and redder than the lips
TEETH_SHADOW_TINT = np.array([1.0, 0.74, 0.62])  # teeth in the mouth's shadow take the cavity's warm light
TEETH_SHADOW_DEPTH = 0.5  # how bright fully shadowed teeth are, relative to lit ones
_GRAIN_EDGE_PX = 2  # an edge's soft ramp beside what is not skin, left out of a lid's grain too


@dataclass(frozen=True)
class Teeth:
    """Where the teeth are in one frame (px): the biting edges of the upper (skull) and lower (jaw) incisors.

    ``upper_edge``/``lower_edge`` [K, 2] run across the mouth; ``centre`` is the point between
    the upper central incisors' edges, ``across`` the unit vector along the teeth, ``iod`` the
    face's size unit in px (tooth widths are in IOD units), ``foreshortening`` how much narrower a turned
    face's teeth look (`FaceFrame.across`), ``side_scale`` how much wider than the mean each half of the arch
    looks in the image (the half toward the viewer of a turned face is the wider; (for -u, for +u)).
    """

    upper_edge: np.ndarray
    lower_edge: np.ndarray
    centre: np.ndarray
    across: np.ndarray
    iod: float
    skull_shift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """How far the upper teeth moved from their place in the portrait (px): the head's turn."""
    jaw_shift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """How far the lower teeth moved from their place in the portrait (px): the turn and the jaw."""
    foreshortening: float = 1.0
    side_scale: tuple[float, float] = (1.0, 1.0)


def arch_side_scale(line: np.ndarray, limit: float) -> tuple[float, float]:
    """`Teeth.side_scale` from the relaxed mouth ``line`` [K, 2] (face units, corner to corner): how much wider than
    the mean each half looks, (the half toward -u, toward +u), within 1/``limit``..``limit``. A face turned further
    than its frame's mean foreshortening shows one half wider; a folded mesh (a profile) keeps one width."""
    middle = len(line) // 2
    halves = np.array([line[middle, 0] - line[0, 0], line[-1, 0] - line[middle, 0]], np.float64)
    if halves.min() <= 0.1 * halves.max():
        return 1.0, 1.0
    scale = np.clip(halves / halves.mean(), 1.0 / limit, limit)
    return float(scale[0]), float(scale[1])


# Tooth boundaries as seen from the front, |u| from the midline (IOD units): central and lateral
# incisors, canines, first premolars (an adult's upper central incisor is about 8.5 mm wide,
# an IOD about 63 mm; the arch turns away from the viewer, so the teeth look narrower toward the sides).
UPPER_TOOTH_EDGES = np.array([0.0, 0.135, 0.235, 0.32, 0.385])
LOWER_TOOTH_EDGES = np.array([0.0, 0.085, 0.165, 0.245, 0.315])
TEETH_HALF_WIDTH = 0.42  # beyond this the back teeth are lost in the shadow of the cheeks


def _edge_height(px: np.ndarray, edge: np.ndarray) -> np.ndarray:
    order = np.argsort(edge[:, 0])
    return np.interp(px[:, 0], edge[order, 0], edge[order, 1])


def _gaps_between_teeth(u: np.ndarray, edges: np.ndarray, width_px: np.ndarray, darkness: float = 0.25,
                        at_edge: np.ndarray | float = 0.0) -> np.ndarray:
    """1 on a tooth, darker on the thin gaps between neighbouring teeth. ``at_edge`` (0..1, 1 at the biting
    edge): the gaps open into small notches there, where the teeth's rounded corners leave the cavity showing.
    ``width_px``: px per IOD across the mouth, per pixel."""
    distance = np.abs(np.abs(u)[:, None] - edges[None]).min(axis=1) * width_px
    width = np.maximum(0.006 * width_px, 0.4) * (1.0 + 1.5 * np.asarray(at_edge))
    return 1.0 - darkness * (1.0 + np.asarray(at_edge)) / 2.0 * np.exp(-0.5 * (distance / width) ** 2)


def draw_mouth(frame: np.ndarray, upper: np.ndarray, lower: np.ndarray, palette: Palette, teeth: Teeth,
               opacity: float = 1.0, source: SourceTeeth | None = None, light: float = 1.0) -> None:
    """Paint the mouth interior into ``frame`` (uint8 [H, W, 3], in place) between the inner-lip contours [K, 2].

    The upper teeth show from the upper lip down to their biting edge, the lower teeth from
    their edge down to the lower lip (``teeth``: the edges stay with the skull and the jaw, so a
    lip that rises shows more teeth and a lip pressed down hides them); the rest is the dark
    cavity, with the tongue low in a wide-open mouth. Teeth and cavity darken toward the corners.
    Where the portrait shows its own teeth (``source``), they are used, taken from where the
    skull and the jaw held them in the portrait. ``light`` (0..1) scales the teeth's brightness:
    in a narrow opening they stand in the lips' shadow.
    """
    if opacity <= 0.0:
        return
    # The lips' inner edges are curves, not the mesh's chords, and as soft as the photo's edges: a crisp opening on an
    # enlarged photo read as a shape drawn over it.
    opening = band(frame, through(upper), through(lower), edge_ramp(palette.edge_softness))
    if opening is None:
        return
    _, px, top, bottom, _, alpha = opening
    alpha = alpha * opacity
    inside = alpha > 0
    if not inside.any():
        return
    px, top, bottom, alpha = px[inside], top[inside], bottom[inside], alpha[inside]
    iod = teeth.iod
    gap = np.maximum(bottom - top, 1e-3)
    down = unit((px[:, 1] - top) / gap)
    along = (px - teeth.centre) @ teeth.across
    width_px = teeth.iod * teeth.foreshortening * np.where(along < 0, *teeth.side_scale)
    u = along / width_px
    sideways = unit(np.abs(u) / TEETH_HALF_WIDTH)
    colour = palette.cavity[None] * ((0.5 + 0.5 * down) * (1.0 - 0.5 * sideways ** 2))[:, None]
    tongue = unit((down - 0.45) / 0.35) * unit(1.0 - (u / 0.32) ** 2) * unit((gap / iod - 0.1) / 0.1)
    colour += (0.7 * tongue)[:, None] * (palette.tongue * (0.75 + 0.25 * down)[:, None] - colour)
    # Teeth: lit in front, greyer toward the back of the arch, in the shadow of the lip just over them.
    present = 1.0 - smooth((np.abs(u) - TEETH_HALF_WIDTH) / 0.08)
    lateral = 1.0 - 0.45 * smooth((np.abs(u) - 0.12) / 0.3)
    shade_lip = iod * 0.035
    lower_cover = unit(px[:, 1] - _edge_height(px, teeth.lower_edge) + 0.5) * present
    if lower_cover.any():
        lip_shadow = (0.7 + 0.3 * unit((bottom - px[:, 1]) / shade_lip)) \
            * _gaps_between_teeth(u, LOWER_TOOTH_EDGES, width_px, 0.15)
        lower_colour = _shaded(palette.teeth[None], 0.62 * lateral * lip_shadow, palette)  # under the upper teeth
        if source is not None:  # the portrait's own teeth are lit already: only the lip's shadow is added
            own, weight = source.sample(px - teeth.jaw_shift)
            lower_colour += weight[:, None] * (_shaded(own, lip_shadow, palette) - lower_colour)
        colour += lower_cover[:, None] * (_in_shadow(lower_colour, light, palette) - colour)
    upper_cover = unit(_edge_height(px, teeth.upper_edge) - px[:, 1] + 0.5) * present
    if upper_cover.any():
        lip_shadow = 0.68 + 0.32 * unit((px[:, 1] - top) / shade_lip)
        at_edge = unit(1.0 - (_edge_height(px, teeth.upper_edge) - px[:, 1]) / (0.025 * iod))
        gaps = _gaps_between_teeth(u, UPPER_TOOTH_EDGES, width_px, at_edge=at_edge)
        upper_colour = _shaded(palette.teeth[None], lateral * lip_shadow * gaps, palette)
        if source is not None:
            own, weight = source.sample(px - teeth.skull_shift)
            upper_colour += weight[:, None] * (_shaded(own, lip_shadow, palette) - upper_colour)
        colour += upper_cover[:, None] * (_in_shadow(upper_colour, light, palette) - colour)
    blend_at(frame, px, colour, alpha)


def edge_ramp(softness: float) -> float:
    """The width (px) over which a painted edge rises to match a photo whose edges are ``softness`` soft
    (`Palette.edge_softness`): a pixel's antialiasing, plus a Gaussian edge's width (sqrt(2 pi) sigma) for each px of
    softness beyond a sharp photo's."""
    return 1.0 + np.sqrt(2.0 * np.pi) * max(softness - SHARP_EDGE, 0.0)


def _shaded(colour: np.ndarray, brightness: np.ndarray, palette: Palette) -> np.ndarray:
    """Teeth colours [N, 3] (or [1, 3]) at ``brightness`` [N] of their lit value, warmer as they darken: the light
    that reaches the back of the arch or under a lip comes off the lips and the cavity. A neutral grey-brown
    there read as a teal strip beside warm skin; a grey portrait stays grey (``palette.saturation`` 0)."""
    darkening = np.clip(2.0 * (1.0 - brightness), 0.0, 1.0)[:, None]  # the full tint at half the light
    return colour * brightness[:, None] * (1.0 + palette.saturation * darkening * (TEETH_SHADOW_TINT - 1.0))


def _in_shadow(colour: np.ndarray, light: float, palette: Palette) -> np.ndarray:
    """Teeth colours [N, 3] dimmed to ``light`` (0..1), warmer as they darken (in the portrait's saturation)."""
    tint = 1.0 + palette.saturation * (TEETH_SHADOW_TINT - 1.0)
    return light * colour + (1.0 - light) * TEETH_SHADOW_DEPTH * palette.teeth * tint


def draw_uncovered_eye(frame: np.ndarray, lid_now: np.ndarray, bottom: np.ndarray, iris_centre: np.ndarray,
                       iris_radius: float, palette: Palette, shadow_px: float, *, fade: float) -> None:
    """Paint the eyeball that a raised upper lid (AU5) uncovers, from the lid's contour now [K, 2] down to
    ``bottom`` [K, 2] (where the lid was, plus its old lash line, which the warp stretched up behind the lid):
    the top of the iris inside its circle (``iris_centre`` [2] px, ``iris_radius`` px) and the white of the eye
    around it, both shadowed over ``shadow_px`` under the lid's edge. No lash line is drawn along the new edge: one
    read as a painted outline to the detectors (FER's fear and surprise fell).

    The band meets the photo's own eyeball below it without a seam: over its lowest ``fade`` share of its height it
    fades into the photo, and its white turns toward the white the photo shows just below it (a flat painted band
    with a hard lower edge read as a grey crescent laid over the eye at 512 px)."""
    uncovered = band(frame, lid_now, bottom)
    if uncovered is None:
        return
    region, px, top, low, across, alpha = uncovered
    if not alpha.any():
        return
    ring = np.hypot(*(px - iris_centre).T)
    in_iris = unit(iris_radius - ring + 0.5)  # antialiased circle
    limbus = smooth((ring / max(iris_radius, 1e-3) - 0.7) / 0.3)  # an iris darkens toward its rim
    iris = palette.iris[None] * (1.0 - 0.35 * limbus)[:, None]
    white = palette.sclera[None] * (1.0 - 0.25 * unit(np.abs(across)) ** 2)[:, None]  # the eyeball curves away
    depth = unit((px[:, 1] - top) / np.maximum(low - top, 1e-3))  # 0 at the lid, 1 at the band's lower edge
    photo = sample(frame, np.stack([px[:, 0], low + 1.0], axis=1), radius=0)  # the photo's eyeball below the band
    # Only where that is white: the iris, lashes or a lid's skin there would streak the band.
    whiteness = unit(((photo @ LUMA) / max(float(palette.sclera @ LUMA), 1.0) - 0.6) / 0.2)
    white += (depth ** 2 * whiteness)[:, None] * (photo - white)
    colour = in_iris[:, None] * iris + (1.0 - in_iris[:, None]) * white
    below = px[:, 1] - top
    colour *= (0.72 + 0.28 * smooth(below / max(shadow_px, 1e-3)))[:, None]
    if fade > 0.0:
        alpha = alpha * smooth((1.0 - depth) / fade)
    blend(frame, region, colour, alpha)


def draw_eyelid(frame: np.ndarray, lid_open: np.ndarray, lid_now: np.ndarray, lower_lid: np.ndarray, lift: np.ndarray,
                palette: Palette, cover: float = 1.0, shade: float = 0.3, grain: float = 0.08) -> None:
    """Paint the upper lid over the part of the eye it now covers: from its open contour down to its current one.

    The lid takes its colour, column by column, from the skin above it or below the lower lid ``lower_lid`` [K, 2]
    in the same frame (``lift``: px vector from a lid to that skin), whichever is brighter, so it matches the
    lighting without taking on the shadow of a deep-set eye, a brow or a glasses frame. Its top edge
    fades in over ``cover`` px above the open contour, hiding the open lid's own lash line. ``shade``: how much
    darker the lid is at its lashes than at its top; ``grain``: the most that the skin's texture brightens or
    darkens it.
    """
    polygon = np.concatenate([lid_open - [0.0, cover], lid_now[-2:0:-1]]).astype(np.float64)
    roi = pixel_box(frame, polygon)
    if roi is None:
        return
    box, px = roi
    top, bottom, _ = between(px, lid_open, lid_now)
    alpha = band_alpha(px, top, bottom, float(polygon[:, 0].min()), float(polygon[:, 0].max()))
    alpha = np.maximum(alpha, band_alpha(px, top - cover, top + 0.5, float(polygon[:, 0].min()),
                                          float(polygon[:, 0].max())) * np.clip((px[:, 1] - top + cover) / cover, 0, 1))
    if not alpha.any():
        return
    skin_above, skin_below = _lid_skin(frame, lid_open, lift), _lid_skin(frame, lower_lid, -lift)
    skin = np.where(((skin_below @ LUMA) > (skin_above @ LUMA))[:, None], skin_below, skin_above)
    order = np.argsort(lid_open[:, 0])
    colour = np.stack([np.interp(px[:, 0], lid_open[order, 0], skin[order, c]) for c in range(3)], axis=1)
    depth = np.clip((px[:, 1] - top) / np.maximum(bottom - top, 1e-3), 0.0, 1.0)
    # The closed lid is a dome: lit at its top, a little darker toward the lashes.
    # The lid keeps the skin's grain: the texture of the skin above it. What differs from the lid's colour by more
    # than ``grain`` (a glasses frame, the brow, lashes), with the few pixels of its edge, is no grain and fades out:
    # clipped to ``grain``, it printed a glasses frame's edge on the lid as a jagged band.
    above = sample(frame, px + lift[None], radius=0)
    texture = (above @ LUMA) / np.maximum(colour @ LUMA, 1.0) - 1.0
    shape = (box[0].stop - box[0].start, box[1].stop - box[1].start)
    foreign = binary_dilation(np.abs(texture).reshape(shape) > grain, np.ones((3, 3), bool), _GRAIN_EDGE_PX)
    texture = np.clip(texture, -grain, grain) * (1.0 - gaussian_filter(foreign.astype(np.float64), 1.0).ravel())
    colour *= (1.0 + texture - shade * depth ** 1.5)[:, None]
    lash = np.clip(1.0 - (bottom - px[:, 1]) / palette.lash_width, 0.0, 1.0) ** 0.7 * 0.95
    colour += lash[:, None] * (palette.lashes - colour)
    blend(frame, box, colour, alpha)


def _lid_skin(frame: np.ndarray, lid: np.ndarray, lift: np.ndarray) -> np.ndarray:
    """The lid skin's colour above each lid point [K, 2]: from samples at several heights up to ``lift``
    (px vector), leaving out the darkest (lashes, a glasses frame, the brow's shadow)."""
    heights = (0.35, 0.55, 0.75, 1.0)
    samples = np.stack([sample(frame, lid + t * lift).reshape(len(lid), -1, 3).mean(axis=1) for t in heights], 1)
    luma = samples @ LUMA  # [K, heights]
    keep = luma >= np.quantile(luma, 0.25, axis=1, keepdims=True)  # only the darkest sample goes
    skin = (samples * keep[..., None]).sum(axis=1) / keep.sum(axis=1, keepdims=True)
    # Columns whose samples all hit something dark take the lid's typical (median) colour.
    typical = np.median(skin, axis=0)
    dark = (skin @ LUMA) < 0.6 * float(typical @ LUMA)
    skin[dark] = typical
    return skin


def draw_lip_line(frame: np.ndarray, upper: np.ndarray, lower: np.ndarray, corners: np.ndarray, strength: np.ndarray,
                  width: float, saturation: float = 1.0, *, depth: tuple[float, float]) -> None:
    """Paint closed lips' meeting line into ``frame`` (in place) where the inner-lip contours [K, 2] touch.

    Where a portrait's open mouth is warped shut, its teeth and cavity leave a seam of dark or
    pale pixels along the lip line (slivers thinner than a pixel, and the dark mouth corners).
    Within ``width`` px of the line (fading out to twice that), extended to the outer lip ``corners`` [2, 2], the
    lips' own colours (taken just beyond the band in this frame) are blended in, with the soft shadow that real
    closed lips show between them, as broad as the seam it covers. ``strength`` [K] (0..1) per contour column says
    how much to paint; ``depth`` (mid-mouth, more toward the corners) how much the shadow darkens the lips at its middle.
    """
    if not np.any(strength > 0):
        return
    line = np.concatenate([corners[:1], (upper + lower) / 2, corners[1:]]).astype(np.float64)
    line = line[np.argsort(line[:, 0], kind="stable")]  # along the mouth, image left to right
    amount_at = np.concatenate([strength[:1], strength, strength[-1:]])
    painted = amount_at > 0
    painted[:-1] |= painted[1:].copy()
    painted[1:] |= painted[:-1].copy()  # the segments next to a painted point
    span = line[painted]
    roi = pixel_box(frame, np.concatenate([span - 2.0 * width - 1.0, span + 2.0 * width + 1.0]))
    if roi is None:
        return
    _, px = roi
    # Place along the line (0 .. K-1) and distance across it, from the line's height and slope at each x.
    place = np.interp(px[:, 0], line[:, 0], np.arange(len(line), dtype=np.float64))
    k = np.minimum(place.astype(np.int64), len(line) - 2)
    along = place - k
    step = line[k + 1] - line[k]
    offset = px[:, 1] - (line[k, 1] + along * step[:, 1])
    dist = np.abs(offset) * np.abs(step[:, 0]) / np.maximum(np.hypot(step[:, 0], step[:, 1]), 1e-9)
    # Past the outer corners the band fades out over a width: the squeezed corner of a smile leaves a speck there.
    beyond = np.maximum(line[0, 0] - px[:, 0], px[:, 0] - line[-1, 0])
    inside = (dist < 2.0 * width) & (beyond < width)
    if not inside.any():
        return
    px, k, along, offset, dist, place, beyond = (a[inside] for a in (px, k, along, offset, dist, place, beyond))
    alpha = ((1 - along) * amount_at[k] + along * amount_at[k + 1]) * smooth(2.0 - dist / width) \
        * smooth(1.0 - beyond / width)
    above = sample(frame, line - [0.0, width + 1.5], radius=0)
    below = sample(frame, line + [0.0, width + 1.5], radius=0)
    side = unit(0.5 + offset / (2 * width))[:, None]
    w0, w1 = (1 - along)[:, None], along[:, None]
    colour = (w0 * above[k] + w1 * above[k + 1]) * (1 - side) + (w0 * below[k] + w1 * below[k + 1]) * side
    mid = (len(line) - 1) / 2
    across = np.abs(place - mid) / mid
    taper = unit(2.0 * np.minimum(place, len(line) - 1 - place))  # the shadow fades out at the outer corners
    # One soft dark line, about as broad as the seam it covers (a thinner one inside a band too narrow for the seam left
    # a grey double outline around the closed lips of an undone smile).
    shadow = taper * (depth[0] + depth[1] * across ** 2) * np.exp(-0.5 * (dist / max(0.6 * width, 0.5)) ** 2)
    tint = 1.0 + saturation * (_LIP_SHADOW - 1.0)  # a black-and-white photo's shadow stays grey
    blend_at(frame, px, colour * (1.0 - shadow[:, None] * tint), alpha)


def draw_contact_shadow(frame: np.ndarray, lip: np.ndarray, depth: float, strength: float,
                        saturation: float = 1.0) -> None:
    """Darken the lower lip just under its inner contour [K, 2] (``frame`` in place), where the upper incisors
    rest on it (f, v): darkest at the contour, gone ``depth`` px below it, fading toward the mouth's corners."""
    if strength <= 0.0 or depth < 0.5:
        return
    profile = np.sin(np.linspace(0.0, np.pi, len(lip))) ** 0.5
    bottom = lip + np.stack([np.zeros(len(lip)), depth * profile], axis=1)
    found = band(frame, lip, bottom)
    if found is None:
        return
    box, px, top, low, _, alpha = found
    if not alpha.any():
        return
    t = unit((px[:, 1] - top) / np.maximum(low - top, 1e-3))
    pixels = frame[box].reshape(-1, 3).astype(np.float64)
    tint = 1.0 + saturation * (_LIP_SHADOW - 1.0)  # darker and redder, grey in a grey photo
    blend(frame, box, pixels * (1.0 - (strength * (1.0 - t) ** 2)[:, None] * tint[None]), alpha)
