"""The face rig: a per-action-unit landmark displacement basis, scaled to one face.

Every face is described by points in MediaPipe's mesh topology (`tbd.face.canonical`), so one
rig serves both detector backends. Displacements are built in *face coordinates*: origin
between the eye centres, u toward the image-right eye, v down the face, unit = inter-ocular
distance (IOD). `FaceFrame` converts to and from pixels.

Each AU is a small set of physiologically placed handles (lip corners for AU12/AU15, inner
and outer brows for AU1/AU2, lids for AU5/AU7, the jaw for AU26...) whose pull falls off
smoothly over the skin, with the lips split at their midline so that the jaw opens the mouth
instead of stretching it. The basis is linear: ``displacement = basis · Δau``. AU45 (blink) is
linear here too (lids move to the `eye_closure` line), which `estimate_aus` uses; the renderer
closes the lids onto that line non-linearly instead, so that a blink closes whatever the other
AUs do.
Amplitudes are in IOD units at intensity 1 (an adult IOD is about 63 mm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion.channels import AU_CHANNELS
from .topology import MEDIAPIPE_REGIONS as R

N_AU = len(AU_CHANNELS)
AU_INDEX = {name: i for i, name in enumerate(AU_CHANNELS)}

LIP_OPENING = {"AU25": 0.08, "AU26": 0.26, "AU27": 0.45}
"""Inner-lip gap at the mouth centre (IOD units) that each opening AU adds at intensity 1."""
JAW_DROP = {"AU26": 0.95 * LIP_OPENING["AU26"], "AU27": 0.95 * LIP_OPENING["AU27"]}
"""How far the jaw (lower teeth, chin) drops at intensity 1 (IOD units); the lower lip adds the rest."""
GRIEF_RISE = 0.28
"""AU1 with AU4 (the grief brow): how far the inner brow ends rise at intensity 1 beyond the sum of the two (IOD
units): together they rise further than with AU1 alone and are drawn in, the oblique brow of sadness and fear."""
SURPRISE_ARCH = 0.1
"""AU1 with AU2 (the whole frontalis): how far the middle of each brow rises at intensity 1 beyond the sum of the
two (IOD units), so the raised brow arches. Each alone lifts its own end, and their sum left the middle lowest:
an oblique, worried brow that read as fear (FER: fear 0.6-0.7 for surprise on three of four new portraits)."""
GRIEF_REACH = 0.3
"""How far up the forehead (a Gaussian's width, IOD) that extra rise carries. The brows' own reach (0.4) dragged
the hairline into a notch over the nose; much less than the rise itself would fold the skin over."""
OPENING_TAPER = 1.0
"""How an opening mouth's gap falls off toward the corners: (1 - s^2)^OPENING_TAPER at s across the half-width (1 at
the corners). 1 makes an almond whose ends meet at a point; 0.6 made a near-ellipse which, with the corners dropping
with the jaw, read as a box with blunt ends. Tapered, rounded and spread vowels also differ more (bench_articulation:
rounding from audio +0.435 -> +0.458, with the transcript +0.732 -> +0.825)."""
JAW_CORNER_SHARE = 0.1
"""Share of the jaw's drop that the lower lip's inner edge takes at the mouth corners (1 mid-mouth)."""
JAW_LENS_DEPTH = 0.8
"""How far below the lower lip's inner edge the opening's lens (`JAW_CORNER_SHARE` of the drop at the corners, all of
it mid-mouth) reaches, as a Gaussian's width in lower-lip thicknesses; below it the jaw is bone and drops as one
piece. At 1.6 the chin under the mouth corners dropped half as far as under the middle, a bulge beside the chin."""
JAW_CORNER_DROP = 0.3
"""Share of the jaw's drop that the mouth corners (both lips there, and the cheek beside them) follow. With the
corners held at the lip line, the opening hung below it as a crescent, flat on top and round below, its ends above
the opened lips' centre: the shape of a toothy smile."""
JAW_CORNER_IN = 0.08
"""How far each mouth corner comes in toward the midline as the jaw drops (AU26 at intensity 1, IOD): the lips
stretch down over the opening and the mouth narrows into an oval. At 0.04 a dropped jaw left a wide slot, the
stretched mouth of fear (FER read fear for surprise on four of ten portraits)."""
SURPRISE_LEVEL = 0.12
"""AU1 with AU2: how far the outer end of each brow rises at intensity 1 beyond the sum of the two (IOD). The whole
frontalis lifts the brow evenly, but the renderer draws AU1 further than AU2 (`RenderConfig.au_gain`), so their sum
left the outer ends low: the oblique brow of fear, not the raised arch of surprise."""
FRONTALIS_MIDLINE = 0.5
"""Share of an inner brow end's rise (AU1, AU2) that the skin on the midline between the brows follows, from each
side (the two sides add up to the whole rise): the frontalis lifts the forehead between the brows with them. With
the glabella left behind, the forehead lines above dipped into a V over the nose."""
MIDLINE_REACH_ABOVE = 0.25
"""How far above the brows (IOD, a Gaussian's width) that midline lift reaches; the hairline stays."""
EYE_CLOSURE_LINE = 0.05
"""Where closed lids meet, as a fraction of the way from the lower to the upper lid."""
LIP_EVERSION = {"AU18": 0.15, "AU22": 0.3}
"""Pucker and funnel push the lips forward and turn them out: each lip's red grows by this share of its
height at intensity 1 (its outer edge moves away from the lip line), the look of protruded, rounded lips."""
SMILE_PULL = (0.06, 0.11)
"""How far AU12 pulls its lip corner back (toward the ear) and up at intensity 1 (IOD)."""
PUCKER_CORNER_IN = {"AU18": 0.08, "AU22": 0.05}
"""How far pucker and funnel bring each mouth corner in toward the midline at intensity 1 (IOD): a rounded vowel
("oo") narrows the mouth by about a third. At 0.12 and 0.07 it narrowed by half, and with the jaw dropped as well
(a surprised "who") the mouth became a vertical slit with a peaked upper lip."""
PUCKER_REACH_ABOVE = 0.12
"""How far above the corners (IOD, a Gaussian's width) the skin follows that inward pull: the upper lip's skin, not
the nose (at 0.2 a pucker pinched the nostrils)."""
ROUND_OPENING = {"AU18": 0.06, "AU22": 0.06}
"""Pucker and funnel round the mouth's opening: the lips' outer thirds close toward the lip line by this
much (IOD at intensity 1) while the middle stays open, so an open mouth reads round rather than a slit."""


MIN_ACROSS = 0.4
"""Least foreshortening `FaceFrame` allows a turned face's width (cos of about 66 degrees of yaw): beyond it a
yaw estimate is too uncertain to stretch the face's height scale by more than 2.5 times its eye distance."""


@dataclass(frozen=True)
class FaceFrame:
    """Frame of a face in an image: ``origin`` px (between the eyes), unit ``axes`` [2, 2] (u across the eyes, v
    down the face), ``scale`` px per IOD down the face, and ``across`` the foreshortening of its width (about
    cos(yaw): 1 for a frontal face). Face coordinates are those of the face seen from the front: a turned face
    keeps its height while its width, and every sideways movement, shrinks by ``across``."""

    origin: np.ndarray
    axes: np.ndarray
    scale: float
    across: float = 1.0

    @classmethod
    def from_mesh(cls, mesh: np.ndarray, yaw: float = 0.0) -> "FaceFrame":
        """The frame of mesh points [>=468, 2] (px): eye centres from the eye corners. ``yaw`` (radians, the
        face's `FaceModel.pose`) says how much the eye distance is foreshortened: the projected distance
        alone would make a turned face's expressions as much smaller as its eyes look closer together."""
        right = mesh[[R.eye_right_upper[0], R.eye_right_upper[-1]]].mean(axis=0)
        left = mesh[[R.eye_left_upper[0], R.eye_left_upper[-1]]].mean(axis=0)
        across = left - right
        projected = float(np.hypot(*across))
        if not projected > 1e-6:
            raise ValueError("degenerate face: both eyes at the same place")
        u = across / projected
        v = np.array([-u[1], u[0]])
        foreshortening = float(np.clip(np.cos(yaw), MIN_ACROSS, 1.0))
        return cls(((left + right) / 2).astype(np.float64), np.stack([u, v]), projected / foreshortening,
                   foreshortening)

    @property
    def _px(self) -> np.ndarray:
        """Pixels per face unit along u and v."""
        return np.array([self.scale * self.across, self.scale])

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """Pixel points [..., 2] -> face coordinates [..., 2]."""
        return ((np.asarray(points, np.float64) - self.origin) @ self.axes.T) / self._px

    def to_image(self, uv: np.ndarray) -> np.ndarray:
        """Face coordinates [..., 2] -> pixel points."""
        return (np.asarray(uv, np.float64) * self._px) @ self.axes + self.origin

    def vectors_to_image(self, duv: np.ndarray) -> np.ndarray:
        """Face-coordinate displacements [..., 2] -> pixel displacements."""
        return (np.asarray(duv, np.float64) * self._px) @ self.axes


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _gauss(uv: np.ndarray, centre, sigma_u: float, sigma_above: float, sigma_below: float | None = None) -> np.ndarray:
    """Gaussian falloff around ``centre``; the vertical width may differ above and below it."""
    du = (uv[:, 0] - centre[0]) / sigma_u
    dv = uv[:, 1] - centre[1]
    sigma_v = np.where(dv < 0, sigma_above, sigma_above if sigma_below is None else sigma_below)
    return np.exp(-0.5 * (du * du + (dv / sigma_v) ** 2))


@dataclass(frozen=True)
class _Mouth:
    centre: np.ndarray  # (u, v) between the inner-lip centres
    corners: np.ndarray  # [2, 2] image-left (subject's right), image-right outer lip corners
    half_width: float
    mid_u: np.ndarray  # inner-lip midline samples, u increasing
    mid_v: np.ndarray
    upper_thickness: float
    lower_thickness: float
    contours: tuple[np.ndarray, ...]  # outer upper, inner upper, inner lower, outer lower lip: [K, 2], u increasing

    def midline(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.mid_u, self.mid_v)

    def height(self, k: int, u: np.ndarray) -> np.ndarray:
        """v of contour ``k`` (0 outer upper, 1 inner upper, 2 inner lower, 3 outer lower) at ``u``."""
        c = self.contours[k]
        return np.interp(u, c[:, 0], c[:, 1])


def _mouth(uv: np.ndarray) -> _Mouth:
    up, lo = np.array(R.lips_inner_upper), np.array(R.lips_inner_lower)
    mid = (uv[up] + uv[lo]) / 2
    order = np.argsort(mid[:, 0])
    corners = uv[[R.lips_outer_upper[0], R.lips_outer_upper[-1]]]
    top, bottom = R.lips_outer_upper[len(R.lips_outer_upper) // 2], R.lips_outer_lower[len(R.lips_outer_lower) // 2]
    inner_top, inner_bottom = up[len(up) // 2], lo[len(lo) // 2]
    return _Mouth(
        centre=(uv[inner_top] + uv[inner_bottom]) / 2,
        corners=corners,
        half_width=max(float(corners[1, 0] - corners[0, 0]) / 2, 0.05),
        mid_u=mid[order, 0],
        mid_v=mid[order, 1],
        upper_thickness=max(float(uv[inner_top, 1] - uv[top, 1]), 0.03),
        lower_thickness=max(float(uv[bottom, 1] - uv[inner_bottom, 1]), 0.03),
        contours=tuple(c[np.argsort(c[:, 0])] for c in (uv[list(R.lips_outer_upper)], uv[up], uv[lo],
                                                         uv[list(R.lips_outer_lower)])),
    )


def _lid_profile(n: int) -> np.ndarray:
    """0 at the eye corners, 1 mid-lid."""
    return np.sin(np.linspace(0.0, np.pi, n))


def eye_closure(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Where the lids meet when closed, column by column (``upper``/``lower`` [..., n, 2] lid contours)."""
    return lower + EYE_CLOSURE_LINE * (upper - lower)


def _brow_field(uv: np.ndarray, brow: tuple[int, ...], upper_lid: tuple[int, ...],
                reach_above: float = 0.4, to_midline: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """How points ``uv`` [P, 2] move with one brow: (t [P], weight [P], toward-nose sign of u).

    ``t`` is the place along the brow (0 at its inner end, 1 at its outer end). ``weight`` is 1 on
    the brow, falls off over the forehead above it (a Gaussian ``reach_above`` IOD wide), linearly to 0 at the
    upper lid below it (the lid margin and the eye are the eye AUs' business) and smoothly beyond the brow's ends.
    ``brow`` lists the brow's upper row and then its lower row, each along the brow (in either direction).
    ``to_midline``: near the brows, the share of the inner end's motion that the midline keeps, from this side
    (None: the glabella's narrower falloff everywhere).
    """
    half = len(brow) // 2
    upper_row, lower_row = uv[list(brow[:half])], uv[list(brow[half:])]
    side = float(np.sign(upper_row[:, 0].mean()))
    inward = np.argsort(side * (upper_row[:, 0] + lower_row[:, 0]))  # inner end first
    upper_row, lower_row = upper_row[inward], lower_row[inward]
    along = side * (upper_row[:, 0] + lower_row[:, 0]) / 2  # distance from the face's midline
    line = (upper_row[:, 1] + lower_row[:, 1]) / 2
    lid = uv[list(upper_lid)]
    lid_order = np.argsort(side * lid[:, 0])
    a = side * uv[:, 0]
    t = np.clip((a - along[0]) / max(along[-1] - along[0], 1e-6), 0.0, 1.0)
    centre = np.interp(a, along, line)
    bottom = np.interp(a, along, lower_row[:, 1])
    lid_v = np.interp(a, side * lid[lid_order, 0], lid[lid_order, 1])
    above = np.exp(-0.5 * (np.minimum(uv[:, 1] - centre, 0.0) / reach_above) ** 2)
    below = np.clip((lid_v - uv[:, 1]) / np.maximum(lid_v - bottom, 0.05), 0.0, 1.0)
    vertical = np.where(uv[:, 1] <= bottom, above, below)
    # The brow's hairs reach past its outermost landmark: the temple follows further than the glabella.
    inner_reach = glabella_reach = 0.13
    if to_midline is not None:  # wider toward the midline near the brows, fading up the forehead
        midline_reach = along[0] / np.sqrt(-2.0 * np.log(to_midline))  # the Gaussian is `to_midline` at the midline
        near = np.exp(-0.5 * (np.minimum(uv[:, 1] - centre, 0.0) / MIDLINE_REACH_ABOVE) ** 2)
        inner_reach = glabella_reach + (midline_reach - glabella_reach) * near
    beyond = np.where(a < along[0], (along[0] - a) / inner_reach, np.where(a > along[-1], (a - along[-1]) / 0.3, 0.0))
    return t, vertical * np.exp(-0.5 * beyond ** 2), -side


def lower_lip_tuck(uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How the lower lip moves when it tucks up under the upper incisors (f, v): fields for points ``uv``
    [P, 2] (face coordinates, the 468/478 mesh first).

    (``follow`` [P]: the share of its inner edge's rise that each point follows, 1 on the inner edge,
    1/2 on the red's outer edge, fading over the skin below; ``roll`` [P, 2]: the displacement that hides
    the whole red behind the teeth, its outer edge moving up onto its inner edge, the skin below following).
    The renderer scales ``roll`` by `RenderConfig.tuck_roll` and raises the inner edge to the teeth.
    """
    uv = np.asarray(uv, np.float64)
    m = _mouth(uv)
    u, v = uv[:, 0], uv[:, 1]
    s = (u - m.centre[0]) / m.half_width
    in_mouth = 1.0 - _smoothstep((np.abs(s) - 0.85) / 0.45)
    below = (v > m.midline(u)).astype(np.float64)
    below[list(R.lips_inner_lower)] = 1.0
    below[[R.lips_inner_lower[0], R.lips_inner_lower[-1], R.lips_outer_lower[0], R.lips_outer_lower[-1]]] = 0.0
    inner_edge, outer_edge = m.height(2, u), m.height(3, u)
    thickness = np.maximum(outer_edge - inner_edge, 0.015)
    depth = (v - inner_edge) / thickness
    fade = np.exp(-0.5 * ((depth - 1.0) / 1.3) ** 2)
    follow = in_mouth * below * np.where(depth <= 1.0, 1.0 - 0.5 * np.clip(depth, 0.0, 1.0), 0.5 * fade)
    rise = in_mouth * below * np.where(depth <= 1.0, np.clip(depth, 0.0, 1.0), fade) * thickness
    return follow, np.stack([np.zeros_like(rise), -rise], axis=1)


INTERACTIONS: tuple[tuple[str, str], ...] = (("AU1", "AU4"), ("AU1", "AU2"))
"""AU pairs that move the face differently together than the sum of their parts (weight: the smaller
intensity). AU1+AU4: the inner brow ends rise while the brows are drawn together (FACS: the brow of grief).
AU1+AU2: the whole brow rises in an arch (FACS: the brow of surprise)."""


def interaction_weights(aus: np.ndarray) -> np.ndarray:
    """Weights [..., n_interactions] of the interaction basis for AU intensities [..., n_AU]."""
    aus = np.asarray(aus)
    return np.stack([np.minimum(aus[..., AU_INDEX[a]], aus[..., AU_INDEX[b]]) for a, b in INTERACTIONS], axis=-1)


def au_basis(uv: np.ndarray, n_mesh: int = 478, jaw_follow: np.ndarray | None = None) -> np.ndarray:
    """Displacement basis float64 [n_AU, P, 2] (face units) for points ``uv`` [P, 2] in face coordinates.

    The first ``n_mesh`` points are the face mesh in MediaPipe's order (468, or 478 with irises);
    any further points are extra skin points (e.g. rings around the head). ``jaw_follow`` [P]
    (0..1) says how much each point moves with the jaw and chin (default: 1 on the mesh, 0 beyond).
    """
    return rig_basis(uv, n_mesh, jaw_follow)[0]


def rig_basis(uv: np.ndarray, n_mesh: int = 478, jaw_follow: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(`au_basis`, interaction basis float64 [len(INTERACTIONS), P, 2] weighted by `interaction_weights`)."""
    uv = np.asarray(uv, np.float64)
    P = uv.shape[0]
    if n_mesh not in (468, 478) or P < n_mesh:
        raise ValueError(f"au_basis needs the 468 or 478 mesh points first, got n_mesh={n_mesh}, P={P}")
    if jaw_follow is None:
        jaw_follow = (np.arange(P) < n_mesh).astype(np.float64)
    basis = np.zeros((N_AU, P, 2))
    interaction = np.zeros((len(INTERACTIONS), P, 2))
    u, v = uv[:, 0], uv[:, 1]
    m = _mouth(uv)

    def add(name: str, weight: np.ndarray, du: float | np.ndarray, dv: float | np.ndarray) -> None:
        basis[AU_INDEX[name], :, 0] += weight * du
        basis[AU_INDEX[name], :, 1] += weight * dv

    # ---- mouth: which side of the lip line each point is on ----------------------------------
    s = (u - m.centre[0]) / m.half_width  # -1 / +1 at the lip corners
    below = (v > m.midline(u)).astype(np.float64)
    inner_up, inner_lo = np.array(R.lips_inner_upper), np.array(R.lips_inner_lower)
    below[inner_up] = 0.0
    below[inner_lo] = 1.0
    corner_idx = [inner_up[0], inner_up[-1], R.lips_outer_upper[0], R.lips_outer_upper[-1]]
    below[corner_idx] = 0.5
    lateral = np.abs(s)
    in_mouth = 1.0 - _smoothstep((lateral - 0.85) / 0.45)  # 1 between the corners, 0 beside them
    depth_below = v - m.midline(u)
    band_up = np.exp(-0.5 * (np.minimum(depth_below, 0) / (1.6 * m.upper_thickness)) ** 2)
    band_lo = np.exp(-0.5 * (np.maximum(depth_below, 0) / (1.6 * m.lower_thickness)) ** 2)
    lip_upper = in_mouth * (1 - below) * band_up  # upper lip and the skin just above it
    lip_lower = in_mouth * below * band_lo
    opening_profile = np.clip(1.0 - s * s, 0.0, 1.0) ** OPENING_TAPER  # 0 at the corners, 1 mid-mouth

    # ---- lip corners ----------------------------------------------------------------------
    for side, name_suffix, sign in ((0, "R", -1.0), (1, "L", 1.0)):  # image-left corner is subject's right
        c = m.corners[side]
        near = _gauss(uv, c, 0.2, 0.22, 0.18)
        add(f"AU12{name_suffix}", near, SMILE_PULL[0] * sign, -SMILE_PULL[1])  # back and up
        add(f"AU12{name_suffix}", _gauss(uv, (c[0], c[1] - 0.45), 0.25, 0.18, 0.25), 0.0, -0.035)  # cheek bulge
        add(f"AU14{name_suffix}", _gauss(uv, c, 0.15, 0.15), -0.04 * sign, -0.015)
        add("AU15", _gauss(uv, c, 0.15, 0.18, 0.24), 0.015 * sign, 0.13)  # the corner, not the middle of the lips
        add("AU20", _gauss(uv, c, 0.22, 0.2), 0.09 * sign, 0.02)
        add("AU18", _gauss(uv, c, 0.25, PUCKER_REACH_ABOVE, 0.2), -PUCKER_CORNER_IN["AU18"] * sign, 0.0)
        add("AU22", _gauss(uv, c, 0.22, PUCKER_REACH_ABOVE, 0.2), -PUCKER_CORNER_IN["AU22"] * sign, 0.0)
        add("AU23", _gauss(uv, c, 0.2, 0.2), -0.03 * sign, 0.0)
        add("AU24", _gauss(uv, c, 0.2, 0.2), -0.015 * sign, 0.0)
        add("AU27", _gauss(uv, c, 0.22, 0.2), -0.05 * sign, JAW_CORNER_DROP * JAW_DROP["AU27"])
        # The dropped jaw stretches the lips down: the corners come in and go down with it.
        add("AU26", _gauss(uv, c, 0.22, 0.2), -JAW_CORNER_IN * sign, JAW_CORNER_DROP * JAW_DROP["AU26"])

    # ---- lips: raise, lower, press, part ----------------------------------------------------
    upper_lift = in_mouth * (1 - below) * np.exp(-0.5 * (np.minimum(depth_below, 0) / 0.28) ** 2)
    add("AU10", upper_lift * (0.5 + 0.5 * opening_profile), 0.0, -0.07)
    add("AU16", lip_lower * (0.4 + 0.6 * opening_profile), 0.0, 0.07)
    add("AU16", in_mouth * below * (1 - band_lo) * np.exp(-0.5 * (depth_below / 0.35) ** 2), 0.0, 0.025)
    # AU23/AU24 narrow the red of the lips toward the lip line: each lip's outer edge moves toward
    # its inner edge by a share of the lip's height, the skin beyond is stretched after it.
    for k_inner, k_outer, sign in ((1, 0, 1.0), (2, 3, -1.0)):
        inner_edge, outer_edge = m.height(k_inner, u), m.height(k_outer, u)
        thickness = np.maximum(sign * (inner_edge - outer_edge), 0.015)
        depth = sign * (inner_edge - v) / thickness  # 0 at the inner edge, 1 at the outer edge
        side = (1 - below) if sign > 0 else below
        pull = np.where(depth <= 1.0, np.clip(depth, 0.0, 1.0), np.exp(-0.5 * ((depth - 1.0) / 1.3) ** 2))
        narrowing = in_mouth * side * pull * thickness * sign
        add("AU23", narrowing, 0.0, 0.5)
        add("AU24", narrowing, 0.0, 0.8)
        for name, share in LIP_EVERSION.items():
            add(name, narrowing, 0.0, -share)
    add("AU18", lip_upper, 0.0, -0.01)
    add("AU18", lip_lower, 0.0, 0.01)
    chin_boss = _gauss(uv, (m.centre[0], m.centre[1] + 0.45), 0.3, 0.2, 0.2) * jaw_follow
    add("AU17", chin_boss, 0.0, -0.05)
    add("AU17", lip_lower, 0.0, -0.03)
    add("AU17", lip_upper, 0.0, -0.015)
    open25 = LIP_OPENING["AU25"]
    add("AU25", lip_upper * opening_profile, 0.0, -0.3 * open25)
    add("AU25", lip_lower * opening_profile, 0.0, 0.7 * open25)
    add("AU22", lip_upper * opening_profile, 0.0, -0.02)
    add("AU22", lip_lower * opening_profile, 0.0, 0.03)
    sides = in_mouth * np.clip((lateral - 0.35) / 0.45, 0.0, 1.0) * np.clip((1.0 - lateral) / 0.15, 0.0, 1.0)
    for name, amount in ROUND_OPENING.items():  # the outer thirds close; at the corners the lips meet anyway
        add(name, lip_upper * sides, 0.0, 0.5 * amount)
        add(name, lip_lower * sides, 0.0, -0.5 * amount)

    # ---- jaw: the lower face turns about the ears ----------------------------------------------
    jaw_lateral = np.clip(1.0 - ((u - m.centre[0]) / 1.0) ** 2, 0.0, 1.0) ** 0.7
    beside = _smoothstep((v - m.midline(u) + 0.25) / 0.4)  # cheeks beside the mouth: a smooth ramp
    # Near the lip line the drop follows a lens: most mid-mouth, hardly at the corners and beside them (the
    # commissures are tied to the upper lip), so the opening is a lens, not a box. Below, the jaw is bone and drops
    # as one piece. The lens fades with depth under the lip in every column: switched on and off with the mouth's
    # columns, it sheared the skin beside the chin into a fold (a dropped jaw's jowls cut in two), and a chin held
    # up under the corners bulged beside it.
    lens_profile = JAW_CORNER_SHARE + (1.0 - JAW_CORNER_SHARE) * opening_profile
    lens_band = np.exp(-0.5 * (np.maximum(depth_below, 0) / (JAW_LENS_DEPTH * m.lower_thickness)) ** 2)
    under_lips = 1.0 + lens_band * (lens_profile - 1.0)
    jaw_move = jaw_lateral * (in_mouth * below + (1 - in_mouth) * beside) * under_lips * jaw_follow
    for name in ("AU26", "AU27"):
        opening = LIP_OPENING[name]
        add(name, jaw_move, 0.0, JAW_DROP[name])
        add(name, lip_upper * opening_profile, 0.0, -0.05 * opening)

    # ---- nose ------------------------------------------------------------------------------
    wings = _gauss(uv, uv[129], 0.12, 0.12) + _gauss(uv, uv[358], 0.12, 0.12)
    add("AU9", wings, 0.0, -0.05)
    add("AU9", upper_lift, 0.0, -0.03)
    add("AU10", wings, 0.0, -0.02)

    # ---- brows ---------------------------------------------------------------------------
    # Each brow moves as a whole along its length (t: 0 at the inner end, 1 at the outer end);
    # the forehead above follows, the skin below is compressed or stretched down to the lid.
    for brow, (upper, _) in ((R.brow_right, R.eye("right")), (R.brow_left, R.eye("left"))):
        t, weight, toward_nose = _brow_field(uv, brow, upper)
        inner, outer = (1 - t), t
        frontalis = _brow_field(uv, brow, upper, to_midline=FRONTALIS_MIDLINE)[1]
        add("AU1", frontalis, 0.0, -0.15 * inner ** 1.4)
        add("AU2", frontalis, 0.0, -0.15 * outer ** 1.4)
        add("AU4", weight, 0.07 * toward_nose * inner ** 1.5, 0.13 - 0.08 * t)
        add("AU9", weight, 0.015 * toward_nose * inner ** 2, 0.04 * inner ** 2)
        add("AU6", weight, 0.0, 0.02 * outer)
        # AU1 with AU4: the inner ends rise (the grief brow); the forehead above bunches rather than following.
        grief = _brow_field(uv, brow, upper, reach_above=GRIEF_REACH)[1]
        interaction[0, :, 1] += grief * -GRIEF_RISE * inner ** 2
        interaction[1, :, 1] += frontalis * -SURPRISE_ARCH * np.sin(np.pi * np.clip(t, 0.0, 1.0))
        interaction[1, :, 1] += frontalis * -SURPRISE_LEVEL * outer ** 1.4

    # ---- eyes ------------------------------------------------------------------------------
    for side in ("right", "left"):
        upper, lower = (np.array(x) for x in R.eye(side))
        profile = _lid_profile(len(upper))
        centre = (uv[upper[0]] + uv[upper[-1]]) / 2
        lids = np.zeros(P)
        up_w = np.zeros(P)
        up_w[upper] = profile
        lo_w = np.zeros(P)
        lo_w[lower] = profile
        lids[upper] = 1
        lids[lower] = 1
        skin_above = _gauss(uv, (centre[0], centre[1] - 0.06), 0.22, 0.1, 0.0001) * (1 - lids)
        skin_below = _gauss(uv, (centre[0], centre[1] + 0.08), 0.22, 0.0001, 0.12) * (1 - lids)
        add("AU5", up_w, 0.0, -0.05)
        add("AU5", skin_above, 0.0, -0.025)
        add("AU7", lo_w, 0.0, -0.04)
        add("AU7", up_w, 0.0, 0.012)
        add("AU7", skin_below, 0.0, -0.015)
        add("AU6", lo_w, 0.0, -0.025)
        add("AU6", _gauss(uv, (centre[0], centre[1] + 0.38), 0.25, 0.15, 0.18), 0.0, -0.04)
        add("AU4", up_w, 0.0, 0.02)
        closed = eye_closure(uv[upper], uv[lower])
        basis[AU_INDEX["AU45"], upper] += closed - uv[upper]
        basis[AU_INDEX["AU45"], lower] += closed - uv[lower]
        gap = float(np.max(uv[lower, 1] - uv[upper, 1]))
        add("AU45", skin_above, 0.0, 0.3 * (1 - EYE_CLOSURE_LINE) * gap)
        iris = list(R.iris_right if side == "right" else R.iris_left)
        if n_mesh == 478:  # the iris follows the lids' mean motion
            for name in ("AU5", "AU6", "AU7", "AU45"):
                k = AU_INDEX[name]
                basis[k, iris] += (basis[k, upper].mean(axis=0) + basis[k, lower].mean(axis=0)) / 2
    return basis, interaction
