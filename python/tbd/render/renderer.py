"""Renderer: motion frames -> video frames, by warping the portrait with the face rig.

Per face, once: the warp mesh, the portrait's own expression undone (calibrated so that its
smile and lip gap are undone exactly), the AU displacement basis in pixels drawn on the face
that leaves, and the portrait's teeth. Per frame: ``vertices = rest + basis · (target − source)``
over the AUs and their interactions (`tbd.face.rig.INTERACTIONS`), then the non-linear parts
(lips may touch but not cross, lids close onto a closure line, the head turns in 3D using each
vertex's depth), the piecewise-affine warp (`tbd.kernels.mesh_warp`), the mouth interior where
the lips part (teeth held by the skull and the jaw) and a clean meeting line where the
portrait's open lips close.

Pose channels are rotations *relative to the portrait's own pose* (radians): pitch (chin
down), yaw (toward the subject's left, i.e. the nose moves to image right) and roll
(clockwise on screen). Gaze moves the irises: x toward image right, y down, in -1..1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from tqdm.auto import tqdm

from .. import kernels
from ..face.detect import as_rgb
from ..face.fit import rotation
from ..face.measure import eye_openness, eye_widths
from ..face.model import FaceModel
from ..face.rig import (AU_INDEX, INTERACTIONS, JAW_DROP, LIP_OPENING, N_AU, eye_closure, interaction_weights,
                        lower_lip_tuck, rig_basis)
from ..face.topology import MEDIAPIPE_REGIONS as R
from ..motion import Motion
from ..motion import channels as ch
from ..motion.arkit import lip_tuck
from .paint import (Teeth, arch_side_scale, draw_contact_shadow, draw_eyelid, draw_lip_line, draw_mouth,
                    draw_uncovered_eye)
from .portrait import clean_lip_line, eye_brightness, find_source_teeth, iris_circle, make_palette
from .appearance import build_appearance
from .config import RenderConfig
from .mesh import EYE_ROWS, JAW_FOLLOW, N_FACE, WarpMesh, build_mesh, interpolate

_AU = np.array(ch.indices(ch.AU_CHANNELS))
_POSE = np.array(ch.indices(ch.POSE_CHANNELS))
_GAZE = np.array(ch.indices(ch.GAZE_CHANNELS))
_BLINK = AU_INDEX["AU45"]
_LID_RAISER = AU_INDEX["AU5"]
_OPENING = [AU_INDEX[name] for name in LIP_OPENING]
_JAW = [AU_INDEX[name] for name in JAW_DROP]
# The lip-corner AUs pull, stretch or depress the corners; the lips between them move together, neither parting nor
# pressing (FACS: with no AU25, AU12, AU14, AU15 and AU20 leave the lips closed).
_LIP_CORNER = [AU_INDEX[name] for name in ("AU12L", "AU12R", "AU14L", "AU14R", "AU15", "AU20")]


def _ramp(x: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """0 below ``band[0]``, 1 from ``band[1]`` on, linear between."""
    return np.clip((x - band[0]) / max(band[1] - band[0], 1e-6), 0.0, 1.0)


class Renderer:
    """Animate one portrait: ``Renderer(image, face).render(motion) -> uint8 [T, H, W, 3]``.

    ``image`` is the uint8 RGB [H, W, 3] portrait that ``face`` (from `tbd.face.detect`) was
    detected in. ``chunk`` frames are warped at a time, which bounds the working memory.
    ``config`` holds every tunable (`RenderConfig`).
    """

    def __init__(self, image: np.ndarray, face: FaceModel, *, chunk: int = 16,
                 config: RenderConfig | None = None) -> None:
        image = as_rgb(image)
        if tuple(image.shape[:2]) != tuple(face.image_size):
            raise ValueError(f"image is {image.shape[1]}x{image.shape[0]} but the face was detected in a "
                             f"{face.image_size[1]}x{face.image_size[0]} image; detect on this image")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.image = image
        self.face = face
        self.config = config or RenderConfig()
        cfg = self.config
        self._gain = cfg.gains(ch.AU_CHANNELS)
        self._ceiling = cfg.ceilings(ch.AU_CHANNELS)
        self.chunk = int(chunk)
        self.mesh: WarpMesh = build_mesh(face)
        self._outer_corner_indices = [R.lips_outer_upper[0], R.lips_outer_upper[-1]]  # image-left, image-right
        source = np.zeros(ch.N_CHANNELS, dtype=np.float32)
        for name, value in face.source_aus.items():
            source[ch.index(name)] = value
        # A broad smile bunches the cheeks even where the detector reports no AU6: undo them too.
        smile = min(source[ch.index("AU12L")], source[ch.index("AU12R")])
        inferred = max(cfg.smile_cheek_share * smile - source[ch.index("AU6")], 0.0)
        source[ch.index("AU6")] += inferred
        # The detector read those cheeks' narrowing of the eyes as lid tightening: do not undo it twice.
        source[ch.index("AU7")] = max(source[ch.index("AU7")] - cfg.smile_squint_share * inferred, 0.0)
        self._source_aus = source[_AU].astype(np.float64)
        self._source_weights = np.concatenate([self._source_aus, interaction_weights(self._source_aus)])
        self._undo_scale = np.ones(N_AU)  # how much further than its intensity each AU of the portrait is undone
        self._source_gap = self._centre_gap(self.mesh.vertices[None])[0]
        self._source_gaps = self._column_gaps(self.mesh.vertices[None])[0]
        self.photographed_open = bool(self._source_gap >= cfg.open_source_gap * self.mesh.frame.scale)
        """Whether the portrait's lips are parted (`RenderConfig.open_source_gap`)."""
        self._basis = self._pixel_basis()  # [N_AU + n_interactions, V * 2]
        self.source_values = source.copy()
        self.source_values[_AU] = cfg.requested(source[_AU] * self._undo_scale, self._gain, self._ceiling)
        """Motion values [n_channels] that reproduce the portrait's own expression."""
        self._source_weights = self._source_weights.astype(np.float32)
        self._gaze = self._gaze_basis()  # [2, V * 2]
        frame = self.mesh.frame
        self.eyes_open = np.minimum.reduce([_ramp(np.array(eye_openness(face)), cfg.closed_eye_openness),
                                            _ramp(eye_brightness(image, face.mesh), cfg.hidden_eye_brightness),
                                            _ramp(np.array(eye_widths(face)), cfg.hidden_eye_width)])
        """How far each eye (the subject's right, left) moves, 0..1: 0 for a shut eye, one behind dark glasses or
        the far eye of a face turned far from the camera, which stays as the portrait shows it (no blink, gaze or
        raised lid)."""
        self._hold_shut_eyes()
        self._pivot = frame.to_image(np.array(cfg.pivot))
        self._pivot_depth = cfg.pivot_depth * frame.scale
        self._palette = make_palette(image, face.mesh, frame.scale, frame.axes[1])
        # An open mouth's cavity and teeth pixels past the landmarks are lip-coloured before its lips close; a
        # closed mouth's dark seam is its own lip line and stays (filled, the lips looked fused into one band).
        self._texture = clean_lip_line(image, face.mesh, frame.scale) if self.photographed_open else image.copy()
        self._appearance = build_appearance(
            self._texture, face.mesh, frame, self._source_aus, cfg, raised=self._posed_skin(cfg.forehead_raise),
            grieved=self._posed_skin(cfg.grief_pose), lowered=self._posed_skin(cfg.frown_pose),
        ) if cfg.appearance else None
        self._painted = self._texture.copy()  # one frame's texture with its appearance (painted in the face's box)
        self._source_teeth = find_source_teeth(
            image, face.mesh[list(R.lips_inner_upper)], face.mesh[list(R.lips_inner_lower)], self._palette.teeth
        ) if self.photographed_open else None
        self._teeth_rest = self._teeth_at_rest()
        self._tuck_follow, self._tuck_roll = self._tuck_fields()
        self._lid_skin = self._lid_skin_band()
        self._irises = self._iris_anchors()
        self._blink_source = min(self._source_aus[_BLINK], cfg.max_source_blink) * self.eyes_open  # per eye

    # ---- precomputation ------------------------------------------------------------------
    def _iris_anchors(self) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """Per eye: the iris centre in the portrait (px), its radius (px), and the interior eye vertices at its
        column, which carry it (gaze, the head's turn)."""
        anchors = []
        for eye, side in zip(self.mesh.eyes, ("right", "left")):
            centre, radius = iris_circle(self.face.mesh, side)
            column = int(round(eye.iris_u * (eye.rows.shape[1] - 1)))
            anchors.append((centre, radius, eye.rows[1:-1, column]))
        return anchors

    def _hold_shut_eyes(self) -> None:
        """Scale each eye's lid raise (AU5) and gaze by how far it may open (`eyes_open`): a shut eye stays shut."""
        V = len(self.mesh.vertices)
        raiser = self._basis.reshape(len(self._basis), V, 2)[_LID_RAISER]
        gaze = self._gaze.reshape(2, V, 2)
        # Each half of the face takes its own eye's share (the lid raise reaches the skin above the lid).
        u = self.mesh.frame.to_face(self.mesh.vertices.astype(np.float64))[:, 0]
        eye_u = np.array([u[eye.rows].mean() for eye in self.mesh.eyes])
        share = self.eyes_open[np.argmin(np.abs(u[:, None] - eye_u[None]), axis=1)].astype(np.float32)
        raiser *= share[:, None]
        gaze *= share[None, :, None]

    def _pixel_basis(self) -> np.ndarray:
        """The rig's displacement basis in px [N_AU + n_interactions, V * 2], drawn on the relaxed face; sets
        `_rest`, where the vertices are for the portrait's own AU weights, so that no AUs give the relaxed face.

        The portrait's own expression is undone with a basis drawn on the portrait as it is (and calibrated, so
        that it is undone fully); what is asked is drawn with a basis drawn on the face it leaves. Drawn on a
        smiling portrait, the mouth's shape (its corners, its lip line) came from the smile: a requested opening
        fell off toward the smile's far corners, not the relaxed mouth's, and opened as a box with clipped ends.
        """
        mesh = self.mesh
        n_rings = mesh.rings.size
        portrait = np.concatenate([self.face.mesh.astype(np.float64), mesh.vertices[-n_rings:]])
        basis = self._basis_at(portrait)
        self._rest_offset = np.zeros((len(mesh.vertices), 2))  # what undoes the portrait beyond its AUs (px)
        self._calibrate_corners(basis)
        self._calibrate_opening(basis)
        self._narrow_smile(basis)
        self._smooth_rest_line(basis)
        relaxed = self._relaxed(basis)
        self._rest_lip = relaxed[mesh.lips_upper]  # where the relaxed upper lip rests, px
        relaxed_points = portrait.copy()
        relaxed_points[:N_FACE] = relaxed[:N_FACE]
        relaxed_points[len(self.face.mesh):] = relaxed[-n_rings:]
        basis = self._basis_at(relaxed_points)
        if self.photographed_open:
            self._move_lips_together(basis)
        # The jaw (and the lower teeth) drops with the middle of the lower lip for the jaw AUs.
        middle = mesh.lips_lower[len(mesh.lips_lower) // 2]
        self._jaw_rates = [(k, float(basis[k, middle] @ mesh.frame.axes[1])) for k in _JAW]
        self._rest = (relaxed + np.einsum("a,avc->vc", self._source_weights, basis)).astype(np.float32)
        return basis.reshape(len(basis), -1).astype(np.float32)

    def _move_lips_together(self, basis: np.ndarray) -> None:
        """Give each inner-lip column's two lips the same up-down motion in the lip-corner AUs' basis (in place).

        On a closed-mouthed portrait these AUs barely change the lips' gap (under 1 % of the eyes' distance), as the
        rig's falloffs are laid out for; on the relaxed mouth of a portrait photographed open-mouthed, its inner
        contours' columns do not sit where those falloffs expect them, and a smile asked with closed lips parted them
        unevenly by a few pixels: a jagged sliver of cavity along the lip line.
        """
        axis = self.mesh.frame.axes[1]
        up, lo = self.mesh.lips_upper[1:-1], self.mesh.lips_lower[1:-1]
        parting = (basis[_LIP_CORNER][:, lo] - basis[_LIP_CORNER][:, up]) @ axis  # [n, K]
        basis[np.ix_(_LIP_CORNER, up)] += 0.5 * parting[..., None] * axis
        basis[np.ix_(_LIP_CORNER, lo)] -= 0.5 * parting[..., None] * axis

    def _basis_at(self, points: np.ndarray) -> np.ndarray:
        """The rig's basis [N_AU + n_interactions, V, 2] (px) for the face mesh and its outer rings at ``points``
        [len(face.mesh) + n_rings, 2] (px); the eyes' interior rows follow their lids."""
        mesh = self.mesh
        n_face_mesh, n_rings = len(self.face.mesh), mesh.rings.size
        follow = np.concatenate([np.ones(n_face_mesh), np.repeat(JAW_FOLLOW, mesh.rings.shape[1])])
        basis_uv, interaction_uv = rig_basis(mesh.frame.to_face(points), n_mesh=n_face_mesh, jaw_follow=follow)
        basis_uv = np.concatenate([basis_uv, interaction_uv])
        V = len(mesh.vertices)
        basis = np.zeros((N_AU + len(INTERACTIONS), V, 2))
        basis[:, :N_FACE] = basis_uv[:, :N_FACE]
        basis[:, V - n_rings:] = basis_uv[:, n_face_mesh:]
        for eye in mesh.eyes:  # interior eye rows move between their lids
            upper, lower = eye.rows[0, 1:-1], eye.rows[-1, 1:-1]
            for k, t in enumerate(EYE_ROWS, start=1):
                basis[:, eye.rows[k, 1:-1]] = (1 - t) * basis[:, upper] + t * basis[:, lower]
                # The upper lid rises over the eyeball (AU5 uncovers it; `_finish` paints it), which stays.
                basis[_LID_RAISER, eye.rows[k, 1:-1]] = t * basis[_LID_RAISER, lower]
        basis[_BLINK] = 0.0  # blinks close exactly in _close_eyes
        return mesh.frame.vectors_to_image(basis)

    def _posed_skin(self, pose: dict[str, float]) -> Callable[[np.ndarray], np.ndarray]:
        """How far the warp moves portrait points [P, 2] px (px [P, 2]) in a frame that asks for ``pose`` (requested
        AU intensities by name): the portrait's own expression undone, the pose drawn."""
        requested = np.zeros(N_AU, np.float32)
        for name, value in pose.items():
            requested[AU_INDEX[name]] = value
        drawn = self.config.drawn(requested, self._gain, self._ceiling)
        weights = np.concatenate([drawn, interaction_weights(drawn)]) - self._source_weights
        shift = (self._rest - self.mesh.vertices).astype(np.float64) \
            + (weights @ self._basis).reshape(len(self.mesh.vertices), 2)
        vertices, triangles = self.mesh.vertices, self.mesh.triangles
        return lambda points: interpolate(vertices, triangles, shift, points)

    def _relaxed(self, basis: np.ndarray) -> np.ndarray:
        """The portrait's vertices [V, 2] (px) with its own expression undone, as far as `_rest_offset` says so far."""
        return self.mesh.vertices + self._rest_offset - np.einsum("a,avc->vc", self._source_weights, basis)

    def _calibrate_corners(self, basis: np.ndarray) -> None:
        """Undo the portrait's own smile (or frown) fully where the rig's share falls short (added to `_rest_offset`).

        A broad smile raises the corners further than its AU12 intensity times the rig's lift;
        undone at the rig's rate, a neutral target would still smile. Each side's AU12 (or AU15) is
        undone up to `max_corner_calibration` times as far, so that the target with no AUs has level corners.
        The shortfall is a fixed offset: scaling the AU's basis instead also scaled every smile asked of a
        smiling portrait (1.2-1.5x on the development photos, unevenly between its sides).
        """
        frame = self.mesh.frame
        verts = self.mesh.vertices.astype(np.float64)
        neutral = self._relaxed(basis)
        up, lo = self.mesh.lips_upper, self.mesh.lips_lower
        mid = len(up) // 2

        def heights(points: np.ndarray) -> np.ndarray:  # corner height above the lips' centre, IOD units
            v = (points @ frame.axes[1]) / frame.scale  # differences of v only: points or displacements alike
            return (v[up[mid]] + v[lo[mid]]) / 2 - v[self._outer_corner_indices]

        level = heights(neutral) - self.config.level_corners
        frown = AU_INDEX["AU15"]  # one channel for both corners
        for k, smile in enumerate((AU_INDEX["AU12R"], AU_INDEX["AU12L"])):
            name = smile if level[k] > 0 else frown
            strength = self._source_aus[name]
            if strength < 0.2 or name == frown and self._source_aus[smile] > 0:
                continue
            per_unit = abs(heights(basis[name])[k])
            factor = float(np.clip(1.0 + abs(level[k]) / max(strength * per_unit, 1e-6), 1.0,
                                   self.config.max_corner_calibration))
            side = (frame.to_face(verts)[:, 0] < frame.to_face(verts[[up[mid]]])[0, 0]) == (k == 0)
            shortfall = (factor - 1.0) * strength * basis[name]
            if name == frown:  # AU15 is one channel for both sides: this side only
                shortfall[~side] = 0.0
            self._rest_offset -= shortfall
            self._undo_scale[name] = max(self._undo_scale[name], factor)  # AU15: the side undone further

    def _calibrate_opening(self, basis: np.ndarray) -> None:
        """Undo the portrait's own lip gap exactly, column by column, without changing how far the opening AUs open.

        The portrait's other AUs (a raised upper lip, a smile) part the lips too; what they do not
        explain is the opening AUs' share. Undone at the rig's nominal rate the gap would stay open
        or the lips would close past each other, and the relaxed lips would not meet. The shortfall
        becomes a fixed offset of the lip rows (`_rest_offset`): scaling the opening AUs' basis
        instead would also shrink every requested opening of a portrait that smiles with open lips.
        """
        s = self._source_aus[_OPENING]
        if s.sum() <= 0:
            return
        axis = self.mesh.frame.axes[1]
        up, lo = self.mesh.lips_upper[1:-1], self.mesh.lips_lower[1:-1]
        verts = self.mesh.vertices + self._rest_offset  # as far as undone already
        actual = (verts[lo] - verts[up]) @ axis
        rows = basis[:, lo] - basis[:, up]  # [n, K, 2]
        by_each = np.einsum("a,akc,c->ak", self._source_weights, rows, axis)
        opening = np.zeros(len(basis), bool)
        opening[_OPENING] = True
        predicted = by_each[opening].sum(axis=0)
        others = by_each[~opening].sum(axis=0)
        factor = np.ones_like(actual)
        ok = predicted > 1e-6
        factor[ok] = np.clip((actual[ok] - others[ok]) / predicted[ok], *self.config.opening_calibration)
        weights = self._source_weights[_OPENING]
        for rows_idx in (up, lo):
            undone = np.einsum("a,akc->kc", weights, basis[_OPENING][:, rows_idx])
            self._rest_offset[rows_idx] -= (factor[:, None] - 1.0) * undone

    def _narrow_smile(self, basis: np.ndarray) -> None:
        """Give a smiling portrait's relaxed mouth its resting width (added to `_rest_offset`).

        A broad smile stretches the mouth wider than its AU12 intensity times the rig's sideways
        pull: undone at that rate, the relaxed mouth stayed as wide as a grin, and every open mouth
        drawn on it (speech, surprise, anger) read as a smile again. The corners move in, the lips
        and cheeks beside them with AU12's own falloff, until the mouth is its smiling width /
        (1 + `smile_widening` x AU12). A requested smile keeps its nominal width.
        """
        smile = [AU_INDEX["AU12R"], AU_INDEX["AU12L"]]
        strength = float(np.mean(self._source_aus[smile]))
        if strength < 0.2:
            return
        frame = self.mesh.frame
        across = frame.axes[0]
        corners = self._outer_corner_indices
        verts = self.mesh.vertices.astype(np.float64)
        upper_middle = verts[self.mesh.lips_upper[len(self.mesh.lips_upper) // 2]]
        lift = float(np.mean((upper_middle - verts[corners]) @ frame.axes[1])) / frame.scale
        if lift < self.config.smile_min_corner_lift:
            return
        relaxed = self._relaxed(basis)
        width = float((relaxed[corners[1]] - relaxed[corners[0]]) @ across)
        target = float((verts[corners[1]] - verts[corners[0]]) @ across) / (1.0 + self.config.smile_widening
                                                                            * strength)
        if width <= target:
            return
        for name, corner in zip(smile, corners):
            pull = basis[name] @ across  # outward at this corner, fading away from it
            self._rest_offset -= np.outer(pull / abs(pull[corner]) * (width - target) / 2, across)

    def _smooth_rest_line(self, basis: np.ndarray) -> None:
        """Take the kinks out of the relaxed lips' meeting line (added to `_rest_offset`).

        Undoing a broad smile leaves the columns next to the corners lower than the corners
        themselves (the lips' line dips, then turns up at its ends): an upturned line that reads as
        a smile. A few steps of Laplacian smoothing, ends fixed, move whole columns (both lips, so
        the gap is kept) and leave a natural arch or a straight line as it was.
        """
        axis = self.mesh.frame.axes[1]
        up, lo = self.mesh.lips_upper, self.mesh.lips_lower
        neutral = self._relaxed(basis)
        height = ((neutral[up] + neutral[lo]) / 2) @ axis
        smoothed = height.copy()
        for _ in range(self.config.rest_line_smoothing):
            smoothed[1:-1] = 0.5 * smoothed[1:-1] + 0.25 * (smoothed[:-2] + smoothed[2:])
        shift = (smoothed - height)[:, None] * axis[None]
        self._rest_offset[up] += shift
        self._rest_offset[lo] += shift

    def _teeth_at_rest(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
        """(upper edge [K, 2], lower edge with the jaw closed [K, 2], centre [2]) in px, from the relaxed lip line,
        and how much wider than the mean each half of the arch looks (`Teeth.side_scale`).

        Where the portrait shows its teeth further down than `RenderConfig.upper_teeth_drop` below the
        relaxed upper lip, its own upper teeth say where their edge is (at least).
        """
        frame, cfg = self.mesh.frame, self.config
        line = frame.to_face(self._rest_lip)
        middle = len(line) // 2
        drop = max(cfg.upper_teeth_drop, min(self._shown_teeth_drop(), cfg.max_teeth_drop))
        side_scale = arch_side_scale(line, cfg.max_arch_side_scale)
        across = line[:, 0] - line[middle, 0]
        arc = (across / np.where(across < 0, *side_scale) / 0.3) ** 2
        upper = line + np.stack([np.zeros(len(line)), drop - cfg.upper_teeth_arc * arc], axis=1)
        lower = line + np.stack([np.zeros(len(line)), drop - cfg.lower_teeth_arc * arc], axis=1)
        return frame.to_image(upper), frame.to_image(lower), frame.to_image(upper[middle]), side_scale

    def _shown_teeth_drop(self) -> float:
        """How far below the relaxed upper lip the portrait's own upper teeth reach mid-mouth (IOD; 0: none shown)."""
        teeth = self._source_teeth
        if teeth is None:
            return 0.0
        frame = self.mesh.frame
        rest = self._rest_lip
        lip = self.mesh.vertices[self.mesh.lips_upper].astype(np.float64)
        centre_x = float(rest[len(rest) // 2, 0])
        drops = []
        half = 0.15 * frame.scale * frame.across
        for x in np.arange(np.floor(centre_x - half), np.ceil(centre_x + half) + 1):
            column = int(x - teeth.origin[0])
            if not 0 <= column < teeth.weight.shape[1]:
                continue
            start = int(max(np.interp(x, lip[:, 0], lip[:, 1]) - teeth.origin[1], 0))
            run = teeth.weight[start:, column] > 0.5
            if not run.any():
                continue
            first = int(np.argmax(run))
            length = int(np.argmin(run[first:])) if not run[first:].all() else len(run) - first
            bottom = teeth.origin[1] + start + first + length
            drops.append((bottom - np.interp(x, rest[:, 0], rest[:, 1])) / frame.scale)
        return float(np.median(drops)) if len(drops) >= 3 else 0.0

    def _lid_skin_band(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per eye, the vertices above its upper lid up to ``lid_skin_reach`` (vertex indices [n]), each with the lid
        point beneath it (two lid vertices [n, 2] and the weight of the second [n]) and its height above that point
        [n] (px)."""
        frame, verts = self.mesh.frame, self.mesh.vertices.astype(np.float64)
        uv = frame.to_face(verts)
        margin, reach = self.config.lid_skin_margin, self.config.lid_skin_reach * frame.scale
        bands = []
        for eye in self.mesh.eyes:
            lid = eye.rows[0]
            order = np.argsort(uv[lid, 0])
            lid = lid[order]
            place = np.interp(uv[:, 0], uv[lid, 0], np.arange(len(lid), dtype=np.float64))
            k = np.minimum(place.astype(np.int64), len(lid) - 2)
            weight = place - k
            under = (1 - weight)[:, None] * verts[lid[k]] + weight[:, None] * verts[lid[k + 1]]
            height = (under - verts) @ frame.axes[1]
            # Beyond the eye's corners (the inner brow end over the canthus) the corner is the floor.
            span = (uv[:, 0] >= uv[lid[0], 0] - margin) & (uv[:, 0] <= uv[lid[-1], 0] + margin)
            band = span & (height > 0.5) & (height < reach)
            band[eye.rows.ravel()] = False
            index = np.flatnonzero(band)
            bands.append((index, np.stack([lid[k[index]], lid[k[index] + 1]], 1), weight[index], height[index]))
        return bands

    def _keep_lid_skin(self, dst: np.ndarray) -> None:
        """Push back up (in place) the skin that a lowered brow squeezes onto an upper lid [F, V, 2]: each band
        vertex keeps ``lid_skin_min_share`` of its height above the lid at least, eased in from twice that, so
        a column of skin is squeezed evenly and never folds over the lid."""
        k = self.config.lid_skin_min_share
        if k <= 0:
            return
        axis = self.mesh.frame.axes[1]
        for index, pair, weight, rest in self._lid_skin:
            under = (1 - weight)[None, :, None] * dst[:, pair[:, 0]] + weight[None, :, None] * dst[:, pair[:, 1]]
            share = ((under - dst[:, index]) @ axis) / rest  # [F, n] the height left, as a share of the rest
            eased = np.where(share >= 2 * k, share, k + k * np.exp(np.minimum(share - 2 * k, 0.0) / k))
            dst[:, index] -= ((eased - share) * rest)[..., None] * axis

    def _tuck_fields(self) -> tuple[np.ndarray, np.ndarray]:
        """`lower_lip_tuck`'s fields on the warp mesh: (follow [V], roll [V, 2] px at tuck_roll)."""
        frame, V = self.mesh.frame, len(self.mesh.vertices)
        follow, roll = lower_lip_tuck(frame.to_face(self.face.mesh.astype(np.float64)))
        full_follow, full_roll = np.zeros(V, np.float32), np.zeros((V, 2), np.float32)
        full_follow[:N_FACE] = follow[:N_FACE]
        full_roll[:N_FACE] = frame.vectors_to_image(roll[:N_FACE] * self.config.tuck_roll)
        return full_follow, full_roll

    def _teeth(self, aus: np.ndarray, lip_shift: np.ndarray) -> list[Teeth]:
        """Each frame's teeth: the upper edge stays with the skull, the lower drops with the jaw; both turn with the
        head (a turn also widens one half of the arch and narrows the other, as it does the relaxed mouth's halves).
        """
        frame = self.mesh.frame
        upper, lower, centre, rest_sides = self._teeth_rest
        jaw = sum(aus[:, k] * rate for k, rate in self._jaw_rates)  # [F] px
        jaw_source = sum(self._source_aus[k] * rate for k, rate in self._jaw_rates)
        middle = lip_shift.shape[1] // 2
        teeth = []
        for drop, shift in zip(jaw, lip_shift.astype(np.float64)):
            skull = shift[middle]
            sides = arch_side_scale(frame.to_face(self._rest_lip + shift), self.config.max_arch_side_scale) \
                if shift.any() else rest_sides
            teeth.append(Teeth(upper + shift, lower + shift + drop * frame.axes[1], centre + skull, frame.axes[0],
                               frame.scale, skull, skull + (drop - jaw_source) * frame.axes[1], frame.across, sides))
        return teeth

    def _gaze_basis(self) -> np.ndarray:
        V = len(self.mesh.vertices)
        verts = self.mesh.vertices.astype(np.float64)
        gaze = np.zeros((2, V, 2))
        for eye in self.mesh.eyes:
            rows = eye.rows
            corner_a, corner_b = verts[rows[0, 0]], verts[rows[0, -1]]
            along = corner_b - corner_a
            width = float(np.hypot(*along))
            n_cols = rows.shape[1]
            u = np.linspace(0.0, 1.0, n_cols)
            weight = np.exp(-0.5 * ((u - eye.iris_u) / (1.6 * eye.iris_radius)) ** 2) * np.sin(np.pi * u)
            opening = np.maximum((verts[rows[-1]] - verts[rows[0]]) @ self.mesh.frame.axes[1], 0.0)
            for r in range(1, rows.shape[0] - 1):
                gaze[0, rows[r]] += (self.config.gaze_range[0] * width * weight)[:, None] * (along / max(width, 1e-9))
                gaze[1, rows[r]] += (self.config.gaze_range[1] * opening * weight)[:, None] * self.mesh.frame.axes[1]
            gaze[1, rows[0]] += (0.12 * opening * weight)[:, None] * self.mesh.frame.axes[1]  # the lid follows
        return gaze.reshape(2, -1).astype(np.float32)

    # ---- per frame ---------------------------------------------------------------------------
    def _centre_gap(self, vertices: np.ndarray) -> np.ndarray:
        mid = len(self.mesh.lips_upper) // 2
        cols = slice(mid - 1, mid + 2)
        diff = vertices[:, self.mesh.lips_lower[cols]] - vertices[:, self.mesh.lips_upper[cols]]
        return np.maximum((diff @ self.mesh.frame.axes[1].astype(np.float32)).mean(axis=1), 0.0)

    def _column_gaps(self, vertices: np.ndarray) -> np.ndarray:
        """Inner-lip gap (px) at every contour column [F, K]."""
        diff = vertices[:, self.mesh.lips_lower] - vertices[:, self.mesh.lips_upper]
        return diff @ self.mesh.frame.axes[1].astype(np.float32)

    def vertices(self, values: np.ndarray) -> np.ndarray:
        """Destination vertices float32 [F, V, 2] for motion values [F, n_channels]."""
        return self._deform(values)[0]

    def _deform(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Teeth], np.ndarray]:
        """(vertices [F, V, 2], each eye's upper lid as it would be without the blink [F, 2, cols, 2],
        how far the inner lips moved from the portrait's before the head turned [F] (px), each
        frame's teeth, and the AU weights drawn [F, n_AU])."""
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != ch.N_CHANNELS:
            raise ValueError(f"motion values must be [F, {ch.N_CHANNELS}], got shape {values.shape}")
        aus = self._requested(values)
        closure = self._press_closure(values)
        tuck = self._tuck_weight(aus)
        drawn = self.config.drawn(aus, self._gain, self._ceiling)  # as strong as a viewer reads it; the portrait's own is undone as it is
        delta = np.concatenate([drawn, interaction_weights(drawn)], axis=1) - self._source_weights
        gaze = np.clip(values[:, _GAZE], -1.0, 1.0)
        V = len(self.mesh.vertices)
        # Row by row (einsum, not BLAS): a frame gets the same vertices whatever chunk it is rendered in.
        dst = self._rest.reshape(1, -1) + np.einsum("fa,av->fv", delta, self._basis) \
            + np.einsum("fg,gv->fv", gaze, self._gaze)
        dst = dst.reshape(-1, V, 2)
        self._press_lips(dst, closure)
        self._tuck_lower_lip(dst, tuck)
        self._separate_lips(dst)
        lids = [eye.rows[0] for eye in self.mesh.eyes]
        open_lids = dst[:, lids]
        self._close_eyes(dst, aus[:, _BLINK])
        self._keep_lid_skin(dst)
        lid_shift = open_lids - dst[:, lids]
        lips = np.concatenate([self.mesh.lips_upper, self.mesh.lips_lower])
        mouth_change = np.linalg.norm(dst[:, lips] - self.mesh.vertices[lips], axis=2).max(axis=1)
        before = dst[:, self.mesh.lips_upper]
        self._turn_head(dst, values[:, _POSE])
        teeth = self._teeth(drawn, dst[:, self.mesh.lips_upper] - before)
        return dst, dst[:, lids] + lid_shift, mouth_change, teeth, drawn

    def _requested(self, values: np.ndarray) -> np.ndarray:
        """The AU intensities [F, n_AU] to draw for motion values [F, n_channels] (a broad smile parts the lips,
        unless they are pressed together or the motion closes the mouth; a blink eases the lids' tightener)."""
        cfg = self.config
        aus = np.clip(np.asarray(values, np.float32)[:, _AU], 0.0, 1.0)
        smile = np.minimum(aus[:, AU_INDEX["AU12L"]], aus[:, AU_INDEX["AU12R"]])
        parted = cfg.smile_parts_lips * smile * (1.0 - self._press_closure(values))
        if cfg.smile_parting_opening > 0:
            opening = aus[:, AU_INDEX["AU25"]] + aus[:, AU_INDEX["AU26"]]
            parted = parted * np.clip(opening / cfg.smile_parting_opening, 0.0, 1.0)
        aus[:, AU_INDEX["AU25"]] = np.maximum(aus[:, AU_INDEX["AU25"]], parted)
        aus[:, AU_INDEX["AU7"]] *= 1.0 - cfg.blink_eases_tightener * aus[:, _BLINK]
        return aus

    def _press_closure(self, values: np.ndarray) -> np.ndarray:
        """How shut pressed lips hold the mouth [F] (0..1): AU24's lead over the opening AUs (`RenderConfig.press_closes`)."""
        cfg = self.config
        aus = np.clip(np.asarray(values, np.float32)[:, _AU], 0.0, 1.0)
        lead = aus[:, AU_INDEX["AU24"]] - cfg.press_vs_open * np.maximum(aus[:, AU_INDEX["AU25"]], aus[:, AU_INDEX["AU26"]])
        x = np.clip(lead / cfg.press_closes, 0.0, 1.0)
        return (x * x * (3.0 - 2.0 * x)).astype(np.float32)

    def _press_lips(self, dst: np.ndarray, closure: np.ndarray) -> None:
        """Pressed lips meet: each inner-lip column's gap closes by ``closure`` [F] (up to `press_max_gap`),
        the lower lip doing most of the work (`press_upper_share`)."""
        if not np.any(closure > 0):
            return
        cfg = self.config
        axis = self.mesh.frame.axes[1].astype(np.float32)
        up, lo = self.mesh.lips_upper[1:-1], self.mesh.lips_lower[1:-1]
        gap = np.maximum((dst[:, lo] - dst[:, up]) @ axis, 0.0)  # [F, K]
        close = closure[:, None] * np.minimum(gap, cfg.press_max_gap * self.mesh.frame.scale)
        dst[:, up] += (cfg.press_upper_share * close)[..., None] * axis
        dst[:, lo] -= ((1.0 - cfg.press_upper_share) * close)[..., None] * axis

    def _tuck_weight(self, aus: np.ndarray) -> np.ndarray:
        """How far the lower lip tucks under the upper incisors [F] (0..1): AU10 with AU17, the jaw nearly closed and
        the nose smooth (with AU9 the same AUs are disgust)."""
        cfg = self.config
        return lip_tuck(aus, cfg.tuck_full, cfg.tuck_jaw, cfg.tuck_nose)

    def _tuck_lower_lip(self, dst: np.ndarray, tuck: np.ndarray) -> None:
        """The lower lip rolls in under the upper incisors: its red narrows (`tuck_roll`) and its inner edge
        moves to just above the incisors' edge (at most `tuck_reach`): the lips of f and v."""
        if not np.any(tuck > 0):
            return
        frame = self.mesh.frame
        axis = frame.axes[1].astype(np.float32)
        lo = self.mesh.lips_lower
        edge = self._teeth_rest[0]  # the upper incisors' edge stays with the skull (the head turns later)
        order = np.argsort(edge[:, 0])
        x = dst[:, lo] @ frame.axes[0].astype(np.float32)  # across the face, per frame [F, K]
        edge_u, edge_v = edge[order] @ frame.axes[0], edge[order] @ frame.axes[1]
        target = np.interp(x, edge_u, edge_v) - self.config.tuck_overlap * frame.scale
        reach = self.config.tuck_reach * frame.scale
        rise = np.clip(target - dst[:, lo] @ axis, -reach, reach)  # [F, K] px, + is down
        rise[:, [0, -1]] = 0.0  # the corners stay
        base = self.mesh.vertices.astype(np.float64)
        contour_u = base[lo] @ frame.axes[0]
        order = np.argsort(contour_u)
        vertex_u = base @ frame.axes[0]
        for f in np.nonzero(tuck > 0)[0]:
            per_vertex = np.interp(vertex_u, contour_u[order], rise[f, order]) * self._tuck_follow
            dst[f] += tuck[f] * (self._tuck_roll + per_vertex[:, None].astype(np.float32) * axis)

    def _separate_lips(self, dst: np.ndarray) -> None:
        """Lips may touch but not pass through each other."""
        axis = self.mesh.frame.axes[1].astype(np.float32)
        up, lo = self.mesh.lips_upper[1:-1], self.mesh.lips_lower[1:-1]
        crossed = ((dst[:, lo] - dst[:, up]) @ axis) < 0
        if crossed.any():
            middle = (dst[:, lo] + dst[:, up]) / 2
            dst[:, up] = np.where(crossed[..., None], middle, dst[:, up])
            dst[:, lo] = np.where(crossed[..., None], middle, dst[:, lo])

    def _close_eyes(self, dst: np.ndarray, blink: np.ndarray) -> None:
        """Scale each eye's rows toward its closure line: shut at AU45 = 1, the portrait's opening at its own AU45
        (a shut or hidden eye, `eyes_open` 0, stays as it is)."""
        for eye, source, share in zip(self.mesh.eyes, self._blink_source, self.eyes_open):
            factor = np.clip((1.0 - share * blink) / (1.0 - source), 0.0, 1.5)[:, None, None, None]
            # Closing past the portrait's own opening, the upper lid's lashes come to rest over the lower lid.
            overlap = self.config.blink_overlap * np.clip(1.0 - factor, 0.0, 1.0)
            rows = dst[:, eye.rows]  # [F, rows, cols, 2]
            line = eye_closure(rows[:, 0], rows[:, -1])[:, None]
            closed = line + (rows - line) * factor
            closed[:, :-1] += overlap * (line - rows[:, :1])
            dst[:, eye.rows] = closed
            # The skin above the lid follows it part of the way (and draws the lashes down with it).
            dst[:, eye.skin] += self.config.skin_follow * (closed[:, 0] - rows[:, 0])[:, eye.skin_column]

    def _turn_head(self, dst: np.ndarray, pose: np.ndarray) -> None:
        if not np.any(pose):
            return
        rel = np.empty((len(dst), len(self.mesh.vertices), 3), dtype=np.float64)
        rel[..., :2] = dst - self._pivot
        rel[..., 2] = -(self.mesh.depth - self._pivot_depth)  # camera z points into the scene
        rot = np.stack([rotation(*p) for p in pose.astype(np.float64)])
        turned = np.einsum("fij,fvj->fvi", rot, rel)
        dst += ((turned[..., :2] - rel[..., :2]) * self.mesh.head_weight[None, :, None]).astype(np.float32)

    # ---- frames ------------------------------------------------------------------------------
    def _finish(self, frames: np.ndarray, dst: np.ndarray, open_lids: np.ndarray, mouth_change: np.ndarray,
                teeth: list[Teeth], drawn: np.ndarray, tuck: np.ndarray | None = None) -> None:
        cfg = self.config
        gaps = self._centre_gap(dst)
        scale = self.mesh.frame.scale
        lids = [eye.rows[0] for eye in self.mesh.eyes]
        lower_lids = [eye.rows[-1] for eye in self.mesh.eyes]
        axis = self.mesh.frame.axes[1].astype(np.float32)
        covered = ((dst[:, lids] - open_lids) @ axis).max(axis=2)  # [F, 2] how far each lid came down, px
        # How far AU5 raised each upper lid beyond the portrait's own (px vectors [F, 2, cols, 2]).
        V = len(self.mesh.vertices)
        raiser = self._basis[_LID_RAISER].reshape(V, 2)[lids]
        raised = np.maximum(drawn[:, _LID_RAISER] - self._source_aus[_LID_RAISER], 0.0)[:, None, None, None] * raiser
        uncovered = -(raised @ axis).min(axis=2)  # [F, 2] px
        # Where the portrait's open lips are now shut, their meeting line is repainted (no seam of teeth).
        columns = self._column_gaps(dst)
        shut = np.clip(1.0 - columns / 1.5, 0.0, 1.0) * np.clip((self._source_gaps - columns) / 1.5, 0.0, 1.0)
        shut[:, [0, -1]] = shut[:, [1, -2]]
        line_width = max(cfg.lip_line_width * scale, 1.2)
        line_depth = cfg.open_lip_line_depth if self.photographed_open else cfg.lip_line_depth
        if not self.photographed_open:
            opacity = np.ones(len(dst))
        else:  # the portrait's real mouth is reused near its own shape; squeezed, stretched or reshaped it is redrawn
            opacity = np.maximum(np.clip(np.abs(gaps - self._source_gap) / (0.5 * self._source_gap), 0.0, 1.0),
                                 np.clip((mouth_change - cfg.reuse_band[0] * scale) / (cfg.reuse_band[1] * scale),
                                         0.0, 1.0))
        # Teeth stand in the lips' shadow in a narrow opening; lips drawn back (a smile, a raised
        # upper lip) or a wide opening light them.
        pulled = np.max(drawn[:, [AU_INDEX[a] for a in ("AU10", "AU12L", "AU12R", "AU20")]], axis=1)
        light = cfg.teeth_shadow + (1.0 - cfg.teeth_shadow) * np.clip(
            np.maximum(gaps / (cfg.teeth_lit_gap * scale), pulled), 0.0, 1.0)
        rounded = np.clip(np.max(drawn[:, [AU_INDEX["AU18"], AU_INDEX["AU22"]]], axis=1), 0.0, 1.0)
        light = light * (1.0 - cfg.rounded_teeth_shade * rounded)
        for index, (frame, vertices, gap, lid_open, lid_cover, closed, mouth_opacity, frame_teeth, light, lid_raise,
                    white) in enumerate(zip(frames, dst, gaps, open_lids, covered, shut, opacity, teeth, light, raised,
                                            uncovered)):
            for k in range(2):
                if white[k] > cfg.sclera_min_px and lid_cover[k] < cfg.lid_paint_min_px:
                    # Down past where the lid was, as far as it rose there (0..1): its old lash line goes.
                    reach = -(lid_raise[k] @ axis) / white[k]
                    bottom = vertices[lids[k]] - lid_raise[k] + (cfg.raised_lid_cover * scale * reach)[:, None] * axis
                    centre, radius, carriers = self._irises[k]
                    centre = centre + (vertices[carriers] - self.mesh.vertices[carriers]).mean(axis=0)
                    draw_uncovered_eye(frame, vertices[lids[k]], bottom, centre, radius, self._palette,
                                       cfg.raised_lid_shadow * scale, fade=cfg.raised_lid_fade)
                if lid_cover[k] > cfg.lid_paint_min_px:
                    draw_eyelid(frame, lid_open[k], vertices[lids[k]], vertices[lower_lids[k]],
                                -cfg.lid_lift * scale * axis, self._palette,
                                cover=max(cfg.lid_fade * scale * min(lid_cover[k] / (cfg.lid_lift * scale), 1.0), 0.5),
                                shade=cfg.lid_shade, grain=cfg.lid_grain)
            if gap > cfg.mouth_min_gap_px:
                draw_mouth(frame, vertices[self.mesh.lips_upper], vertices[self.mesh.lips_lower], self._palette,
                           frame_teeth, float(mouth_opacity), self._source_teeth, float(light))
                if tuck is not None and tuck[index] > 0:  # the incisors rest on the tucked lower lip
                    draw_contact_shadow(frame, vertices[self.mesh.lips_lower], cfg.tuck_shadow_depth * scale,
                                        cfg.tuck_shadow * float(tuck[index]) * float(mouth_opacity),
                                        self._palette.saturation)
            if gap < cfg.lip_line_max_gap * scale and closed.any():  # an open mouth's corners are shadowed anyway
                draw_lip_line(frame, vertices[self.mesh.lips_upper], vertices[self.mesh.lips_lower],
                              vertices[self._outer_corner_indices], closed, line_width, self._palette.saturation,
                              depth=line_depth)

    def iter_chunks(self, values: np.ndarray) -> Iterator[np.ndarray]:
        """Frames uint8 [F, H, W, 3], ``chunk`` at a time, for motion values [T, n_channels]."""
        values = np.asarray(values, dtype=np.float32)
        for start in range(0, len(values), self.chunk):
            yield self._render_values(values[start:start + self.chunk])

    def _render_values(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        dst, open_lids, mouth_change, teeth, drawn = self._deform(values)
        if out is None:
            out = np.empty((len(values), *self.image.shape), np.uint8)
        if self._appearance is None:
            frames = kernels.mesh_warp(self._texture, self.mesh.vertices, dst, self.mesh.triangles, out=out)
        else:  # frames warp their own texture: the portrait with their wrinkles and folds
            frames = out
            # Weights in steps too small to see, so that runs of frames share one texture and one warp call.
            step = self.config.appearance_step
            weights = np.round(np.concatenate(self._appearance.weights(drawn), axis=1) / step) * step
            n_maps = len(self._appearance.maps)
            start = 0
            while start < len(values):
                stop = start + 1
                while stop < len(values) and np.array_equal(weights[stop], weights[start]):
                    stop += 1
                texture = self._appearance.paint(self._texture, weights[start, :n_maps], weights[start, n_maps:],
                                                 self._painted)
                kernels.mesh_warp(texture, self.mesh.vertices, dst[start:stop], self.mesh.triangles,
                                  out=out[start:stop])
                start = stop
        self._finish(frames, dst, open_lids, mouth_change, teeth, drawn, self._tuck_weight(self._requested(values)))
        return frames

    def render(self, motion: Motion, *, progress: bool = True) -> np.ndarray:
        """Video frames uint8 [T, H, W, 3] for ``motion`` (a `tbd.Motion`)."""
        if not isinstance(motion, Motion):
            raise TypeError(f"render() takes a tbd.Motion, got {type(motion).__name__}; "
                            f"wrap raw values as tbd.Motion(values, fps)")
        T = motion.n_frames
        out = np.empty((T, *self.image.shape), dtype=np.uint8)
        with tqdm(total=T, desc="render", unit="frame", disable=not progress, leave=False) as bar:
            for start in range(0, T, self.chunk):
                stop = min(start + self.chunk, T)
                self._render_values(motion.values[start:stop], out=out[start:stop])
                bar.update(stop - start)
        return out

    def render_frame(self, values: np.ndarray) -> np.ndarray:
        """One frame uint8 [H, W, 3] for one motion vector [n_channels]."""
        values = np.asarray(values, dtype=np.float32)
        if values.shape != (ch.N_CHANNELS,):
            raise ValueError(f"render_frame takes one motion vector [{ch.N_CHANNELS}], got shape {values.shape}")
        return self._render_values(values[None])[0]
