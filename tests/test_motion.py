from __future__ import annotations

import numpy as np
import pytest

import tbd
from tbd.motion import ARKIT_BLENDSHAPES, CHANNELS, Motion, channels as ch


def test_channel_contract():
    assert len(CHANNELS) == 29 and len(set(CHANNELS)) == 29
    assert CHANNELS[ch.index("AU45")] == "AU45"
    assert ch.expand_au("AU12") == ("AU12L", "AU12R") and ch.expand_au("AU6") == ("AU6",)
    with pytest.raises(KeyError, match="unknown motion channel"):
        ch.index("AU99")


def test_arkit_map_is_one_sided_where_the_au_is():
    values = np.zeros((2, len(CHANNELS)), np.float32)
    values[1, ch.index("AU12L")] = 0.8
    values[1, ch.index("AU45")] = 1.0
    values[1, ch.index("gaze_x")] = 0.5
    shapes = Motion(values).blendshapes()
    assert len(shapes) == 52 == len(ARKIT_BLENDSHAPES)
    assert shapes["mouthSmileLeft"][1] == pytest.approx(0.8) and shapes["mouthSmileRight"][1] == 0
    assert shapes["eyeBlinkLeft"][1] == 1 and shapes["eyeBlinkRight"][1] == 1
    assert shapes["eyeLookOutLeft"][1] == pytest.approx(0.5) and shapes["eyeLookInLeft"][1] == 0
    assert all(v[0] == 0 for v in shapes.values())


def test_motion_rejects_bad_values():
    with pytest.raises(ValueError, match=r"\[T, 29\]"):
        Motion(np.zeros((5, 3)))
    bad = np.zeros((5, 29))
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Motion(bad)


def test_plan_round_trip_and_curves():
    plan = tbd.EmotionPlan(
        text="calm, then furious",
        steps=["one", "two"],
        emotions=[("calm", 0.5, 0.0, 0.5), ("angry", 0.9, 0.5, 1.0)],
        keyframes=[(0.0, {}), (0.5, {"AU4": 0.0}), (1.0, {"AU4": 0.9, "AU23": 0.7})],
        aus={"AU4": 0.9, "AU23": 0.7},
        regions={"brows": "corrugator supercilii pulls the brows down and together"},
        valence=-0.7,
        arousal=0.9,
        warnings=["x"],
    )
    assert tbd.EmotionPlan.from_dict(plan.to_dict()) == plan
    curves = plan.au_curves(101)
    col = ch.AU_CHANNELS.index("AU4")
    assert curves[0, col] == 0 and curves[50, col] == 0 and curves[100, col] == pytest.approx(0.9)
    assert curves[75, col] == pytest.approx(0.45, abs=0.01)
    with pytest.raises(tbd.PlanError, match="unknown AU"):
        tbd.EmotionPlan(text="x", aus={"AU99": 1.0})
    with pytest.raises(tbd.PlanError):
        tbd.EmotionPlan.from_dict({"steps": []})


def _au_frames(*frames: dict[str, float]) -> np.ndarray:
    values = np.zeros((len(frames), len(CHANNELS)), np.float32)
    for i, aus in enumerate(frames):
        for name, value in aus.items():
            values[i, ch.index(name)] = value
    return values


def test_arkit_speech_shapes():
    """The mouth shapes of speech reach a rig in the blendshapes that draw them (issue 11)."""
    pp, pp_open = {"AU24": 0.55, "AU23": 0.2}, {"AU24": 0.55, "AU23": 0.2, "AU25": 0.3, "AU26": 0.2}
    ff = {"AU25": 0.25, "AU10": 0.35, "AU17": 0.3, "AU26": 0.05}
    ou, ih = {"AU25": 0.35, "AU26": 0.16, "AU18": 0.75, "AU22": 0.5}, {"AU25": 0.5, "AU26": 0.22, "AU20": 0.5}
    aa = {"AU25": 0.9, "AU26": 0.72, "AU27": 0.1}
    s = tbd.motion.to_arkit(_au_frames(pp, pp_open, ff, ou, ih, aa))
    PP, PP_OPEN, FF, OU, IH, AA = range(6)
    # Bilabial: pressed lips; over an open jaw mouthClose takes back all of jawOpen's parting.
    assert s["mouthPressLeft"][PP] > 0.5 and s["mouthPressRight"][PP] > 0.5
    assert s["mouthClose"][PP] == 0 and s["jawOpen"][PP] == 0
    assert s["jawOpen"][PP_OPEN] > 0.05 and s["mouthClose"][PP_OPEN] == pytest.approx(s["jawOpen"][PP_OPEN])
    assert s["mouthLowerDownLeft"][PP_OPEN] == 0
    # A vowel is not closed, even with a little press in it (anger: AU24 0.3).
    angry_aa = tbd.motion.to_arkit(_au_frames({**aa, "AU24": 0.3, "AU23": 0.6}))
    assert angry_aa["mouthClose"][0] == 0 and s["mouthClose"][AA] == 0
    # f/v: the lower lip rolls in under the raised upper lip, not down.
    assert s["mouthRollLower"][FF] > 0.5 and s["mouthUpperUpLeft"][FF] > 0.3
    assert s["mouthLowerDownLeft"][FF] < 0.02 and s["mouthRollLower"][FF] > 2 * s["mouthRollLower"][PP]
    # The same AU10 and AU17 beside a wrinkled nose are disgust: the lower lip is not rolled in.
    disgust = tbd.motion.to_arkit(_au_frames({"AU9": 0.56, "AU10": 0.35, "AU15": 0.21, "AU17": 0.21}))
    assert disgust["mouthRollLower"][0] == 0 and disgust["noseSneerLeft"][0] > 0.5
    # Rounded against spread.
    assert s["mouthPucker"][OU] > 0.6 and s["mouthFunnel"][OU] > 0.4
    assert s["mouthPucker"][IH] == 0 and s["mouthStretchLeft"][IH] > 0.4 and s["mouthStretchLeft"][OU] == 0
    assert s["jawOpen"][AA] > 3 * s["jawOpen"][IH] > 0
