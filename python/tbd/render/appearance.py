"""Appearance of the action units: wrinkles, folds and bulges, drawn on the skin and blended by AU weight.

Game engines blend wrinkle maps by blendshape weights; this module builds the maps
procedurally, once per portrait, from its landmarks (after ``shared/FACS_APPEARANCE.md``):
forehead lines (AU1 centre, AU2 sides), vertical lines between the brows and the shadow of the
lowered brow (AU4), crow's feet, lower-lid bulge and raised cheek (AU6), the lid tightener's
bulge (AU7), lines across the nose (AU9), the nasolabial fold (AU10, AU12 per side), dimples
(AU14), the bulge below the lip corners (AU15) and the chin's dimpling (AU17).

Each map is a relative change of brightness in the portrait's own pixels (darker in a crease,
lighter on a bulge), so it takes the skin's own tone and light, and a black-and-white photo stays
black and white. Maps live in the portrait's coordinates and are applied *before* the warp: the
lines move with the skin they belong to.

The portrait's own expression is undone in appearance too: for each group of AUs (fold and cheek,
eyes, forehead, glabella, nose, chin) a flattened copy of its skin is made once, with creases
and bulges evened toward the skin's local mean, and each frame blends toward it as far as the
requested expression falls below the portrait's own. Raised brows unfold the skin under them: a copy of it
smoothed along the brows is blended in as far as they rise beyond the portrait's own (`UNFOLD`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

from ..face.rig import AU_INDEX, INTERACTIONS, FaceFrame
from ..face.topology import MEDIAPIPE_REGIONS as R
from .config import RenderConfig
from .pixels import smooth
from .portrait import BLOWN_OUT, skin_hue

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
BLOWN_FROM = 225  # a pixel with two channels at this has started to lose its colour to the exposure
BLOWN_TINT_DEPTH = 0.15  # a crease this much darker than a blown-out pixel takes the skin's hue fully
NOSE_BRIDGE, NOSE_TIP, FOREHEAD_TOP = 6, 1, 10
NOSE_WINGS = (129, 358)  # image-left (subject's right), image-right
CHIN = 152
LOWER_LIP_BOTTOM = 17
FOLD_FADE_IN = 0.15  # share of the nasolabial path over which its flattening fades in from the nose wing
MIDLINE_FADE = 0.08  # IOD over which a side's fold flattening fades out across the face's midline
_RIDGE = 0.2  # a fine wrinkle's lit ridge beside it, against its depth

GROUPS: dict[str, tuple[str, ...]] = {
    "fold": ("AU10", "AU12L", "AU12R", "AU6"),
    "eyes": ("AU6", "AU7"),
    "forehead": ("AU1", "AU2"),
    "glabella": ("AU4",),
    "nose": ("AU9",),
    "chin": ("AU17",),
}
"""Which AUs' appearance each flattened region of the portrait carries."""
UNFOLD = len(GROUPS)
"""Index in `Appearance.flat` of the upper lids' skin that raised brows unfold (after the groups)."""
BROAD_GROUPS = ("fold", "chin")
"""Groups whose folds and bulges are broad: flattened against a wider local mean."""
DRAWN: tuple[str, ...] = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU9", "AU10", "AU12L", "AU12R", "AU14L", "AU14R",
                          "AU15", "AU17")
"""The AUs that have an appearance map, in map order."""
GRIEF = INTERACTIONS[0]
"""The grief brow (AU1 with AU4): the glabella's lines are drawn for the raised inner brows (a last map after DRAWN's)."""


@dataclass(frozen=True)
class Appearance:
    """One portrait's appearance maps over a box of it (``box``: y0, y1, x0, x1 px).

    ``maps`` float32 [len(DRAWN) + 1, h, w]: relative brightness change at intensity 1, per AU of DRAWN, then the
    change of the glabella's lines under the grief brow (`GRIEF`, weighted by the smaller of its two AUs);
    ``flat`` float32 [len(GROUPS) + 1, h, w, 3]: flattened skin minus the portrait, per group, then the upper lids'
    skin smoothed along the brows minus the portrait (`UNFOLD`: raised brows unfold it);
    ``source`` float32 [len(DRAWN)] and ``source_groups`` [len(GROUPS)]: the portrait's own
    intensities (0: nothing to undo); ``blown`` int [n]: the box's pixels (flat indices) with two channels that the
    exposure clipped (one alone leaves the hue), ``blown_share`` [n] how far (0..1); ``hue`` [3]: the skin's colour
    over its brightness, which a crease darkens them toward (darkened as they are, a white pixel turns grey and pale
    skin clipped in red and green olive: grey-green lines and patches on an overexposed face).
    """

    box: tuple[int, int, int, int]
    maps: np.ndarray
    flat: np.ndarray
    source: np.ndarray
    source_groups: np.ndarray
    blown: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    blown_share: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    hue: np.ndarray = field(default_factory=lambda: np.ones(3, np.float32))
    source_brow: float = 0.0
    """The portrait's own brow raise (the larger of its AU1 and AU2): the lids' skin unfolds beyond it."""

    def weights(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(map weights [F, len(DRAWN) + 1], flattening weights [F, len(GROUPS) + 1]) for drawn AU intensities
        [F, n_AU]."""
        target = drawn[:, [AU_INDEX[a] for a in DRAWN]]
        map_weights = np.maximum(target - self.source, 0.0)  # what the portrait does not show already
        # The glabella's lines move from their place under AU4 alone to their place in the grief brow as far as
        # AU1 comes with AU4 (at most all of AU4's own weight).
        pair = [DRAWN.index(a) for a in GRIEF]
        grief = np.minimum(target[:, pair].min(axis=1) - self.source[pair].min(), map_weights[:, pair[1]])
        map_weights = np.concatenate([map_weights, np.maximum(grief, 0.0)[:, None]], axis=1)
        group_target = np.stack([drawn[:, [AU_INDEX[a] for a in GROUPS[g]]].max(axis=1) for g in GROUPS], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            undone = np.where(self.source_groups > 0.1, 1.0 - group_target / self.source_groups, 0.0)
        unfolded = drawn[:, [AU_INDEX["AU1"], AU_INDEX["AU2"]]].max(axis=1) - self.source_brow
        flat_weights = np.concatenate([undone, unfolded[:, None]], axis=1)
        return map_weights.astype(np.float32), np.clip(flat_weights, 0.0, 1.0).astype(np.float32)

    def paint(self, texture: np.ndarray, map_weights: np.ndarray, flat_weights: np.ndarray,
              out: np.ndarray) -> np.ndarray:
        """``out`` (uint8 [H, W, 3]) = ``texture`` with one frame's appearance (weights from `weights`).

        Only the box is written: ``out`` must hold ``texture`` outside it (a copy made once).
        """
        y0, y1, x0, x1 = self.box
        patch = texture[y0:y1, x0:x1].astype(np.float32)
        if not (map_weights.any() or flat_weights.any()):
            out[y0:y1, x0:x1] = texture[y0:y1, x0:x1]
            return out
        for k in np.flatnonzero(flat_weights):  # few are non-zero in a frame
            patch += flat_weights[k] * self.flat[k]
        used = np.flatnonzero(map_weights)
        if len(used):
            shade = np.tensordot(map_weights[used], self.maps[used], axes=1)
            shade += 1.0
            # A crease darkens the skin's own colour; a bulge catches more light, which adds as the light's colour
            # (the skin's brightness in grey): scaled up, a lit cheek on warm skin turned a saturated orange.
            lit = np.maximum(shade - 1.0, 0.0)
            patch += (lit * (patch @ _LUMA))[..., None]
            patch *= np.minimum(shade, 1.0)[..., None]
            if len(self.blown):
                darkened = np.clip((1.0 - shade.ravel()[self.blown]) / BLOWN_TINT_DEPTH, 0.0, 1.0)
                creased = np.flatnonzero(darkened > 0.01)  # the maps are smooth: most of the box barely changes
                index, darkened = self.blown[creased], darkened[creased] * self.blown_share[creased]
                pixels = patch.reshape(-1, 3)
                lit = pixels[index]
                pixels[index] = lit + darkened[:, None] * ((lit @ _LUMA)[:, None] * self.hue - lit)
        patch += 0.5
        np.clip(patch, 0, 255, out=patch)
        out[y0:y1, x0:x1] = patch  # truncates: with the 0.5 above, rounds to nearest
        return out


# ---- geometry helpers (face coordinates: u right, v down, IOD units) ------------------------

def _segments_distance(uv: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unsigned distance [P], place along the polyline 0..1 [P]) of points uv [P, 2] to a polyline [K, 2]."""
    a, b = points[:-1], points[1:]
    ab = b - a
    length = np.hypot(ab[:, 0], ab[:, 1])
    ap = uv[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum(length ** 2, 1e-12), 0.0, 1.0)
    d = np.hypot(*(ap - t[..., None] * ab[None]).transpose(2, 0, 1))
    k = np.argmin(d, axis=1)
    rows = np.arange(len(uv))
    place = (np.concatenate([[0.0], np.cumsum(length)])[k] + t[rows, k] * length[k]) / max(length.sum(), 1e-12)
    return d[rows, k], place


def _side_of(uv: np.ndarray, points: np.ndarray) -> np.ndarray:
    """+1 / -1: which side of the polyline's general direction each point lies on."""
    direction = points[-1] - points[0]
    normal = np.array([-direction[1], direction[0]])
    return np.sign((uv - points[0]) @ normal + 1e-12)


def _crease(distance: np.ndarray, width: float, side: np.ndarray | None = None, light: float = _RIDGE) -> np.ndarray:
    """A crease's profile: -1 at its bottom, with a faint lit ridge beside it (on ``side`` > 0 only, if given)."""
    dark = -np.exp(-0.5 * (distance / width) ** 2)
    ridge = light * np.exp(-0.5 * ((distance - 1.8 * width) / width) ** 2)
    if side is not None:
        ridge = ridge * (side > 0)
    return dark + ridge


def _line(uv: np.ndarray, points: np.ndarray, width: float, fade: float = 0.15,
          depth: np.ndarray | None = None, light: float = _RIDGE) -> np.ndarray:
    """A crease along a polyline, fading out over its first and last ``fade`` of its length; ``depth`` [K]: its
    strength at each point of the polyline (default 1 throughout); ``light``: its lit ridge (`_crease`)."""
    crease = np.zeros(len(uv))
    reach = 6.0 * width  # the crease and its ridge are nothing beyond this: only the points near the line are measured
    near = np.flatnonzero(np.all((uv >= points.min(axis=0) - reach) & (uv <= points.max(axis=0) + reach), axis=1))
    d, t = _segments_distance(uv[near], points)
    ends = np.clip(np.minimum(t, 1.0 - t) / fade, 0.0, 1.0)
    crease[near] = _crease(d, width, light=light) * ends * ends * (3 - 2 * ends)
    if depth is not None:
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
        crease[near] *= np.interp(t, along / max(along[-1], 1e-12), depth)
    return crease


def _glabella_centre(fuv: np.ndarray) -> float:
    """Height (face v) of the inner brow ends' midpoint."""
    right_brow, left_brow = fuv[list(R.brow_right)], fuv[list(R.brow_left)]
    return float((right_brow[np.argmax(right_brow[:, 0]), 1] + left_brow[np.argmin(left_brow[:, 0]), 1]) / 2)


def _glabella(uv: np.ndarray, fuv: np.ndarray, fine: float, ink: float, config: RenderConfig, *,
              stretched: bool = False) -> np.ndarray:
    """The glabella's lines at points ``uv`` [P] for a face whose landmarks are ``fuv`` [478, 2] (face coordinates):
    vertical furrows between the inner brow ends.

    The lowered brow (AU4) bunches that skin into a pair of wide, soft furrows between the inner brow ends (the "11"),
    with little of a fine wrinkle's lit ridge (`RenderConfig.glabella_width`, `glabella_ridge`, `glabella_depth`,
    `glabella_spread`): drawn as fine wrinkles they read as inked strokes on smooth skin at 512 px, and two pairs
    with a crease across the nose's root read as a tick mark. ``stretched``: the grief brow's, whose AU1 stretches
    that skin upward into narrow creases converging downward, drawn as fine wrinkles (a crease across the nose's root,
    stretched thin by the raised inner brows, read as a dash between the eyes)."""
    right_brow, left_brow = fuv[list(R.brow_right)], fuv[list(R.brow_left)]
    gap = max(left_brow[:, 0].min() - right_brow[:, 0].max(), 0.1)
    mid_v = _glabella_centre(fuv)
    glabella = np.zeros(len(uv))
    if stretched:
        for sign in (-1.0, 1.0):  # converging downward, the inner one longer (corrugator pulls toward the nose root)
            x = sign * 0.16 * gap
            glabella += ink * _line(uv, np.array([[x + sign * 0.035, mid_v - 0.12], [x, mid_v + 0.08]]), fine * 1.4,
                                    0.35)
            glabella += 0.5 * ink * _line(uv, np.array([[x + sign * 0.09, mid_v - 0.08],
                                                        [x + sign * 0.05, mid_v + 0.04]]), fine * 1.2, 0.4)
    else:
        width = fine * config.glabella_width
        for sign in (-1.0, 1.0):
            x = sign * config.glabella_spread * gap
            glabella += ink * config.glabella_depth * _line(uv, np.array([[x, mid_v - 0.16], [x, mid_v + 0.04]]),
                                                            width, 0.35, light=config.glabella_ridge)
    return glabella


def _brow_bunch(uv: np.ndarray, fuv: np.ndarray, config: RenderConfig) -> np.ndarray:
    """The lit skin that the lowered brow bunches above the inner brow ends, at points ``uv`` [P] (face coordinates)."""
    bunch = _blob(uv, np.array([0.0, _glabella_centre(fuv) - 0.06]), 0.25, 0.06) \
        * (1 - np.exp(-0.5 * (uv[:, 0] / 0.06) ** 2))
    return 0.6 * bunch * config.bulge_light / config.crease_depth


def _posed_glabella(uv: np.ndarray, fuv: np.ndarray, frame: FaceFrame, fine: float, ink: float, config: RenderConfig,
                    posed: Callable[[np.ndarray], np.ndarray], *, stretched: bool) -> np.ndarray:
    """The glabella's map (`_glabella`) laid out between the inner brows of a pose and pulled back onto the portrait:
    where each point of the portrait goes in the pose (``posed``: the warp's move of portrait points, px), the
    pose's map is read, so the warp carries the lines to where they belong in that pose instead of squeezing or
    stretching lines laid out at rest."""
    mid_v = _glabella_centre(fuv)
    near = np.flatnonzero((np.abs(uv[:, 0]) < 0.45) & (uv[:, 1] > mid_v - 0.55) & (uv[:, 1] < mid_v + 0.3))
    landmarks = frame.to_image(fuv)
    points = frame.to_image(uv[near])
    out = np.zeros(len(uv))
    out[near] = _glabella(frame.to_face(points + posed(points)), frame.to_face(landmarks + posed(landmarks)), fine, ink,
                          config, stretched=stretched)
    return out


def _forehead_lines(frame: FaceFrame, brow_top: float, spacing: float, config: RenderConfig,
                    raised: Callable[[np.ndarray], np.ndarray] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The forehead's lines in the portrait (face coordinates): (polyline [K, 2], depth along it [K]) per line.

    Each line follows the brows' arch *as raised*. The raised forehead rises more over the outer brows than at
    the midline, so lines drawn along the arch in the portrait came out sagging into a U with a notch over the
    nose: each is drawn where the warp of a raised brow (``raised``) carries it onto the arch. Real lines are
    not ruled either: each wanders a little, deepens and fades along its length and sits a little off even
    spacing (`RenderConfig.forehead_irregularity`; the same in every frame and clip of a portrait).
    """
    rng = np.random.default_rng(7)  # fixed: a portrait's lines are the same in every clip
    irregular = config.forehead_irregularity
    u = np.linspace(-0.95, 0.95, 61)  # fine enough for the narrow dip over the nose
    arch = 0.08 * (u / 0.95) ** 2 - 0.02 * np.cos(3 * u)
    lines = []
    for k in range(3):
        v = brow_top - 0.07 - k * spacing * (1.0 + irregular * rng.uniform(-0.5, 0.5))
        arched = v + arch
        path = np.stack([u, arched], axis=1)
        for _ in range(8 if raised is not None else 0):  # the rise differs where the line is moved to: iterate
            rise = -(raised(frame.to_image(path)) @ frame.axes[1]) / frame.scale  # face units, up
            path[:, 1] = arched + rise - rise[len(u) // 2]
        phase = rng.uniform(0, 2 * np.pi, 3)
        path[:, 1] += 0.012 * irregular * np.sin(6.0 * u + phase[0])
        depth = 1.0 + irregular * (0.35 * np.sin(5.3 * u + phase[1]) + 0.25 * np.sin(11.9 * u + phase[2]))
        lines.append((path, np.clip(depth, 0.1, 1.2)))
    return lines


def _blob(uv: np.ndarray, centre: np.ndarray, su: float, sv: float) -> np.ndarray:
    return np.exp(-0.5 * (((uv[:, 0] - centre[0]) / su) ** 2 + ((uv[:, 1] - centre[1]) / sv) ** 2))


def _polygon_mask(shape: tuple[int, int], polygon_px: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Float mask [h, w]: 1 inside the polygon (px, relative to ``origin`` x, y)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in (polygon_px - origin)], fill=255)
    return np.asarray(canvas, np.float32) / 255.0


# ---- building the maps -------------------------------------------------------------------------

def build_appearance(image: np.ndarray, mesh: np.ndarray, frame: FaceFrame, source_aus: np.ndarray,
                     config: RenderConfig, raised: Callable[[np.ndarray], np.ndarray] | None = None,
                     grieved: Callable[[np.ndarray], np.ndarray] | None = None,
                     lowered: Callable[[np.ndarray], np.ndarray] | None = None) -> Appearance:
    """The appearance maps and flattened skin of one portrait.

    ``image`` uint8 [H, W, 3] (the texture the renderer warps), ``mesh`` [478, 2] px, ``frame``
    the face frame, ``source_aus`` the portrait's own AU intensities [n_AU]. ``raised``: how far the warp moves
    portrait points [P, 2] px (px [P, 2]) when the brows are raised as `RenderConfig.forehead_raise`; the
    forehead's lines are laid out so that they follow the raised brows (None: they are drawn as if the
    forehead rose evenly). ``grieved``: the same for the grief brow (`RenderConfig.grief_pose`): the glabella's
    lines are drawn between the raised inner brows and pulled back onto the portrait, so the warp does not stretch
    them up the forehead (None: no grief map). ``lowered``: the same for the lowered brow
    (`RenderConfig.frown_pose`): the glabella's furrows are laid out between the lowered brows, so the warp does not
    squeeze them into one dark slit (None: laid out at rest).
    """
    H, W = image.shape[:2]
    fuv = frame.to_face(mesh.astype(np.float64))
    lo, hi = fuv[:468].min(axis=0) - 0.25, fuv[:468].max(axis=0) + 0.15
    corners = frame.to_image(np.array([[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]]))
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, [W, H])
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, 0, [W, H])
    h, w = max(y1 - y0, 1), max(x1 - x0, 1)
    ys, xs = np.mgrid[y0:y0 + h, x0:x0 + w]
    uv = frame.to_face(np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64))
    px_per_iod = frame.scale
    fine = max(config.crease_width, config.min_crease_px / px_per_iod)  # never thinner than about a pixel
    # A wrinkle widened to a pixel on a small face is drawn fainter (by the square root of the
    # widening: its contrast times width stays about as visible), so that lines close together
    # (the glabella's) stay lines instead of merging into a dark patch.
    ink = float(np.sqrt(config.crease_width / fine))
    fold = max(config.crease_width * config.fold_width, 1.0 / px_per_iod)

    maps = {name: np.zeros(len(uv)) for name in DRAWN}
    masks = {name: np.zeros(len(uv)) for name in GROUPS}
    right_brow, left_brow = fuv[list(R.brow_right)], fuv[list(R.brow_left)]
    brow_top = min(right_brow[:, 1].min(), left_brow[:, 1].min())
    forehead_top = min(fuv[FOREHEAD_TOP, 1] + 0.12, brow_top - 0.25)

    # Forehead: horizontal lines following the brows' arch; AU1 in the centre, AU2 over the sides.
    spacing = max((brow_top - 0.06 - forehead_top) / 3.2, 0.05)
    centre_env = np.exp(-0.5 * (uv[:, 0] / 0.28) ** 2)
    side_env = np.exp(-0.5 * ((np.abs(uv[:, 0]) - 0.55) / 0.2) ** 2)
    lines = np.zeros(len(uv))
    for path, depth in _forehead_lines(frame, brow_top, spacing, config, raised):
        lines += ink * _line(uv, path, fine, 0.08, depth)
    above_brows = np.clip((brow_top - 0.03 - uv[:, 1]) / 0.05, 0, 1) * np.clip((uv[:, 1] - forehead_top) / 0.1, 0, 1)
    maps["AU1"] = lines * centre_env * above_brows
    maps["AU2"] = lines * side_env * above_brows
    masks["forehead"] = above_brows * np.exp(-0.5 * (uv[:, 0] / 0.7) ** 2)

    # Glabella: a pair of furrows between the inner brow ends (laid out between the lowered brows),
    # the bunched skin above the inner brows, the lowered brow's shadow on the upper lid.
    mid_v = _glabella_centre(fuv)
    glabella = _glabella(uv, fuv, fine, ink, config) if lowered is None else _posed_glabella(
        uv, fuv, frame, fine, ink, config, lowered, stretched=False)
    maps["AU4"] = glabella + _brow_bunch(uv, fuv, config)  # the lowered brow's shadow is added below
    for upper, brow in ((R.eye("right")[0], right_brow), (R.eye("left")[0], left_brow)):
        lid = fuv[list(upper)]
        top = np.interp(uv[:, 0], *_sorted(brow[:, 0], brow[:, 1]))
        lid_v = np.interp(uv[:, 0], *_sorted(lid[:, 0], lid[:, 1]))
        # Across the eye's width, fading in over its ends (a hard edge there reads as a grey box over the lid).
        inside = np.clip(np.minimum(uv[:, 0] - lid[:, 0].min(), lid[:, 0].max() - uv[:, 0]) / 0.08, 0.0, 1.0)
        inside = inside * inside * (3.0 - 2.0 * inside)
        between = np.clip((uv[:, 1] - top) / np.maximum(lid_v - top, 0.02), 0, 1)
        maps["AU4"] += -0.5 * inside * np.sin(np.pi * np.clip(between / 0.8, 0, 1))  # the shadow under the brow
    masks["glabella"] = _blob(uv, np.array([0.0, mid_v]), 0.2, 0.15)

    # Eyes: crow's feet fanning out of the outer corners, the lower-lid bulge and the furrow under it.
    for side, (upper, lower) in (("right", R.eye("right")), ("left", R.eye("left"))):
        up, low = fuv[list(upper)], fuv[list(lower)]
        ends = up[[0, -1]]
        outer = ends[np.argmax(np.abs(ends[:, 0]))]
        out_dir = np.sign(outer[0])
        feet = np.zeros(len(uv))
        for angle in (-0.45, -0.05, 0.4):
            d = np.array([np.cos(angle) * out_dir, np.sin(angle)])
            feet += ink * _line(uv, np.stack([outer + 0.06 * d, outer + 0.22 * d]), fine, 0.3)
        low_sorted = _sorted(low[:, 0], low[:, 1])
        below = uv[:, 1] - np.interp(uv[:, 0], *low_sorted)
        span = (uv[:, 0] > low[:, 0].min() - 0.05) & (uv[:, 0] < low[:, 0].max() + 0.05)
        bulge = span * np.exp(-0.5 * ((below - 0.04) / 0.022) ** 2)
        furrow = span * _crease(np.abs(below - 0.1), fold * 0.8)
        cheek = _blob(uv, np.array([outer[0] - out_dir * 0.1, low[:, 1].max() + 0.35]), 0.17, 0.12)
        maps["AU6"] += feet + (0.9 * bulge + 1.4 * cheek) * config.bulge_light / config.crease_depth + 0.6 * furrow
        maps["AU7"] += 0.7 * bulge * config.bulge_light / config.crease_depth
        masks["eyes"] = np.maximum(masks["eyes"], np.maximum(
            _blob(uv, outer + np.array([out_dir * 0.12, 0.0]), 0.1, 0.1),
            span * np.exp(-0.5 * ((below - 0.08) / 0.06) ** 2) * (below > 0.015)))

    # Nose: short lines across the bridge and its sides.
    bridge_v = fuv[NOSE_BRIDGE, 1]
    nose = np.zeros(len(uv))
    for k, dv in enumerate((-0.02, 0.04, 0.1)):
        half = 0.07 + 0.02 * k
        nose += ink * _line(uv, np.array([[-half, bridge_v + dv + 0.02], [0.0, bridge_v + dv], [half, bridge_v + dv + 0.02]]),
                      1.5 * fine, 0.35)
    maps["AU9"] = 0.6 * nose
    masks["nose"] = _blob(uv, np.array([0.0, bridge_v + 0.05]), 0.12, 0.1)

    # Mouth: the nasolabial fold from the nose wing to beside the lip corner, the cheek bulge
    # beside it, dimples, the bulge below the corners, the chin.
    mouth_corners = fuv[[R.lips_outer_upper[0], R.lips_outer_upper[-1]]]
    lip_bottom = fuv[LOWER_LIP_BOTTOM]
    for k, (wing, corner) in enumerate(zip(fuv[list(NOSE_WINGS)], mouth_corners)):
        out_dir = -1.0 if k == 0 else 1.0
        suffix = "R" if k == 0 else "L"  # image-left is the subject's right
        path = np.array([wing + [out_dir * 0.06, -0.02], wing + [out_dir * 0.1, 0.15],
                         corner + [out_dir * 0.09, -0.02], corner + [out_dir * 0.07, 0.12]])
        d, t = _segments_distance(uv, path)
        towards_cheek = np.sign(out_dir * (uv[:, 0] - np.interp(uv[:, 1], path[:, 1], path[:, 0])))
        profile = _crease(d, fold, towards_cheek, light=0.5) * np.clip(np.minimum(t, 1 - t) / 0.15, 0, 1)
        cheek = _blob(uv, (wing + corner) / 2 + [out_dir * 0.2, -0.05], 0.13, 0.15)
        own_side = (out_dir * (uv[:, 0] - fuv[NOSE_TIP, 0]) > 0).astype(np.float64)
        maps[f"AU12{suffix}"] = profile * own_side + 0.8 * cheek * config.bulge_light / config.crease_depth
        maps["AU10"] += 0.8 * profile * (t < 0.7) * own_side
        maps[f"AU14{suffix}"] = -0.8 * _blob(uv, corner + [out_dir * 0.06, 0.0], 0.025, 0.035)
        # The skin bunched below the depressed corner. No crease at the commissure itself: a corner pulled down
        # (and one of a smile undone) squeezes the skin there, and a line drawn on it shrinks into a dark dot.
        maps["AU15"] += -0.6 * _blob(uv, corner + [out_dir * 0.01, 0.09], 0.05, 0.05)
        at_corner = _blob(uv, corner + [out_dir * 0.05, -0.02], 0.07, 0.06)  # the crease at a smile's corner
        # Soft edges: the fold's flattening fades in along its first part (the nose wing's own shadow stays) and
        # over the midline. Cut off hard there, it left a straight seam under the nose of an undone smile.
        starts = smooth(t / FOLD_FADE_IN)
        this_side = np.clip(0.5 + out_dir * (uv[:, 0] - fuv[NOSE_TIP, 0]) / MIDLINE_FADE, 0.0, 1.0)
        masks["fold"] = np.maximum(masks["fold"], np.maximum.reduce(
            [np.exp(-0.5 * (d / (3 * fold)) ** 2) * starts, cheek, at_corner]) * this_side)
    chin_v = (lip_bottom[1] + fuv[CHIN, 1]) / 2
    rng = np.random.default_rng(0)  # the chin's dimpling: a fixed, smooth bump pattern
    dimples = gaussian_filter(rng.standard_normal((h, w)), max(0.02 * px_per_iod, 0.7)).ravel()
    dimples /= max(np.abs(dimples).max(), 1e-9)
    boss = _blob(uv, np.array([lip_bottom[0], chin_v]), 0.2, 0.12)
    sulcus = _line(uv, np.array([[-0.2, lip_bottom[1] + 0.07], [0.0, lip_bottom[1] + 0.05],
                                 [0.2, lip_bottom[1] + 0.07]]), fold * 0.8, 0.3)
    maps["AU17"] = 0.8 * dimples * boss + sulcus + 0.5 * boss * config.bulge_light / config.crease_depth
    masks["chin"] = np.maximum(boss, np.exp(-0.5 * ((uv[:, 1] - lip_bottom[1] - 0.06) / 0.05) ** 2)
                               * (np.abs(uv[:, 0]) < 0.3))

    # AU1 with AU4 lifts the inner brows and stretches the skin between them and the nose to about twice its
    # height: the lowered brow's lines were stretched into a tall pillar up the forehead. The grief brow's map
    # replaces them by its own.
    grief = np.zeros(len(uv)) if grieved is None else _posed_glabella(uv, fuv, frame, fine, ink, config, grieved,
                                                                      stretched=True) - glabella
    maps_arr = np.stack([maps[a].reshape(h, w) for a in DRAWN] + [grief.reshape(h, w)]).astype(np.float32) \
        * config.crease_depth
    patch = image[y0:y0 + h, x0:x0 + w].astype(np.float32)
    origin = np.array([x0, y0], np.float64)
    grain_px = max(config.flatten_grain_sigma * px_per_iod, config.min_grain_px)
    fine_flat, broad_flat = _flattened(patch, mesh, origin, (config.flatten_sigma * px_per_iod,
                                                             config.flatten_fold_sigma * px_per_iod),
                                       grain_px, config.flatten_keep_grain)
    undone = [config.flatten_source * ((broad_flat if g in BROAD_GROUPS else fine_flat) - patch)
              * masks[g].reshape(h, w, 1) for g in GROUPS]
    unfolded = _unfolded_lids(patch, uv, fuv, config.unfolded_lid_blur * px_per_iod, config.unfolded_lid_reach)
    flat_arr = np.stack(undone + [unfolded]).astype(np.float32)
    source = np.asarray(source_aus, np.float64)
    source_drawn = source[[AU_INDEX[a] for a in DRAWN]].astype(np.float32)
    source_groups = np.array([source[[AU_INDEX[a] for a in GROUPS[g]]].max() for g in GROUPS], np.float32)
    share = np.clip((np.median(patch, axis=2).ravel() - BLOWN_FROM) / (BLOWN_OUT - BLOWN_FROM), 0.0, 1.0)
    blown = np.flatnonzero(share > 0)
    return Appearance((int(y0), int(y0 + h), int(x0), int(x0 + w)), maps_arr, flat_arr,
                      source_drawn, source_groups, blown, share[blown].astype(np.float32),
                      skin_hue(image, mesh).astype(np.float32),
                      source_brow=float(max(source[AU_INDEX["AU1"]], source[AU_INDEX["AU2"]])))


def _unfolded_lids(patch: np.ndarray, uv: np.ndarray, fuv: np.ndarray, blur_px: float, reach: float) -> np.ndarray:
    """The skin between each brow and its upper lid smoothed along the brow, minus the portrait [h, w, 3].

    Raised brows unfold the skin under them: the photo's few pixels there (the brow's lower hairs, a hooded lid's
    fold, the lashes' shadow) are stretched several times over, and a thick brow or a crease smeared into streaks
    down to the eye. Smoothed along the brow (the stretch is across it) they stretch into shading. From ``reach``
    of the way up into the brow down to just above the lashes, which stay."""
    if blur_px <= 0:
        return np.zeros_like(patch)
    lids = np.zeros(len(uv))
    for side, brow in (("right", R.brow_right), ("left", R.brow_left)):
        lid = fuv[list(R.eye(side)[0])]
        half = len(brow) // 2
        upper_row, lower_row = fuv[list(brow[:half])], fuv[list(brow[half:])]
        lid_v = np.interp(uv[:, 0], *_sorted(lid[:, 0], lid[:, 1]))
        brow_v = np.interp(uv[:, 0], *_sorted(lower_row[:, 0], lower_row[:, 1]))
        start = brow_v + reach * (np.interp(uv[:, 0], *_sorted(upper_row[:, 0], upper_row[:, 1])) - brow_v)
        inner, outer = min(lid[:, 0].min(), lower_row[:, 0].min()), max(lid[:, 0].max(), lower_row[:, 0].max())
        across = smooth((uv[:, 0] - inner + 0.02) / 0.08) * smooth((outer + 0.02 - uv[:, 0]) / 0.08)
        lids = np.maximum(lids, across * smooth((uv[:, 1] - start) / 0.03) * smooth((lid_v - 0.015 - uv[:, 1]) / 0.02))
    # Along the image's rows: the brows of the upright portraits tbd animates run across them.
    smoothed = np.stack([gaussian_filter(patch[..., c], (0.5, blur_px)) for c in range(3)], axis=-1)
    return (smoothed - patch) * lids.reshape(patch.shape[:2] + (1,))


def _sorted(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x)
    return x[order], y[order]


def _flattened(patch: np.ndarray, mesh: np.ndarray, origin: np.ndarray, sigmas_px: tuple[float, ...],
               grain_px: float, keep_grain: float) -> list[np.ndarray]:
    """The skin of ``patch`` with creases and bulges evened toward its local mean brightness, one copy per scale of
    that mean (``sigmas_px``), each keeping ``keep_grain`` of the skin's grain (what is finer than ``grain_px``).

    The means are taken over skin only (eyes, brows and lips are left out of them), so that a
    crease next to an eye is lifted to the skin's brightness, not the eye's.
    """
    shape = patch.shape[:2]
    skin = np.ones(shape, np.float32)
    # Eyes are widened generously (lashes, lid margins); the lips only a little, so that the
    # creases at the corners of a smiling mouth are flattened too.
    features = [(R.eye("right")[0] + R.eye("right")[1][::-1], (1.35, 1.35)),
                (R.eye("left")[0] + R.eye("left")[1][::-1], (1.35, 1.35)),
                (R.lips_outer_upper + R.lips_outer_lower[::-1], (1.03, 1.15))]
    for contour, grow in features:
        polygon = mesh[list(contour)].astype(np.float64)
        centre = polygon.mean(axis=0)
        skin -= _polygon_mask(shape, centre + np.array(grow) * (polygon - centre), origin)
    for brow in (R.brow_right, R.brow_left):
        half = len(brow) // 2
        polygon = np.concatenate([mesh[list(brow[:half])], mesh[list(brow[half:])][::-1]]).astype(np.float64)
        centre = polygon.mean(axis=0)
        skin -= _polygon_mask(shape, centre + 1.4 * (polygon - centre), origin)
    skin = np.clip(skin, 0.0, 1.0)

    def skin_mean(sigma: float) -> np.ndarray:
        weight = np.maximum(gaussian_filter(skin, sigma), 1e-3)
        return np.stack([gaussian_filter(patch[..., c] * skin, sigma) / weight for c in range(3)], axis=-1)

    # The local mean colour plus the grain: the band between them (creases, folds) goes.
    grain = keep_grain * (patch - skin_mean(grain_px))
    return [patch + skin[..., None] * (skin_mean(max(sigma, 1.0)) + grain - patch) for sigma in sigmas_px]
