"""The bundled DRAW checkpoint: the default generator of Talker, and what progressive guidance buys."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import tbd  # noqa: E402
from tbd import assets  # noqa: E402
from tbd.audio import features, load  # noqa: E402
from tbd.generator.adherence import CORNER_CHANNELS, AdherenceConfig  # noqa: E402
from tbd.generator.conditions import local_channels  # noqa: E402
from tbd.generator.diffusion import DiffusionGenerator  # noqa: E402
from tbd.generator.rig import RigGenerator  # noqa: E402
from tbd.generator.weights import bundled_weights_path  # noqa: E402
from tbd.motion import channels as ch  # noqa: E402
from tbd.plan import EmotionPlan  # noqa: E402

pytestmark = pytest.mark.skipif(bundled_weights_path() is None, reason="this install ships no DRAW weights")


@pytest.fixture(scope="module")
def gen():
    return DiffusionGenerator()


@pytest.fixture(scope="module")
def speech():
    return features(load(assets.speech_path()))


def test_bundled_checkpoint_is_small_and_described(gen):
    path = bundled_weights_path()
    assert path.stat().st_size <= 20 * 1024 * 1024
    training = gen.meta.training
    assert training["command"].startswith("tbd train") and training["step"] > 0
    assert training["losses"][-1]["loss"] < training["losses"][0]["loss"]
    assert 1_000_000 <= gen.model.n_parameters() <= 10_000_000


def test_talker_uses_the_diffusion_generator_by_default(speech):
    talker = tbd.Talker(progress=False)
    assert talker.generator.name == "diffusion"
    motion = talker.motion(assets.speech_path(), "happy", seed=1)
    assert motion.meta["generator"] == "diffusion" and motion.meta["weights"] == bundled_weights_path().name
    assert motion.meta["guidance"] == "progressive" and motion.meta["sampler"] and motion.meta["steps"] > 0
    assert motion.n_frames == speech.n_frames
    assert isinstance(tbd.Talker(generator="rig").generator, RigGenerator)
    ablation = talker.motion(assets.speech_path(), "happy", seed=1, guidance="global")
    assert ablation.meta["guidance"] == "global"


def test_motion_follows_speech_and_emotion(gen, speech):
    happy = gen.sample(tbd.think("very happy"), speech, seed=0).values
    sad = gen.sample(tbd.think("deeply sad"), speech, seed=0).values
    smile = ch.indices(("AU12L", "AU12R"))
    assert happy[25:, smile].mean() > sad[25:, smile].mean() + 0.1
    brow = ch.index("AU1")
    assert sad[25:, brow].mean() > happy[25:, brow].mean()
    mouth = happy[:, ch.index("AU25")] + happy[:, ch.index("AU26")]
    assert np.corrcoef(mouth, speech.loudness)[0, 1] > 0.5


def _local_error(values: np.ndarray, plan: EmotionPlan) -> float:
    target = plan.au_curves(values.shape[0])
    names = [n for n in local_channels(plan) if n not in ("AU25", "AU26", "AU27", "AU45")]
    cols = [ch.AU_CHANNELS.index(n) for n in names]
    return float(np.abs(values[9:, ch.indices(names)] - target[9:, cols]).mean())


def test_progressive_guidance_beats_global_only_on_requested_aus(gen, speech):
    """Plans whose requested AUs differ from what the emotion alone implies (a local edit):
    progressive guidance follows them, global-only guidance cannot know them."""
    from tbd.training.corpus import edit_plan

    rng = np.random.default_rng(7)
    progressive, global_only = [], []
    for text in ("smiling", "a bit worried", "happy, then surprised", "annoyed"):
        plan, _ = edit_plan(tbd.think(text), rng)
        while not [n for n in local_channels(plan) if n not in ("AU25", "AU26", "AU27", "AU45")]:
            plan, _ = edit_plan(tbd.think(text), rng)  # an edit removed the only AU: edit again
        progressive.append(_local_error(gen.sample(plan, speech, seed=3).values, plan))
        global_only.append(_local_error(gen.sample(plan, speech, seed=3, guidance="global").values, plan))
    assert np.mean(progressive) < np.mean(global_only)
    assert sum(p < g for p, g in zip(progressive, global_only)) >= 3


@pytest.mark.parametrize("text", ["surprised", "angry", "happy"])
def test_lip_corners_the_plan_does_not_ask_for_stay_at_rest(gen, speech, text):
    """DRAW's global-only channels used to carry corner AUs of neighbouring emotions (AU15 0.21 on
    "surprised", 0.13 on "happy"); the corners now keep to the plan, and the planned AUs and speech stay."""
    plan = tbd.think(text)
    values = gen.sample(plan, speech, seed=0).values
    planned = {c for name in plan.aus for c in ch.expand_au(name)}
    unplanned = [n for n in CORNER_CHANNELS if n not in planned]
    assert unplanned and values[:, ch.indices(unplanned)].max() <= AdherenceConfig().unplanned_max + 1e-6
    asked = sorted(planned - {"AU25", "AU26", "AU27"})
    assert values[25:, ch.indices(asked)].mean(axis=0).max() > 0.3  # the planned expression is still there
    mouth = values[:, ch.index("AU25")] + values[:, ch.index("AU26")]
    assert np.corrcoef(mouth, speech.loudness)[0, 1] > 0.5
