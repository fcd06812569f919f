"""The renderer draws the mouth shapes of speech (issue 11), as an independent detector reads them.

Static frames of the articulation targets (`tbd.articulation.visemes.SHAPES`) are rendered on two
portraits that are not the bundled one (scikit-image's astronaut, a smiling open-mouthed photo
whose expression the renderer undoes, and matplotlib's Grace Hopper, closed-mouthed and near
neutral) and read by MediaPipe FaceLandmarker (`tbd.evaluate.track`):

- bilabial closure: the inner-lip gap of PP (lips pressed, jaw closed) is at most 15 % of aa's,
  also with a broad smile and over a jaw left slightly open by the neighbouring vowels;
- rounding: mouthPucker + mouthFunnel of ou and oh exceed those of ih and E by at least 0.1,
  also for ou against ih under an angry face.
"""

from __future__ import annotations

import numpy as np
import pytest

from tbd.motion import channels as ch

SMILE = {"AU12L": 0.8, "AU12R": 0.8, "AU6": 0.5}
ANGRY = {"AU4": 0.7, "AU7": 0.5, "AU23": 0.4}
OPEN_CONTEXT = {"AU25": 0.3, "AU26": 0.2}  # what coarticulation leaves of the vowels around a p, b or m
FRAMES = (("aa", {}), ("PP", {}), ("aa", SMILE), ("PP", SMILE), ("PP", OPEN_CONTEXT),
          ("ou", {}), ("oh", {}), ("ih", {}), ("E", {}), ("ou", ANGRY), ("ih", ANGRY), ("FF", {}))


def _values() -> np.ndarray:
    from tbd.articulation.visemes import SHAPES

    values = np.zeros((len(FRAMES), ch.N_CHANNELS), np.float32)
    for i, (viseme, extra) in enumerate(FRAMES):
        for name, value in {**SHAPES[viseme], **extra}.items():
            values[i, ch.index(name)] = value
    return values


def _square(image: np.ndarray, cx: int, cy: int, side: int, size: int = 256) -> np.ndarray:
    from PIL import Image

    crop = np.ascontiguousarray(image[max(cy - side // 2, 0):cy + side // 2, max(cx - side // 2, 0):cx + side // 2])
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.LANCZOS))


def _portrait(name: str) -> np.ndarray:
    if name == "astronaut":
        skimage_data = pytest.importorskip("skimage.data")
        return _square(skimage_data.astronaut(), 228, 118, 170)
    cbook = pytest.importorskip("matplotlib.cbook")
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return _square(np.asarray(im.convert("RGB")), 262, 236, 440)


@pytest.fixture(scope="module", params=["astronaut", "hopper"])
def seen(request):
    import tbd
    from tbd.evaluate.track import track

    avatar = tbd.Talker("rig", progress=False).prepare(_portrait(request.param), size=256)
    frames = avatar.renderer.render(tbd.Motion(_values()), progress=False)
    found = track(frames)
    assert found.found.all(), f"{request.param}: MediaPipe lost the face in a viseme frame"
    return request.param, found, frames, avatar.renderer


def _at(viseme: str, extra: dict | None = None) -> int:
    return FRAMES.index((viseme, extra or {}))


def test_bilabial_lips_meet(seen):
    name, t, _, _ = seen
    gap = t.lip_gap
    assert gap[_at("aa")] > 0.15, f"{name}: aa is not open ({gap[_at('aa')]:.3f} IOD)"
    assert gap[_at("PP")] <= 0.15 * gap[_at("aa")], f"{name}: PP gap {gap[_at('PP')]:.3f} vs aa {gap[_at('aa')]:.3f}"
    assert gap[_at("PP", SMILE)] <= 0.15 * gap[_at("aa", SMILE)], \
        f"{name}: PP with a smile {gap[_at('PP', SMILE)]:.3f} vs {gap[_at('aa', SMILE)]:.3f}"
    assert gap[_at("PP", OPEN_CONTEXT)] <= 0.15 * gap[_at("aa")], \
        f"{name}: PP over an open jaw {gap[_at('PP', OPEN_CONTEXT)]:.3f} vs aa {gap[_at('aa')]:.3f}"


def test_rounded_against_spread(seen):
    name, t, _, _ = seen
    rounding = t.shape("mouthPucker") + t.shape("mouthFunnel")
    spread = max(rounding[_at("ih")], rounding[_at("E")])
    for viseme in ("ou", "oh"):
        assert rounding[_at(viseme)] - spread >= 0.1, \
            f"{name}: {viseme} pucker+funnel {rounding[_at(viseme)]:.2f} vs ih/E {spread:.2f}"
    assert rounding[_at("ou", ANGRY)] - rounding[_at("ih", ANGRY)] >= 0.1, f"{name}: ou under anger does not round"
    stretch = t.shape("mouthStretchLeft") + t.shape("mouthStretchRight")
    assert stretch[_at("ih")] >= stretch[_at("ou")], f"{name}: ih is not spread wider than ou"


def test_ff_shows_the_upper_teeth_on_the_lower_lip(seen):
    """f/v: the upper teeth show between the lips, down to the lower lip (no dark cavity under them; PP
    shows no teeth), and the lower lip is rolled in: its red is thinner than at rest."""
    from tbd.face.topology import MEDIAPIPE_REGIONS as R
    from tbd.render.pixels import LUMA

    name, t, frames, renderer = seen
    ff, sil = _at("FF"), len(FRAMES)
    vertices = renderer.vertices(np.concatenate([_values(), np.zeros((1, ch.N_CHANNELS), np.float32)]))
    up, lo = renderer.mesh.lips_upper, renderer.mesh.lips_lower
    middle = slice(3, len(up) - 3)
    between = (vertices[ff, up[middle]] + vertices[ff, lo[middle]]) / 2
    luma = frames[ff][np.rint(between[:, 1]).astype(int), np.rint(between[:, 0]).astype(int)] @ LUMA
    teeth = float(renderer._palette.teeth @ LUMA)
    assert luma.mean() > 0.6 * teeth and luma.min() > 0.45 * teeth, f"{name}: FF shows no teeth between the lips ({luma.round()} vs teeth {teeth:.0f})"
    axis = renderer.mesh.frame.axes[1]
    outer = list(R.lips_outer_lower)[len(R.lips_outer_lower) // 2]
    thickness = (vertices[:, outer] - vertices[:, lo[len(lo) // 2]]) @ axis
    assert thickness[ff] < 0.8 * thickness[sil], f"{name}: the lower lip is not rolled in ({thickness[ff]:.1f} px " \
        f"vs {thickness[sil]:.1f} px at rest)"
    assert t.lip_gap[_at("PP")] < t.lip_gap[ff], f"{name}: FF is not told from PP"
