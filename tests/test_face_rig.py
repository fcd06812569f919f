"""FACE rig: each AU at intensity 1 moves the neutral face by about what a real face shows (FACS).

Sizes are in inter-ocular distances (IOD, about 63 mm in an adult), measured on the canonical
neutral face in face coordinates (u toward the image right, v down).
"""

from __future__ import annotations

import numpy as np
import pytest

from tbd.face.canonical import canonical_mesh
from tbd.face.expression import _neutral_uv
from tbd.face.rig import (AU_INDEX, INTERACTIONS, JAW_CORNER_DROP, JAW_CORNER_IN, JAW_DROP, au_basis,
                         interaction_weights, rig_basis)
from tbd.face.topology import MEDIAPIPE_REGIONS as R
from tbd.motion.channels import AU_CHANNELS


@pytest.fixture(scope="module")
def neutral() -> np.ndarray:
    return np.array(_neutral_uv())


@pytest.fixture(scope="module")
def bases(neutral) -> tuple[np.ndarray, np.ndarray]:
    return rig_basis(neutral, n_mesh=468)


def _brow_ends(uv: np.ndarray, brow: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """(inner, outer) end points of a brow: both rows' points nearest to and furthest from the midline."""
    order = np.array(brow)[np.argsort(np.abs(uv[list(brow), 0]))]
    return list(order[:2]), list(order[-2:])


def _mirror_index() -> tuple[np.ndarray, np.ndarray]:
    """Each canonical vertex's mirror partner across the midline (from the 3D face, whose lips are apart),
    and which vertices have one."""
    v = canonical_mesh().vertices.astype(np.float64)
    distance = np.linalg.norm(v[None, :, :] - (v * [-1.0, 1.0, 1.0])[:, None, :], axis=2)
    return distance.argmin(axis=1), distance.min(axis=1) < 0.05


def test_brow_lowerer_pulls_the_brows_down_and_together(neutral, bases):
    basis = bases[0][AU_INDEX["AU4"]]
    for brow in (R.brow_right, R.brow_left):
        inner, outer = _brow_ends(neutral, brow)
        toward_nose = -np.sign(neutral[inner, 0])
        assert np.all((basis[inner, 1] > 0.1) & (basis[inner, 1] < 0.16))  # down by 0.1-0.15 IOD
        assert np.all(basis[inner, 0] * toward_nose > 0.05)  # and together
        assert np.all(basis[outer, 1] < basis[inner, 1] - 0.05)  # most at the inner end
    # The lids are left to the eye AUs: the upper lid margin moves a little, the lower lid not at all.
    upper, lower = R.eye("right")
    assert np.abs(basis[list(upper), 1]).max() < 0.03 and np.abs(basis[list(lower)]).max() < 1e-9


def test_brow_raisers_lift_their_own_end(neutral, bases):
    basis = bases[0]
    for brow in (R.brow_right, R.brow_left):
        inner, outer = _brow_ends(neutral, brow)
        assert np.all(basis[AU_INDEX["AU1"], inner, 1] < -0.12) and np.all(basis[AU_INDEX["AU1"], outer, 1] > -0.03)
        assert np.all(basis[AU_INDEX["AU2"], outer, 1] < -0.12) and np.all(basis[AU_INDEX["AU2"], inner, 1] > -0.03)


def test_grief_brow_raises_the_inner_ends_while_the_brows_come_together(neutral, bases):
    basis, interaction = bases
    aus = np.zeros(len(AU_CHANNELS))
    aus[AU_INDEX["AU1"]], aus[AU_INDEX["AU4"]] = 0.66, 0.47  # "very sad"
    assert INTERACTIONS[0] == ("AU1", "AU4") and interaction_weights(aus)[0] == pytest.approx(0.47)
    moved = np.einsum("a,apc->pc", aus, basis) + np.einsum("k,kpc->pc", interaction_weights(aus), interaction)
    for brow in (R.brow_right, R.brow_left):
        inner, outer = _brow_ends(neutral, brow)
        assert np.all(moved[inner, 1] < -0.06)  # the inner ends rise clearly
        assert np.all(moved[outer, 1] > -0.01)  # the outer ends do not
        assert np.all(moved[inner, 0] * -np.sign(neutral[inner, 0]) > 0.02)  # drawn together


def test_both_brow_raisers_arch_the_brow(neutral, bases):
    """AU1 with AU2 raises the whole brow in an arch, its middle at least as high as its ends (FACS: the brow of
    surprise). Each raiser alone lifts its own end, so their plain sum left the middle lowest: a worried brow."""
    basis, interaction = bases
    aus = np.zeros(len(AU_CHANNELS))
    aus[AU_INDEX["AU1"]] = aus[AU_INDEX["AU2"]] = 0.8
    assert INTERACTIONS[1] == ("AU1", "AU2") and interaction_weights(aus)[1] == pytest.approx(0.8)
    plain = np.einsum("a,apc->pc", aus, basis)
    moved = plain + np.einsum("k,kpc->pc", interaction_weights(aus), interaction)
    for brow in (R.brow_right, R.brow_left):
        inner, outer = _brow_ends(neutral, brow)
        along = np.array(brow)[np.argsort(np.abs(neutral[list(brow), 0]))]  # from the inner end outward
        middle = along[len(along) // 3: 2 * len(along) // 3]
        ends = min(-moved[inner, 1].mean(), -moved[outer, 1].mean())
        assert -moved[middle, 1].mean() >= ends, (moved[middle, 1], ends)
        assert -plain[middle, 1].mean() < ends - 0.02  # without it the middle sagged
    # Alone, neither raiser is changed.
    for name in ("AU1", "AU2"):
        alone = np.zeros(len(AU_CHANNELS))
        alone[AU_INDEX[name]] = 0.8
        assert interaction_weights(alone)[1] == 0.0


def test_lip_corners_move_as_far_as_a_real_smile_or_frown(neutral, bases):
    basis = bases[0]
    corners = [R.lips_outer_upper[0], R.lips_outer_upper[-1]]
    outward = np.sign(neutral[corners, 0])
    depressor = basis[AU_INDEX["AU15"], corners]
    assert np.all((depressor[:, 1] > 0.08) & (depressor[:, 1] < 0.15))
    for corner, side, sign in ((corners[0], "R", outward[0]), (corners[1], "L", outward[1])):
        pull = basis[AU_INDEX["AU12" + side], corner]
        assert pull[1] < -0.08 and pull[0] * sign > 0.05  # up and back
        other = basis[AU_INDEX["AU12" + ("L" if side == "R" else "R")], corner]
        assert np.abs(other).max() < 0.01  # one side's smile leaves the other corner


def _drawn(bases, aus: dict[str, float]) -> np.ndarray:
    """How far ``aus`` move each point [P, 2] at the strength the renderer draws them."""
    from tbd.render import RenderConfig

    basis, interaction = bases
    config, names = RenderConfig(), list(AU_CHANNELS)
    requested = np.zeros((1, len(names)))
    for name, value in aus.items():
        requested[0, AU_INDEX[name]] = value
    drawn = config.drawn(requested, config.gains(names), config.ceilings(names))[0]
    return np.einsum("a,apc->pc", drawn, basis) + np.einsum("k,kpc->pc", interaction_weights(drawn), interaction)


def _drawn_surprise(neutral, bases) -> np.ndarray:
    """Points moved by AU1 0.63 with AU2 0.56 (DRAW's surprise)."""
    return _drawn(bases, {"AU1": 0.63, "AU2": 0.56})


def test_raised_brows_lift_the_forehead_between_them(neutral, bases):
    """The frontalis lifts the skin between the brows with their inner ends: left behind (it rose 0.55 as far),
    the forehead lines above dipped into a V over the nose."""
    moved = _drawn_surprise(neutral, bases)
    inner = _brow_ends(neutral, R.brow_right)[0] + _brow_ends(neutral, R.brow_left)[0]
    glabella = 9  # MediaPipe's midline point between the brows, at their upper edge
    assert abs(neutral[glabella, 0]) < 0.01 and abs(neutral[glabella, 1] - neutral[inner, 1].mean()) < 0.1
    assert moved[glabella, 1] < 0.85 * moved[inner, 1].mean()  # at least 85 % as far up (v is down)


def test_drawn_surprise_raises_the_outer_brows_as_far_as_the_inner(neutral, bases):
    """As drawn (AU1's gain exceeds AU2's), the outer ends rise at least as far as the inner ends: a raised brow,
    not the oblique brow of fear."""
    moved = _drawn_surprise(neutral, bases)
    for brow in (R.brow_right, R.brow_left):
        inner, outer = _brow_ends(neutral, brow)
        assert moved[outer, 1].mean() <= moved[inner, 1].mean()


def test_a_dropped_jaw_narrows_the_mouth(neutral, bases):
    """The corners come in as the jaw drops: an open jaw's mouth is an oval, not a wide slot."""
    basis = bases[0][AU_INDEX["AU26"]]
    corners = [R.lips_outer_upper[0], R.lips_outer_upper[-1]]
    toward_midline = -np.sign(neutral[corners, 0]) * basis[corners, 0]
    np.testing.assert_allclose(toward_midline, JAW_CORNER_IN, rtol=0.25)
    assert JAW_CORNER_IN >= 0.06


def test_a_dropped_jaw_opens_a_lens_not_a_box(neutral, bases):
    """The lips part most mid-mouth and the gap tapers toward the corners, while the chin below drops evenly: an
    open mouth reads as speech, not as a square grimace. The corners go down with the jaw by `JAW_CORNER_DROP`
    of its drop (held at the lip line, the opening hung below them as a smile's crescent)."""
    basis = bases[0][AU_INDEX["AU26"]]
    lower, upper = (np.array(contour) for contour in (R.lips_inner_lower, R.lips_inner_upper))
    lower, upper = lower[np.argsort(neutral[lower, 0])], upper[np.argsort(neutral[upper, 0])]
    drop = basis[lower, 1]
    gap = drop - basis[upper, 1]
    middle = len(lower) // 2
    assert gap[middle] > 0.2
    assert np.all(np.diff(gap[:middle + 1]) > 0) and np.all(np.diff(gap[middle:]) < 0)  # tapers both ways
    # An almond: 85 % of the way to a corner the gap is under an ellipse's (0.53 of the middle; 0.61 before
    # `OPENING_TAPER`, which read as a box with blunt ends).
    assert max(gap[1], gap[-2]) < 0.53 * gap[middle] and max(gap[0], gap[-1]) < 0.05 * gap[middle]
    corners = basis[[R.lips_outer_upper[0], R.lips_outer_upper[-1]], 1]
    np.testing.assert_allclose(corners, JAW_CORNER_DROP * JAW_DROP["AU26"], rtol=0.25)
    assert basis[upper[middle], 1] < 0.4 * corners.mean()  # the upper lip arches: its middle stays nearly still
    below = neutral[lower[middle]] + [0.0, 0.35]  # the chin under the mouth drops with the jaw
    chin = int(np.argmin(np.linalg.norm(neutral[:468] - below, axis=1)))
    assert basis[chin, 1] > 0.8 * drop[middle]


def test_a_dropped_jaw_moves_the_lower_face_as_one_piece(neutral):
    """Below the lips the jaw drops evenly and the skin beside the chin follows without a step: rows of points across
    the lower face, sampled every 0.01 IOD, move smoothly, and the chin under a mouth corner drops nearly as far as
    under the middle. The lip's lens applied only within the mouth's columns made a step of 0.6-0.7 of the drop where
    those columns ended (the jowls of a dropped jaw cut in two) and held the chin up under the corners (0.32)."""
    lips = neutral[list(R.lips_inner_lower)]
    centre_u, lip_v = float(lips[:, 0].mean()), float(lips[:, 1].max())
    half = float(neutral[R.lips_outer_upper[-1], 0] - neutral[R.lips_outer_upper[0], 0]) / 2
    u = centre_u + np.arange(-0.9, 0.9001, 0.01)
    rows = (0.12, 0.2, 0.3)  # IOD below the lower lip's inner edge: the lip's skin, the chin above and at its boss
    grid = np.concatenate([np.stack([u, np.full_like(u, lip_v + depth)], axis=1) for depth in rows])
    points = np.concatenate([neutral[:468], grid])
    basis = rig_basis(points, n_mesh=468, jaw_follow=np.ones(len(points)))[0][AU_INDEX["AU26"], 468:, 1]
    drop = basis.reshape(len(rows), len(u))
    steps = np.abs(np.diff(drop, axis=1))
    assert steps.max() < 0.06 * JAW_DROP["AU26"], steps.max() / JAW_DROP["AU26"]
    chin = drop[-1]
    under_corner = chin[np.argmin(np.abs(np.abs(u - centre_u) - half))]
    assert under_corner > 0.85 * chin[len(u) // 2]


def test_a_broad_smile_as_drawn_widens_the_mouth_by_about_a_third(neutral, bases):
    """AU12 at 0.8, at the renderer's gain (4.5, for the bulges a warp cannot draw), lifts the corners well up and
    widens the mouth by about a third, as a broad smile does. With the rig pulling the corners back as far as up it
    widened by 59 %, a grin from cheek to cheek on a three-quarter view."""
    corners = [R.lips_outer_upper[0], R.lips_outer_upper[-1]]
    smile = neutral + _drawn(bases, {"AU12L": 0.8, "AU12R": 0.8})
    widening = (smile[corners[1], 0] - smile[corners[0], 0]) / (neutral[corners[1], 0] - neutral[corners[0], 0])
    assert 1.2 < widening < 1.45, widening
    assert np.all(neutral[corners, 1] - smile[corners, 1] > 0.2)  # up by more than 0.2 IOD


def test_a_rounded_vowel_narrows_the_mouth_by_about_a_third_and_leaves_the_nose(neutral, bases):
    """"oo" (the articulation's viseme) narrows the mouth to about two thirds of its width; the nostrils stay. With a
    surprised dropped jaw as well, the opening stays about as wide as it is tall. Pulled 1.5 times as far, "oo" left
    0.46 of the width, the alar base narrowed by 8 %, and a surprised "who" opened a slit 0.56 as wide as tall with
    a peaked upper lip."""
    width = lambda p, pair: float(abs(p[pair[1], 0] - p[pair[0], 0]))  # noqa: E731
    corners = (R.lips_outer_upper[0], R.lips_outer_upper[-1])
    alar_base = (98, 327)  # MediaPipe's points where the nostrils meet the cheeks
    ou = neutral + _drawn(bases, {"AU18": 0.75, "AU22": 0.5, "AU25": 0.35, "AU26": 0.16})
    assert 0.55 < width(ou, corners) / width(neutral, corners) < 0.8
    assert width(ou, alar_base) / width(neutral, alar_base) > 0.98

    who = neutral + _drawn(bases, {"AU18": 0.71, "AU22": 0.47, "AU25": 0.92, "AU26": 0.74})
    lower, upper = (np.array(c)[np.argsort(neutral[list(c), 0])] for c in (R.lips_inner_lower, R.lips_inner_upper))
    gap = who[lower[len(lower) // 2], 1] - who[upper[len(upper) // 2], 1]
    assert width(who, (R.lips_inner_upper[0], R.lips_inner_upper[-1])) > 0.75 * gap


@pytest.mark.parametrize("name, least", [("AU23", 0.4), ("AU24", 0.65)])
def test_lip_tightener_and_pressor_narrow_the_red_of_the_lips(neutral, bases, name, least):
    basis = bases[0][AU_INDEX[name]]
    mid = len(R.lips_outer_upper) // 2
    top, inner_top = R.lips_outer_upper[mid], R.lips_inner_upper[mid]
    bottom, inner_bottom = R.lips_outer_lower[mid], R.lips_inner_lower[mid]
    for outer, inner in ((top, inner_top), (bottom, inner_bottom)):
        thickness = neutral[inner, 1] - neutral[outer, 1]
        narrowed = thickness + basis[inner, 1] - basis[outer, 1]
        assert abs(narrowed) < (1 - least) * abs(thickness)
    assert abs(basis[inner_bottom, 1] - basis[inner_top, 1]) < 0.005  # the lips do not part


def test_symmetric_actions_are_mirror_images(neutral, bases):
    basis = bases[0]
    mirror, matched = _mirror_index()
    assert matched.mean() > 0.9
    for name in ("AU1", "AU2", "AU4", "AU9", "AU15", "AU23", "AU24", "AU26"):
        b = basis[AU_INDEX[name]]
        np.testing.assert_allclose(b[mirror][matched] * [-1, 1], b[matched], atol=0.01, err_msg=name)
    left, right = basis[AU_INDEX["AU12L"]], basis[AU_INDEX["AU12R"]]
    np.testing.assert_allclose(left[mirror][matched] * [-1, 1], right[matched], atol=0.01)


def test_au_basis_is_the_linear_part_of_rig_basis(neutral, bases):
    np.testing.assert_array_equal(au_basis(neutral, n_mesh=468), bases[0])
    assert bases[1].shape == (len(INTERACTIONS), len(neutral), 2)


def test_the_grief_brow_leaves_the_hairline_where_it_is(neutral, bases):
    """AU1 with AU4 raises the inner brow ends; the forehead above bunches instead of being dragged up with
    them (dragged, the hairline dipped into a notch over the nose)."""
    basis, interaction = bases
    aus = np.zeros(len(AU_CHANNELS))
    aus[AU_INDEX["AU1"]], aus[AU_INDEX["AU4"]] = 0.66, 0.47
    moved = np.einsum("a,apc->pc", aus, basis) + np.einsum("k,kpc->pc", interaction_weights(aus), interaction)
    inner = _brow_ends(neutral, R.brow_right)[0] + _brow_ends(neutral, R.brow_left)[0]
    forehead_top = 10  # MediaPipe's topmost midline point, near the hairline
    assert neutral[inner, 1].mean() - neutral[forehead_top, 1] > 0.5  # well above the brows
    assert moved[forehead_top, 1] > 0.15 * moved[inner, 1].mean()  # rises less than a sixth as far
