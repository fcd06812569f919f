"""What the warp cannot show: the inside of the mouth, the line of closed lips, eyelids over closing eyes.

Each is painted per frame around its contour with antialiased edges, in colours sampled from
the portrait itself where it shows them (its teeth, its lips, its lid skin) and plausible,
lit-to-match defaults otherwise. Teeth are placed where the skull (upper) and the jaw (lower)
hold them, so the lips cover or uncover them as they move (`Teeth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..face.topology import MEDIAPIPE_REGIONS as R

CAVITY = np.array([58.0, 24.0, 26.0])
TONGUE = np.array([140.0, 66.0, 68.0])
TEETH = np.array([215.0, 207.0, 192.0])
_LUMA = np.array([0.299, 0.587, 0.114])
_LIP_SHADOW = np.array([0.8, 1.15, 1.1])  # the shadow between closed lips is darker and redder than the lips
TYPICAL_SKIN_CHROMA = 0.3  # (max - min) / luma of skin in colour photos; less reads as a paler, greyer photo
TEETH_SHADOW_TINT = np.array([1.0, 0.82, 0.78])  # teeth in the mouth's shadow take the cavity's warm light


@dataclass(frozen=True)
class Palette:
    """Colours (RGB 0..255) and sizes (px) used for one face."""

    cavity: np.ndarray
    tongue: np.ndarray
    teeth: np.ndarray
    lashes: np.ndarray
    lash_width: float
    saturation: float = 1.0
    """The portrait's colourfulness relative to typical skin (0: black and white); painted colours follow it."""


def _sample(image: np.ndarray, points: np.ndarray, radius: int = 1) -> np.ndarray:
    """Pixels [K * (2r+1)^2, 3] around points [K, 2] (clamped to the image)."""
    h, w = image.shape[:2]
    offsets = np.arange(-radius, radius + 1)
    xs = np.clip(np.rint(points[:, 0])[:, None, None] + offsets[None, None, :], 0, w - 1).astype(int)
    ys = np.clip(np.rint(points[:, 1])[:, None, None] + offsets[None, :, None], 0, h - 1).astype(int)
    return image[ys, xs].reshape(-1, 3).astype(np.float64)


def _inside(px: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    a, b = polygon, np.roll(polygon, -1, axis=0)
    y = px[:, 1:2]
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (crosses & (px[:, 0:1] < x_at)).sum(axis=1) % 2 == 1


def _signed_distance(px: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance of points [P, 2] to a closed polygon [K, 2]: positive inside, negative outside."""
    a = polygon
    ab = np.roll(polygon, -1, axis=0) - a
    ap = px[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    dist = np.sqrt(((ap - t[..., None] * ab[None]) ** 2).sum(-1)).min(axis=1)
    return np.where(_inside(px, polygon), dist, -dist)


def make_palette(image: np.ndarray, mesh: np.ndarray, interocular: float, v_axis: np.ndarray) -> Palette:
    """Colours for one portrait (``mesh`` [478, 2] px in MediaPipe order)."""
    skin = _sample(image, mesh[[50, 280, 101, 330, 151, 9]], radius=2)
    light = float(np.clip(np.median(skin @ _LUMA) / 160.0, 0.5, 1.3))
    chroma = (skin.max(axis=1) - skin.min(axis=1)) / np.maximum(skin @ _LUMA, 1.0)
    saturation = float(np.clip(np.median(chroma) / TYPICAL_SKIN_CHROMA, 0.0, 1.0))
    teeth, cavity = TEETH * min(light, 240.0 / TEETH.max()), CAVITY * light  # bright teeth keep their ivory
    # The portrait's own mouth, if open, shows its teeth (bright) and cavity (dark).
    upper, lower = mesh[list(R.lips_inner_upper)], mesh[list(R.lips_inner_lower)]
    gap = float(np.median((lower - upper)[2:-2] @ v_axis))
    if gap > 0.04 * interocular:
        x0, y0 = np.floor(np.minimum(upper.min(0), lower.min(0))).astype(int)
        x1, y1 = np.ceil(np.maximum(upper.max(0), lower.max(0))).astype(int)
        ys, xs = np.mgrid[max(y0, 0):min(y1, image.shape[0] - 1) + 1, max(x0, 0):min(x1, image.shape[1] - 1) + 1]
        px = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        inner = image[ys.ravel(), xs.ravel()][_inside(px, np.concatenate([upper, lower[-2:0:-1]]))].astype(np.float64)
        if len(inner) >= 12:
            luma = inner @ _LUMA
            spread = inner.max(axis=1) - inner.min(axis=1)
            bright = inner[(luma >= np.percentile(luma, 75)) & (spread < 0.35 * np.maximum(luma, 1))]
            if len(bright) >= 3 and np.median(bright @ _LUMA) > 110:
                teeth = np.median(bright, axis=0)
            dark = inner[luma <= np.percentile(luma, 20)]
            if np.median(dark @ _LUMA) < 80:
                cavity = np.median(dark, axis=0)
    lash_points = np.concatenate([mesh[list(R.eye(s)[0][2:-2])] for s in ("right", "left")])
    lash_pixels = _sample(image, lash_points)
    lashes = np.median(lash_pixels[np.argsort(lash_pixels @ _LUMA)[: max(len(lash_pixels) // 4, 1)]], axis=0)
    def matched(colour: np.ndarray) -> np.ndarray:  # the portrait's saturation: a grey photo gets a grey mouth
        grey = float(colour @ _LUMA)
        return grey + saturation * (colour - grey)

    return Palette(cavity=matched(cavity), tongue=matched(TONGUE * light), teeth=matched(teeth), lashes=lashes,
                   lash_width=max(0.045 * interocular, 0.8), saturation=saturation)


def _roi(frame: np.ndarray, polygon: np.ndarray):
    h, w = frame.shape[:2]
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x1 <= x0 or y1 <= y0:
        return None
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
    return (slice(y0, y1 + 1), slice(x0, x1 + 1)), np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)


def _between(px: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel: the top and bottom contour heights at its x, and its place across (-1..1)."""
    o = np.argsort(top[:, 0])
    y_top = np.interp(px[:, 0], top[o, 0], top[o, 1])
    o = np.argsort(bottom[:, 0])
    y_bottom = np.interp(px[:, 0], bottom[o, 0], bottom[o, 1])
    left, right = float(top[0, 0]), float(top[-1, 0])
    across = (px[:, 0] - (left + right) / 2) / max(abs(right - left) / 2, 1.0)
    return y_top, y_bottom, across


def _band_alpha(px: np.ndarray, top: np.ndarray, bottom: np.ndarray, left: float, right: float) -> np.ndarray:
    """Antialiased coverage of the region between two curves (heights ``top``/``bottom`` at each pixel's x)."""
    alpha = _unit(px[:, 1] - top + 0.5) * _unit(bottom - px[:, 1] + 0.5)
    return alpha * _unit(px[:, 0] - left + 0.5) * _unit(right - px[:, 0] + 0.5)


def _blend(frame: np.ndarray, box, colour: np.ndarray, alpha: np.ndarray) -> None:
    region = frame[box].reshape(-1, 3).astype(np.float32)
    out = region + alpha[:, None].astype(np.float32) * (colour.astype(np.float32) - region)
    frame[box] = np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(frame[box].shape)


@dataclass(frozen=True)
class Teeth:
    """Where the teeth are in one frame (px): the biting edges of the upper (skull) and lower (jaw) incisors.

    ``upper_edge``/``lower_edge`` [K, 2] run across the mouth; ``centre`` is the point between
    the upper central incisors' edges, ``across`` the unit vector along the teeth, ``iod`` the
    face's size unit in px (tooth widths are in IOD units).
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


@dataclass(frozen=True)
class SourceTeeth:
    """The portrait's own visible teeth: colours and how tooth-like each pixel is, in a box of the portrait."""

    origin: np.ndarray  # (x, y) px of the box's first pixel
    colours: np.ndarray  # float32 [h, w, 3]
    weight: np.ndarray  # float32 [h, w], 0 (not a tooth) .. 1

    def sample(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(colours [N, 3], weights [N]) at points [N, 2] px (nearest pixel; weight 0 outside the box)."""
        h, w = self.weight.shape
        x = np.rint(points[:, 0] - self.origin[0]).astype(np.int64)
        y = np.rint(points[:, 1] - self.origin[1]).astype(np.int64)
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        x, y = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
        return self.colours[y, x], self.weight[y, x] * inside


def find_source_teeth(image: np.ndarray, upper: np.ndarray, lower: np.ndarray, teeth: np.ndarray) -> SourceTeeth | None:
    """The teeth the portrait shows between its inner-lip contours [K, 2] (None when it shows none).

    A pixel counts as tooth as far as it is inside the opening, bright (near the ``teeth`` colour's
    brightness) and of little colour (lips, gums and the cavity are red or dark).
    """
    polygon = np.concatenate([upper, lower[-2:0:-1]]).astype(np.float64)
    roi = _roi(image, polygon)
    if roi is None:
        return None
    box, px = roi
    top, bottom, _ = _between(px, upper, lower)
    inside = _band_alpha(px, top, bottom, float(polygon[:, 0].min()), float(polygon[:, 0].max()))
    colours = image[box].reshape(-1, 3).astype(np.float32)
    luma = colours @ _LUMA.astype(np.float32)
    chroma = colours.max(axis=1) - colours.min(axis=1)
    bright = float(teeth @ _LUMA)
    weight = inside * np.clip((luma - 0.55 * bright) / (0.2 * bright), 0.0, 1.0) \
        * np.clip(1.0 - (chroma / np.maximum(luma, 1.0) - 0.3) / 0.15, 0.0, 1.0)
    if weight.sum() < 12:
        return None
    h, w = image[box].shape[:2]
    return SourceTeeth(np.array([box[1].start, box[0].start], np.float64), colours.reshape(h, w, 3),
                       weight.reshape(h, w).astype(np.float32))


# Tooth boundaries as seen from the front, |u| from the midline (IOD units): central and lateral
# incisors, canines, first premolars (an adult's upper central incisor is about 8.5 mm wide,
# an IOD about 63 mm; the arch turns away from the viewer, so the teeth look narrower toward the sides).
UPPER_TOOTH_EDGES = np.array([0.0, 0.135, 0.235, 0.32, 0.385])
LOWER_TOOTH_EDGES = np.array([0.0, 0.085, 0.165, 0.245, 0.315])
TEETH_HALF_WIDTH = 0.42  # beyond this the back teeth are lost in the shadow of the cheeks


def _edge_height(px: np.ndarray, edge: np.ndarray) -> np.ndarray:
    order = np.argsort(edge[:, 0])
    return np.interp(px[:, 0], edge[order, 0], edge[order, 1])


def _gaps_between_teeth(u: np.ndarray, edges: np.ndarray, iod: float, darkness: float = 0.12) -> np.ndarray:
    """1 on a tooth, darker on the thin gaps between neighbouring teeth."""
    distance = np.abs(np.abs(u)[:, None] - edges[None]).min(axis=1) * iod
    return 1.0 - darkness * np.exp(-0.5 * (distance / max(0.006 * iod, 0.4)) ** 2)


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
    polygon = np.concatenate([upper, lower[-2:0:-1]]).astype(np.float64)
    roi = _roi(frame, polygon)
    if roi is None:
        return
    _, px = roi
    top, bottom, _ = _between(px, upper, lower)
    alpha = _band_alpha(px, top, bottom, float(polygon[:, 0].min()), float(polygon[:, 0].max())) * opacity
    inside = alpha > 0
    if not inside.any():
        return
    px, top, bottom, alpha = px[inside], top[inside], bottom[inside], alpha[inside]
    iod = teeth.iod
    gap = np.maximum(bottom - top, 1e-3)
    down = _unit((px[:, 1] - top) / gap)
    u = ((px - teeth.centre) @ teeth.across) / iod
    sideways = _unit(np.abs(u) / TEETH_HALF_WIDTH)
    colour = palette.cavity[None] * ((0.5 + 0.5 * down) * (1.0 - 0.5 * sideways ** 2))[:, None]
    tongue = _unit((down - 0.45) / 0.35) * _unit(1.0 - (u / 0.32) ** 2) * _unit((gap / iod - 0.1) / 0.1)
    colour += (0.7 * tongue)[:, None] * (palette.tongue * (0.75 + 0.25 * down)[:, None] - colour)
    # Teeth: lit in front, greyer toward the back of the arch, in the shadow of the lip just over them.
    present = 1.0 - _smooth((np.abs(u) - TEETH_HALF_WIDTH) / 0.08)
    lateral = 1.0 - 0.45 * _smooth((np.abs(u) - 0.12) / 0.3)
    shade_lip = iod * 0.035
    lower_cover = _unit(px[:, 1] - _edge_height(px, teeth.lower_edge) + 0.5) * present
    if lower_cover.any():
        lip_shadow = (0.7 + 0.3 * _unit((bottom - px[:, 1]) / shade_lip)) \
            * _gaps_between_teeth(u, LOWER_TOOTH_EDGES, iod, 0.08)
        lower_colour = palette.teeth[None] * (0.62 * lateral * lip_shadow)[:, None]  # in the upper teeth's shadow
        if source is not None:  # the portrait's own teeth are lit already: only the lip's shadow is added
            own, weight = source.sample(px - teeth.jaw_shift)
            lower_colour += weight[:, None] * (own * lip_shadow[:, None] - lower_colour)
        colour += lower_cover[:, None] * (_in_shadow(lower_colour, light, palette) - colour)
    upper_cover = _unit(_edge_height(px, teeth.upper_edge) - px[:, 1] + 0.5) * present
    if upper_cover.any():
        lip_shadow = 0.68 + 0.32 * _unit((px[:, 1] - top) / shade_lip)
        gaps = _gaps_between_teeth(u, UPPER_TOOTH_EDGES, iod)
        upper_colour = palette.teeth[None] * (lateral * lip_shadow * gaps)[:, None]
        if source is not None:
            own, weight = source.sample(px - teeth.skull_shift)
            upper_colour += weight[:, None] * (own * lip_shadow[:, None] - upper_colour)
        colour += upper_cover[:, None] * (_in_shadow(upper_colour, light, palette) - colour)
    _blend_at(frame, px, colour, alpha)


def _in_shadow(colour: np.ndarray, light: float, palette: Palette) -> np.ndarray:
    """Teeth colours [N, 3] dimmed to ``light`` (0..1), warmer as they darken (in the portrait's saturation)."""
    tint = 1.0 + palette.saturation * (TEETH_SHADOW_TINT - 1.0)
    return colour * light * (1.0 - (1.0 - light) * (1.0 - tint))


def draw_eyelid(frame: np.ndarray, lid_open: np.ndarray, lid_now: np.ndarray, lift: np.ndarray, palette: Palette,
                cover: float = 1.0) -> None:
    """Paint the upper lid over the part of the eye it now covers: from its open contour down to its current one.

    The lid takes its colour, column by column, from the skin above it in the same frame
    (``lift``: px vector from the lid to that skin), so it matches the lighting. Its top edge
    fades in over ``cover`` px above the open contour, hiding the open lid's own lash line.
    """
    polygon = np.concatenate([lid_open - [0.0, cover], lid_now[-2:0:-1]]).astype(np.float64)
    roi = _roi(frame, polygon)
    if roi is None:
        return
    box, px = roi
    top, bottom, _ = _between(px, lid_open, lid_now)
    alpha = _band_alpha(px, top, bottom, float(polygon[:, 0].min()), float(polygon[:, 0].max()))
    alpha = np.maximum(alpha, _band_alpha(px, top - cover, top + 0.5, float(polygon[:, 0].min()),
                                          float(polygon[:, 0].max())) * np.clip((px[:, 1] - top + cover) / cover, 0, 1))
    if not alpha.any():
        return
    skin = _lid_skin(frame, lid_open, lift)
    order = np.argsort(lid_open[:, 0])
    colour = np.stack([np.interp(px[:, 0], lid_open[order, 0], skin[order, c]) for c in range(3)], axis=1)
    depth = np.clip((px[:, 1] - top) / np.maximum(bottom - top, 1e-3), 0.0, 1.0)
    # The closed lid is a dome: lit at its top, a little darker toward the lashes; a soft crease
    # remains where the open lid's edge was.
    crease = 0.1 * np.exp(-0.5 * ((px[:, 1] - top) / max(cover, 1.0)) ** 2)
    colour *= (1.0 - 0.16 * depth ** 1.5 - crease)[:, None]
    lash = np.clip(1.0 - (bottom - px[:, 1]) / palette.lash_width, 0.0, 1.0) * 0.9
    colour += lash[:, None] * (palette.lashes - colour)
    _blend(frame, box, colour, alpha)


def _lid_skin(frame: np.ndarray, lid: np.ndarray, lift: np.ndarray) -> np.ndarray:
    """The lid skin's colour above each lid point [K, 2]: from samples at several heights up to ``lift``
    (px vector), leaving out the darkest (lashes, a glasses frame, the brow's shadow)."""
    heights = (0.35, 0.55, 0.75, 1.0)
    samples = np.stack([_sample(frame, lid + t * lift).reshape(len(lid), -1, 3).mean(axis=1) for t in heights], 1)
    luma = samples @ _LUMA  # [K, heights]
    keep = luma >= np.median(luma, axis=1, keepdims=True)
    skin = (samples * keep[..., None]).sum(axis=1) / keep.sum(axis=1, keepdims=True)
    # Columns whose samples all hit something dark take the lid's typical (median) colour.
    typical = np.median(skin, axis=0)
    dark = (skin @ _LUMA) < 0.6 * float(typical @ _LUMA)
    skin[dark] = typical
    return skin


def clean_lip_line(image: np.ndarray, mesh: np.ndarray, interocular: float) -> np.ndarray:
    """A copy of the portrait with cavity and teeth pixels along the inner-lip contour filled with lip colour.

    A smile's dark corners and teeth often reach a little past the landmarks; when the lips
    close, those pixels would stay as specks along the lip line. They are filled by diffusion from
    their lighter neighbours (a few pixels per face, so the portrait itself barely changes): just
    outside the contour, and around the mouth's corners, where the lips' triangles meet at a
    point and sample the texture on both sides of it.
    """
    out = image.copy()
    upper, lower = mesh[list(R.lips_inner_upper)], mesh[list(R.lips_inner_lower)]
    polygon = np.concatenate([upper, lower[-2:0:-1]]).astype(np.float64)
    band = max(0.06 * interocular, 1.5)
    roi = _roi(out, np.concatenate([polygon - band, polygon + band]))
    if roi is None:
        return out
    box, px = roi
    patch = out[box].astype(np.float64)
    shape = patch.shape[:2]
    distance = _signed_distance(px, polygon).reshape(shape)
    lips = np.concatenate([mesh[list(R.lips_outer_lower[2:-2])], mesh[list(R.lips_outer_upper[2:-2])]])
    lip_luma = float(np.median(_sample(image, (lips + np.concatenate([lower[2:-2], upper[2:-2]])) / 2) @ _LUMA))
    # Outside the opening, and its outermost pixel row (sampled bilinearly at the contour): pixels
    # much darker than the lips (the cavity) or pale and grey (teeth) do not belong to the lips.
    luma = patch @ _LUMA
    grey = (patch.max(axis=2) - patch.min(axis=2)) < 0.22 * np.maximum(luma, 1.0)
    corners = polygon[[0, len(upper) - 1]]
    near_corner = (np.hypot(*(px[:, None] - corners[None]).transpose(2, 0, 1)).min(axis=1) < 1.5 * band).reshape(shape)
    foreign = (luma < 0.8 * lip_luma) | (grey & (luma > 1.05 * lip_luma))
    mask = ((distance < 1.0) | near_corner) & (distance > -band) & foreign
    if not mask.any():
        return out
    known = ~foreign  # only lip-like pixels feed the fill
    for _ in range(int(np.ceil(2 * band)) + 4):
        padded = np.pad(patch * known[..., None], ((1, 1), (1, 1), (0, 0)))
        weight = np.pad(known.astype(np.float64), 1)
        total = sum(padded[1 + dy:shape[0] + 1 + dy, 1 + dx:shape[1] + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        count = sum(weight[1 + dy:shape[0] + 1 + dy, 1 + dx:shape[1] + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        fill = mask & ~known & (count > 0)
        patch[fill] = total[fill] / count[fill, None]
        known = known | fill
    out[box] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)
    return out


def draw_lip_line(frame: np.ndarray, upper: np.ndarray, lower: np.ndarray, corners: np.ndarray, strength: np.ndarray,
                  width: float, saturation: float = 1.0) -> None:
    """Paint closed lips' meeting line into ``frame`` (in place) where the inner-lip contours [K, 2] touch.

    Where a portrait's open mouth is warped shut, its teeth and cavity leave a seam of dark or
    pale pixels along the lip line (slivers thinner than a pixel, and the dark mouth corners).
    Within ``width`` px of the line, extended to the outer lip ``corners`` [2, 2], the lips' own
    colours (taken just above and below the band in this frame) are blended in, with the thin
    soft shadow that real closed lips show between them. ``strength`` [K] (0..1) per contour
    column says how much to paint.
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
    roi = _roi(frame, np.concatenate([span - width - 1.0, span + width + 1.0]))
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
    inside = (dist < 1.5 * width) & (px[:, 0] >= line[0, 0] - 0.5) & (px[:, 0] <= line[-1, 0] + 0.5)
    if not inside.any():
        return
    px, k, along, offset, dist, place = (a[inside] for a in (px, k, along, offset, dist, place))
    alpha = ((1 - along) * amount_at[k] + along * amount_at[k + 1]) * _smooth(1.5 - dist / width)
    above = _sample(frame, line - [0.0, width + 1.5], radius=0)
    below = _sample(frame, line + [0.0, width + 1.5], radius=0)
    side = _unit(0.5 + offset / (2 * width))[:, None]
    w0, w1 = (1 - along)[:, None], along[:, None]
    colour = (w0 * above[k] + w1 * above[k + 1]) * (1 - side) + (w0 * below[k] + w1 * below[k + 1]) * side
    mid = (len(line) - 1) / 2
    across = np.abs(place - mid) / mid
    taper = _unit(2.0 * np.minimum(place, len(line) - 1 - place))  # the shadow fades out at the outer corners
    shadow = taper * (0.08 + 0.1 * across ** 2) * np.exp(-0.5 * (dist / max(0.3 * width, 0.5)) ** 2)
    tint = 1.0 + saturation * (_LIP_SHADOW - 1.0)  # a black-and-white photo's shadow stays grey
    _blend_at(frame, px, colour * (1.0 - shadow[:, None] * tint), alpha)


def _unit(x: np.ndarray) -> np.ndarray:
    """x clipped to 0..1 (cheaper than np.clip on small arrays)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def _blend_at(frame: np.ndarray, px: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``colour`` [N, 3] over the pixels at integer positions ``px`` [N, 2] with ``alpha`` [N]."""
    xs, ys = px[:, 0].astype(np.int64), px[:, 1].astype(np.int64)
    region = frame[ys, xs].astype(np.float32)
    out = region + alpha[:, None].astype(np.float32) * (colour.astype(np.float32) - region)
    frame[ys, xs] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = _unit(x)
    return x * x * (3.0 - 2.0 * x)
