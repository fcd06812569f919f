"""Per-portrait analysis, done once: the colours the mouth and lids are painted in, the portrait's own
teeth, and a copy of the portrait with a clean inner-lip line.

Colours are sampled from the portrait where it shows them (its teeth, its cavity, its lashes) and
otherwise plausible defaults lit to match and given the portrait's saturation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter, label, sobel

from ..face.topology import MEDIAPIPE_REGIONS as R
from .pixels import LUMA, band, inside, pixel_box, sample, signed_distance


CAVITY = np.array([58.0, 24.0, 26.0])
TONGUE = np.array([140.0, 66.0, 68.0])
TEETH = np.array([215.0, 207.0, 192.0])
SCLERA = np.array([222.0, 214.0, 206.0])
SCLERA_RING = 1.15  # iris radii from its centre beyond which an eye opening's pixels are its white (limbus out)
SCLERA_TO_SKIN = (0.8, 1.3)  # the white of an eye's brightness, relative to the skin's, from a shaded eye to a lit one
SCLERA_TINT = 0.25  # most that the white's channels stand off its brightness (a white, not the lids' red)
IRIS = np.array([78.0, 52.0, 38.0])  # a brown iris, when the portrait's own is too small to sample
# Where below the upper lid (iris radii) the iris's shaded top is sampled: past the lid's margin and lashes, about
# where the eyeball painted under a raised lid meets the eye below it.
IRIS_TOP_BAND = (0.4, 0.8)
CLOSED_LASH_WIDTH = 0.04  # IOD: the dark line of a shut lid's lashes (at 0.07 a thick crescent from 512 px up)
CORNER_FILL = 2.5  # how far from the mouth's corners cavity pixels are filled with lip colour (in fill bands)
TYPICAL_SKIN_BALANCE = np.array([1.18, 0.94, 0.82])  # skin's RGB over its luma in neutrally lit photos
TYPICAL_SKIN_CHROMA = 0.3  # (max - min) / luma of skin in colour photos; less reads as a paler, greyer photo
BLOWN_OUT = 245  # a pixel whose channels all reach this has lost its colour to the exposure, not to a grey photo
SHARP_EDGE = 0.5  # px: the softness (`edge_softness`) of a sharp photo's edges, from the pixel grid alone
REBLUR_SIGMA = 1.5  # px: the blur that a photo's own edge softness is measured against
MIN_COLOUR_SAMPLES = 12  # fewer skin pixels than this keep their colour: the photo's colour is read around the face
# A toned monochrome photo (sepia, cyanotype) has one hue in every pixel. Its pixels around the face stray from their
# common hue (90th percentile) by less than the first share of that hue's strength; a colour photo's, by more than
# the second (the lips, eyes and hair differ from the skin; under a strong cast too). Between: partly toned.
TONED_SPREAD = (0.22, 0.32)
MIN_TONE = 0.05  # a common hue weaker than this (max |RGB / luma - 1|) is grey: a black-and-white photo


@dataclass(frozen=True)
class Palette:
    """Colours (RGB 0..255) and sizes (px) used for one face."""

    cavity: np.ndarray
    tongue: np.ndarray
    teeth: np.ndarray
    lashes: np.ndarray
    lash_width: float
    sclera: np.ndarray = field(default_factory=lambda: SCLERA.copy())
    iris: np.ndarray = field(default_factory=lambda: IRIS.copy())
    saturation: float = 1.0
    """The portrait's colourfulness relative to typical skin (0: black and white); painted colours follow it."""
    edge_softness: float = SHARP_EDGE
    """How soft the photo's sharpest edges around the face are (`edge_softness`, a Gaussian's sigma in px)."""


def make_palette(image: np.ndarray, mesh: np.ndarray, interocular: float, v_axis: np.ndarray) -> Palette:
    """Colours for one portrait (``mesh`` [478, 2] px in MediaPipe order)."""
    skin, coloured = skin_samples(image, mesh)
    skin_luma = float(np.median(skin @ LUMA))
    light = float(np.clip(skin_luma / 160.0, 0.5, 1.3))
    saturation = _saturation(image, mesh, coloured)
    tint, toned = photo_tone(image, mesh)
    # The photo's white balance, read from its skin against typical skin: warm light makes warm teeth.
    # Not where most of the skin has a channel clipped: white skin read as a blue cast, skin with red clipped as green.
    balance = np.ones(3)
    if np.mean(skin.max(axis=1) >= BLOWN_OUT) <= 0.5:
        balance = np.clip((np.median(skin, axis=0) / max(float(np.median(skin @ LUMA)), 1.0)) / TYPICAL_SKIN_BALANCE,
                          0.8, 1.25)
    balance /= float(balance @ LUMA)
    teeth = TEETH * balance * min(light, 240.0 / (TEETH * balance).max())  # bright teeth keep their ivory
    cavity = CAVITY * light
    # The portrait's own mouth, if open, shows its teeth (bright) and cavity (dark).
    upper, lower = mesh[list(R.lips_inner_upper)], mesh[list(R.lips_inner_lower)]
    gap = float(np.median((lower - upper)[2:-2] @ v_axis))
    if gap > 0.04 * interocular:
        x0, y0 = np.floor(np.minimum(upper.min(0), lower.min(0))).astype(int)
        x1, y1 = np.ceil(np.maximum(upper.max(0), lower.max(0))).astype(int)
        ys, xs = np.mgrid[max(y0, 0):min(y1, image.shape[0] - 1) + 1, max(x0, 0):min(x1, image.shape[1] - 1) + 1]
        px = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        inner = image[ys.ravel(), xs.ravel()][inside(px, np.concatenate([upper, lower[-2:0:-1]]))].astype(np.float64)
        if len(inner) >= 12:
            luma = inner @ LUMA
            spread = inner.max(axis=1) - inner.min(axis=1)
            bright = inner[(luma >= np.percentile(luma, 75)) & (spread < 0.35 * np.maximum(luma, 1))]
            if len(bright) >= 3 and np.median(bright @ LUMA) > 110:
                teeth = np.median(bright, axis=0)
            dark = inner[luma <= np.percentile(luma, 20)]
            if np.median(dark @ LUMA) < 80:
                cavity = np.median(dark, axis=0)
    lash_points = np.concatenate([mesh[list(R.eye(s)[0][2:-2])] for s in ("right", "left")])
    lash_pixels = sample(image, lash_points)
    lashes = np.median(lash_pixels[np.argsort(lash_pixels @ LUMA)[: max(len(lash_pixels) // 4, 1)]], axis=0)
    def matched(colour: np.ndarray) -> np.ndarray:  # a grey photo gets a grey mouth, a sepia one a sepia mouth
        grey = float(colour @ LUMA)
        coloured = grey + saturation * (colour - grey)
        return np.clip(coloured + toned * (grey * tint - coloured), 0.0, 255.0)

    return Palette(cavity=matched(cavity), tongue=matched(TONGUE * light), teeth=matched(teeth), lashes=lashes,
                   lash_width=max(CLOSED_LASH_WIDTH * interocular, 0.8),
                   sclera=matched(_sclera(image, mesh, light, skin_luma)), iris=matched(_iris(image, mesh, light)),
                   saturation=saturation * (1.0 - toned), edge_softness=edge_softness(image, mesh))


def edge_softness(image: np.ndarray, mesh: np.ndarray) -> float:
    """How soft the photo's sharpest edges around the face are: the sigma (px) of the Gaussian blur that leaves a
    perfect edge as soft (about `SHARP_EDGE` for a sharp photo, 1.5-2 for one enlarged from half its size).

    Blurred again by `REBLUR_SIGMA`, a Gaussian edge of sigma s keeps r = s / hypot(s, REBLUR_SIGMA) of its steepest
    gradient; r is read off the strongest 1 % of the gradients in the face's box (lashes, irises, lips, hair).
    """
    found = pixel_box(image, mesh.astype(np.float64))
    if found is None:
        return SHARP_EDGE
    (rows, cols), _ = found
    luma = image[rows, cols].astype(np.float64) @ LUMA
    if min(luma.shape) < 8:
        return SHARP_EDGE
    steep = np.hypot(sobel(luma, 0), sobel(luma, 1))[2:-2, 2:-2]
    kept = np.hypot(*(sobel(gaussian_filter(luma, REBLUR_SIGMA), k) for k in (0, 1)))[2:-2, 2:-2]
    strongest = steep > np.percentile(steep, 99)
    if not strongest.any():
        return SHARP_EDGE
    r = min(float(np.median(kept[strongest] / np.maximum(steep[strongest], 1e-6))), 0.98)
    return max(REBLUR_SIGMA * r / np.sqrt(1.0 - r * r), SHARP_EDGE)


def photo_tone(image: np.ndarray, mesh: np.ndarray) -> tuple[np.ndarray, float]:
    """(hue [3], share 0..1): the one hue (RGB / luma) of a toned monochrome photo (sepia, cyanotype) in the pixels
    around the face, and how surely the photo is one (`TONED_SPREAD`); share 0 for a colour or grey photo. Painted
    colours take that hue: a sepia photo's open mouth was pink."""
    box = pixel_box(image, mesh.astype(np.float64))
    if box is None:
        return np.ones(3), 0.0
    pixels = image[box[0]].reshape(-1, 3).astype(np.float64)
    luma = pixels @ LUMA
    keep = (luma > 30) & (luma < 225) & (pixels.max(axis=1) < BLOWN_OUT)  # hue is noise in the dark, lost when clipped
    if keep.sum() < 50:
        return np.ones(3), 0.0
    hue = pixels[keep] / luma[keep, None]
    tint = np.median(hue, axis=0)
    strength = float(np.abs(tint - 1.0).max())
    if strength < MIN_TONE:
        return np.ones(3), 0.0
    spread = float(np.percentile(np.abs(hue - tint).max(axis=1), 90)) / strength
    share = float(np.clip((TONED_SPREAD[1] - spread) / (TONED_SPREAD[1] - TONED_SPREAD[0]), 0.0, 1.0))
    return tint, share


def skin_samples(image: np.ndarray, mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The skin's pixels [N, 3] on the cheeks and forehead, and those of them that kept their colour (an overexposed
    photo's white highlights lost it)."""
    skin = sample(image, mesh[[50, 280, 101, 330, 151, 9]], radius=2)
    return skin, skin[skin.min(axis=1) < BLOWN_OUT]


def skin_hue(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """The skin's colour over its brightness [3] (RGB / luma; ones for a grey photo): from its pixels with no channel
    clipped, or else typical skin's in the photo's saturation (skin clipped in red reads olive)."""
    skin, coloured = skin_samples(image, mesh)
    exposed = skin[skin.max(axis=1) < BLOWN_OUT]
    if len(exposed) >= MIN_COLOUR_SAMPLES:
        return np.median(exposed / np.maximum(exposed @ LUMA, 1.0)[:, None], axis=0)
    return 1.0 + _saturation(image, mesh, coloured) * (TYPICAL_SKIN_BALANCE - 1.0)


def _saturation(image: np.ndarray, mesh: np.ndarray, coloured: np.ndarray) -> float:
    """`Palette.saturation` from the skin's pixels that kept their colour [N, 3] (with the white highlights of an
    overexposed colour photo, it read as a black-and-white one: a grey mouth). Where the skin is blown out almost
    everywhere, the pixels in the face's box that kept their colour (hair, lips, eyes) tell a colour photo from a grey
    one."""
    if len(coloured) < MIN_COLOUR_SAMPLES:
        box = pixel_box(image, mesh.astype(np.float64))
        around = image[box[0]].reshape(-1, 3).astype(np.float64) if box is not None else np.zeros((0, 3))
        coloured = around[around.min(axis=1) < BLOWN_OUT]
    if len(coloured) == 0:  # a white image: nothing tells its colour
        return 1.0
    chroma = (coloured.max(axis=1) - coloured.min(axis=1)) / np.maximum(coloured @ LUMA, 1.0)
    return float(np.clip(np.median(chroma) / TYPICAL_SKIN_CHROMA, 0.0, 1.0))


def _eye_openings(image: np.ndarray, mesh: np.ndarray):
    """Per eye ("right", "left"): the centres [P, 2] and colours [P, 3] of the pixels inside its opening."""
    for side in ("right", "left"):
        upper, lower = (list(x) for x in R.eye(side))
        polygon = np.concatenate([mesh[upper], mesh[lower][::-1]]).astype(np.float64)
        box = pixel_box(image, polygon)
        if box is None:
            continue
        region, px = box
        keep = inside(px, polygon)
        yield side, px[keep], image[region].reshape(-1, 3).astype(np.float64)[keep]


def _sclera(image: np.ndarray, mesh: np.ndarray, light: float, skin_luma: float) -> np.ndarray:
    """The white of the portrait's eyes as the photo shows it: inside the eye openings, outside the irises, the greyer
    half of the pixels and of those the brighter half, kept within `SCLERA_TO_SKIN` of the skin's brightness and at
    most `SCLERA_TINT` off grey (a default, lit as the skin, where too few pixels show).

    An eye in shadow keeps a darker white (raised brows let some light in: not darker than 0.8 of the skin). The
    brightest pixels of a shadowed eye (a catchlight, a lid's glint), or a default white, painted a raised lid's band
    as a pale grey crescent over it; darker still, the band read as lid skin and FER read surprise as sadness."""
    whites = []
    for side, px, pixels in _eye_openings(image, mesh):
        centre, radius = iris_circle(mesh, side)
        whites.append(pixels[np.hypot(*(px - centre).T) > SCLERA_RING * radius])
    pixels = np.concatenate(whites) if whites else np.zeros((0, 3))
    if len(pixels) < 8:
        return SCLERA * min(light, 1.0)
    chroma = pixels.max(axis=1) - pixels.min(axis=1)
    grey = pixels[chroma <= np.median(chroma)]
    white = np.median(grey[grey @ LUMA >= np.median(grey @ LUMA)], axis=0)
    luma = max(float(white @ LUMA), 1.0)
    tint = white / luma - 1.0  # the white's hue: lids' skin and lashes at its edges redden a small eye's
    tint *= min(1.0, SCLERA_TINT / max(float(np.abs(tint).max()), 1e-6))
    return np.clip((1.0 + tint) * np.clip(luma, *(np.array(SCLERA_TO_SKIN) * skin_luma)), 0.0, 255.0)


def eye_brightness(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """How bright each eye opening's brighter pixels are [2] (the subject's right, left): their 90th percentile luma
    over the skin's median. The white of an eye makes it 0.35-1.2, even in deep shadow; dark glasses leave 0.1-0.15."""
    skin = max(float(np.median(skin_samples(image, mesh)[0] @ LUMA)), 1.0)
    brightness = np.ones(2)
    for k, (_, _, pixels) in enumerate(_eye_openings(image, mesh)):
        if len(pixels):
            brightness[k] = float(np.percentile(pixels @ LUMA, 90)) / skin
    return brightness


def iris_circle(mesh: np.ndarray, side: str) -> tuple[np.ndarray, float]:
    """MediaPipe's iris of one eye (``side`` "right" or "left") in ``mesh`` [478, 2] px: its centre [2] and radius."""
    iris = R.iris_right if side == "right" else R.iris_left
    centre = mesh[iris[0]].astype(np.float64)
    return centre, float(np.hypot(*(mesh[iris[1]] - centre)))


def _iris(image: np.ndarray, mesh: np.ndarray, light: float) -> np.ndarray:
    """The colour a raised lid uncovers the iris in: the iris's pixels just below the upper lid, in its shade
    (catchlights out); the iris between pupil and limbus where too few show there, a default lit to match where
    neither does. The iris's mean colour, lit, made the uncovered top a lighter cap on the iris below it."""
    tops, rings = [], []
    for side, px, pixels in _eye_openings(image, mesh):
        centre, radius = iris_circle(mesh, side)
        ring = np.hypot(*(px - centre).T) / max(radius, 1.0)
        lid = mesh[list(R.eye(side)[0])].astype(np.float64)
        order = np.argsort(lid[:, 0])
        below_lid = px[:, 1] - np.interp(px[:, 0], lid[order, 0], lid[order, 1])
        iris = (ring > 0.45) & (ring < 0.9)  # between the pupil and the limbus
        band = (below_lid > IRIS_TOP_BAND[0] * radius) & (below_lid < max(IRIS_TOP_BAND[1] * radius, 1.5))
        tops.append(pixels[iris & band])
        rings.append(pixels[iris])
    for colours in (tops, rings):
        pixels = np.concatenate(colours) if colours else np.zeros((0, 3))
        if len(pixels) >= 6:
            luma = pixels @ LUMA
            return np.median(pixels[luma <= np.percentile(luma, 70)], axis=0)
    return IRIS * light


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
        within = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        x, y = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
        return self.colours[y, x], self.weight[y, x] * within


def find_source_teeth(image: np.ndarray, upper: np.ndarray, lower: np.ndarray, teeth: np.ndarray) -> SourceTeeth | None:
    """The teeth the portrait shows between its inner-lip contours [K, 2] (None when it shows none).

    A pixel counts as tooth as far as it is inside the opening, bright (near the ``teeth`` colour's
    brightness) and of little colour (lips, gums and the cavity are red or dark).
    """
    opening = band(image, upper, lower)
    if opening is None:
        return None
    box, _, _, _, _, coverage = opening
    colours = image[box].reshape(-1, 3).astype(np.float32)
    luma = colours @ LUMA.astype(np.float32)
    chroma = colours.max(axis=1) - colours.min(axis=1)
    bright = float(teeth @ LUMA)
    weight = coverage * np.clip((luma - 0.55 * bright) / (0.2 * bright), 0.0, 1.0) \
        * np.clip(1.0 - (chroma / np.maximum(luma, 1.0) - 0.3) / 0.15, 0.0, 1.0)
    if weight.sum() < 12:
        return None
    h, w = image[box].shape[:2]
    return SourceTeeth(np.array([box[1].start, box[0].start], np.float64), colours.reshape(h, w, 3),
                       weight.reshape(h, w).astype(np.float32))


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
    roi = pixel_box(out, np.concatenate([polygon - band, polygon + band]))
    if roi is None:
        return out
    box, px = roi
    patch = out[box].astype(np.float64)
    shape = patch.shape[:2]
    distance = signed_distance(px, polygon).reshape(shape)
    lips = np.concatenate([mesh[list(R.lips_outer_lower[2:-2])], mesh[list(R.lips_outer_upper[2:-2])]])
    lip_luma = float(np.median(sample(image, (lips + np.concatenate([lower[2:-2], upper[2:-2]])) / 2) @ LUMA))
    # Outside the opening, and its outermost pixel row (sampled bilinearly at the contour): pixels
    # much darker than the lips (the cavity) or pale and grey (teeth) do not belong to the lips.
    luma = patch @ LUMA
    grey = (patch.max(axis=2) - patch.min(axis=2)) < 0.22 * np.maximum(luma, 1.0)
    corners = polygon[[0, len(upper) - 1]]
    # A smile's dark corners reach far along the lip line; closed, they would leave an upturned dark line.
    near_corner = (np.hypot(*(px[:, None] - corners[None]).transpose(2, 0, 1)).min(axis=1)
                   < CORNER_FILL * band).reshape(shape)
    # Pale grey pixels are teeth only where lips enclose them: a pale region reaching the box's edge is the background
    # past the outline of a turned face (its far lips' landmarks lie beyond it), or lit skin.
    pale, _ = label(grey & (luma > 1.05 * lip_luma))
    edge = np.unique(np.concatenate([pale[0], pale[-1], pale[:, 0], pale[:, -1]]))
    teeth = (pale > 0) & ~np.isin(pale, edge[edge > 0])
    foreign = (luma < 0.8 * lip_luma) | teeth
    mask = ((distance < 1.0) | near_corner) & (distance > -band) & foreign
    if not mask.any():
        return out
    known = ~foreign  # only lip-like pixels feed the fill
    for _ in range(int(np.ceil(CORNER_FILL * band)) + 4):
        padded = np.pad(patch * known[..., None], ((1, 1), (1, 1), (0, 0)))
        weight = np.pad(known.astype(np.float64), 1)
        total = sum(padded[1 + dy:shape[0] + 1 + dy, 1 + dx:shape[1] + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        count = sum(weight[1 + dy:shape[0] + 1 + dy, 1 + dx:shape[1] + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        fill = mask & ~known & (count > 0)
        patch[fill] = total[fill] / count[fill, None]
        known = known | fill
    out[box] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)
    return out
