"""The built-in training corpus: synthetic speech paired with rig motion for random plans.

For each utterance: a random sentence is spoken by espeak-ng (voice, rate, pitch and level
drawn at random), word and phone timings come from pocketsphinx forced alignment when it is
installed, and ``takes`` random emotion texts go through ``tbd.think`` into plans; some plans
get local edits (an AU added, strengthened, weakened or removed) so that the local tokens
carry information the global emotion does not. The rig turns each plan and the audio into
motion; phone timings then shape the lips (closed on p/b/m, rounded on oo/w, ...).

Layout written (read back by ``tbd.training.dataset.load_corpus``)::

    corpus.json            {"format": "tbd-corpus", "version": 1, "fps", "audio_features", "clips": [...]}
    clips/<id>.wav         16 kHz mono speech
    clips/<id>.json        text, voice, words and phones (seconds), takes: [{emotion, plan, edits, seed}]
    clips/<id>.npz         audio [T, F] (AudioFeatures.matrix), motion [takes, T, C]
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .. import audio as audio_mod
from ..generator.checkpoint import AUDIO_FEATURES
from ..motion import channels as ch
from ..plan import EmotionPlan, Keyframe
from .dataset import CORPUS_FORMAT, CORPUS_VERSION
from .speech import VOICES_HELD_OUT, VOICES_TRAIN, Alignment, Segment, Voice, random_sentence, synthesize

_MODIFIERS = ("slightly", "a little", "somewhat", "quite", "very", "extremely", "mildly", "deeply")
_COURSES = (
    "{a}, then {b}", "{a} that slowly turns into {b}", "starts {a} and ends {b}", "{a} at first, later {b}",
    "{a} becoming {b}", "{a} and {b}", "{a} but {b}", "{a} with a hint of {b}", "{a} yet {b}",
)
_ACTIONS_WITH = ("with raised eyebrows", "with a smile", "with a frown", "with wide eyes", "with a smirk",
                 "with pressed lips", "with squinting eyes", "with a lip curl")

# AUs the local edits may add: emotion-bearing channels (not the blink or the speech-driven jaw).
_EDIT_CHANNELS = tuple(c for c in ch.AU_CHANNELS if c not in ("AU45", "AU25", "AU26", "AU27"))


@dataclass(frozen=True)
class CorpusConfig:
    """What ``make_corpus`` generates."""

    n_clips: int = 1200
    takes: int = 3
    split: str = "train"
    seed: int = 0
    fps: float = 25.0
    p_edit: float = 0.5
    align: bool = True
    min_words: int = 6


def random_emotion_text(rng: np.random.Generator) -> str:
    """A free-text emotion: a word, a graded word, a blend, a time course or a word with an action."""
    from ..emotion.prototypes import PROTOTYPES

    words = [w for p in PROTOTYPES.values() if p.name != "neutral" for w in p.words]
    pick = lambda: str(rng.choice(words))  # noqa: E731
    r = rng.random()
    if r < 0.25:
        return pick()
    if r < 0.45:
        return f"{rng.choice(_MODIFIERS)} {pick()}"
    if r < 0.8:
        a = pick() if rng.random() < 0.6 else f"{rng.choice(_MODIFIERS)} {pick()}"
        return str(rng.choice(_COURSES)).format(a=a, b=pick())
    if r < 0.95:
        return f"{pick()} {rng.choice(_ACTIONS_WITH)}"
    return "neutral"


def edit_plan(plan: EmotionPlan, rng: np.random.Generator) -> tuple[EmotionPlan, list[dict[str, Any]]]:
    """A copy of ``plan`` with one or two local AU edits (add, scale or remove), and the edits made.

    An added AU follows a random time course (whole clip, rising or falling) so that the
    local tokens' profiles vary; scaling and removal apply to every keyframe."""
    edits: list[dict[str, Any]] = []
    keyframes = [Keyframe(k.time, dict(k.aus)) for k in plan.keyframes] or [Keyframe(0.0, dict(plan.aus)),
                                                                           Keyframe(1.0, dict(plan.aus))]
    active = sorted({n for k in keyframes for n, v in k.aus.items() if v > 0.05})
    for _ in range(int(rng.integers(1, 3))):
        r = rng.random()
        if r < 0.55 or not active:
            name = str(rng.choice(_EDIT_CHANNELS))
            level = float(rng.uniform(0.3, 0.9))
            shape = str(rng.choice(["hold", "rise", "fall"]))
            for i, k in enumerate(keyframes):
                frac = k.time if shape == "rise" else 1.0 - k.time if shape == "fall" else 1.0
                k.aus[name] = max(k.aus.get(name, 0.0), level * (0.25 + 0.75 * frac))
            edits.append({"op": "add", "channel": name, "intensity": round(level, 3), "shape": shape})
        elif r < 0.85:
            name = str(rng.choice(active))
            factor = float(rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.3, 1.8)]))
            for k in keyframes:
                if name in k.aus:
                    k.aus[name] = float(np.clip(k.aus[name] * factor, 0.0, 1.0))
            edits.append({"op": "scale", "channel": name, "factor": round(factor, 3)})
        else:
            name = str(rng.choice(active))
            for k in keyframes:
                k.aus.pop(name, None)
            active.remove(name)
            edits.append({"op": "remove", "channel": name})
    peaks: dict[str, float] = {}
    for k in keyframes:
        for n, v in k.aus.items():
            peaks[n] = max(peaks.get(n, 0.0), round(float(v), 4))
    d = plan.to_dict()
    d["keyframes"] = [[k.time, {n: round(float(v), 4) for n, v in k.aus.items()}] for k in keyframes]
    d["aus"] = {n: v for n, v in peaks.items() if v > 0}
    d["steps"] = list(plan.steps) + [f"Local edit: {e}" for e in edits]
    return EmotionPlan.from_dict(d), edits


# Lip shapes per phone class (CMU phone set), applied on top of the rig's energy-driven mouth.
_CLOSED = {"P", "B", "M"}
_LABIODENTAL = {"F", "V"}
_ROUNDED = {"UW", "UH", "OW", "W", "OY"}
_POSTALVEOLAR = {"SH", "ZH", "CH", "JH", "R"}
_SPREAD = {"IY", "IH", "EY"}
_OPEN = {"AA", "AO", "AW", "AY", "AE"}


def shape_lips(values: np.ndarray, phones: list[Segment], fps: float) -> np.ndarray:
    """Phone-timed lip shapes on rig motion ``[T, C]`` (returns a new array).

    Bilabials close the lips, labiodentals tuck the lower lip, rounded vowels pucker and
    funnel, spread vowels stretch, open vowels open the jaw further; targets are smoothed
    over ~40 ms (co-articulation)."""
    n = values.shape[0]
    gate = np.ones(n)  # multiplies AU25/AU26 (lip part, jaw drop)
    adds = {name: np.zeros(n) for name in ("AU18", "AU22", "AU20", "AU24", "AU23")}
    jaw_boost = np.zeros(n)
    for p in phones:
        lo, hi = int(p.start * fps), max(int(p.start * fps) + 1, int(round(p.end * fps)))
        sl = slice(max(lo, 0), min(hi, n))
        if p.label in _CLOSED:
            gate[sl] = np.minimum(gate[sl], 0.1)
            adds["AU24"][sl] = np.maximum(adds["AU24"][sl], 0.3)
        elif p.label in _LABIODENTAL:
            gate[sl] = np.minimum(gate[sl], 0.45)
        elif p.label in _ROUNDED:
            adds["AU18"][sl] = np.maximum(adds["AU18"][sl], 0.45)
            adds["AU22"][sl] = np.maximum(adds["AU22"][sl], 0.25)
        elif p.label in _POSTALVEOLAR:
            adds["AU22"][sl] = np.maximum(adds["AU22"][sl], 0.4)
        elif p.label in _SPREAD:
            adds["AU20"][sl] = np.maximum(adds["AU20"][sl], 0.2)
        elif p.label in _OPEN:
            jaw_boost[sl] = 0.15
    sigma = 0.04 * fps
    out = values.copy()
    gate = gaussian_filter1d(gate, sigma)
    for name in ("AU25", "AU26"):
        col = ch.index(name)
        out[:, col] = out[:, col] * gate
    out[:, ch.index("AU26")] += gaussian_filter1d(jaw_boost, sigma) * (out[:, ch.index("AU25")] > 0.05)
    for name, curve in adds.items():
        col = ch.index(name)
        out[:, col] = np.maximum(out[:, col], gaussian_filter1d(curve, sigma))
    au = ch.indices(ch.AU_CHANNELS)
    out[:, au] = np.clip(out[:, au], 0.0, 1.0)
    return out.astype(np.float32)


def make_clip(index: int, cfg: CorpusConfig, aligner: Any | None) -> dict[str, Any]:
    """Generate utterance ``index`` of the corpus: returns wav samples, features, motions and info."""
    from ..emotion import think
    from ..generator.rig import RigGenerator

    rng = np.random.default_rng([cfg.seed, index, 0 if cfg.split == "train" else 1])
    voices = VOICES_TRAIN if cfg.split == "train" else VOICES_TRAIN + VOICES_HELD_OUT
    text = random_sentence(rng, cfg.min_words)
    voice = Voice.random(rng, voices)
    samples, rate = synthesize(text, voice)
    sound = audio_mod.load((samples, rate))
    feats = audio_mod.features(sound, fps=cfg.fps)
    alignment: Alignment | None = aligner.align(sound.samples, text) if aligner is not None else None

    rig = RigGenerator()
    takes, motions = [], []
    for t in range(cfg.takes):
        emotion = random_emotion_text(rng)
        plan = think(emotion, backend="rules")
        edits: list[dict[str, Any]] = []
        if rng.random() < cfg.p_edit:
            plan, edits = edit_plan(plan, rng)
        seed = int(rng.integers(2**31))
        values = rig.sample(plan, feats, seed=seed).values
        if alignment is not None:
            values = shape_lips(values, alignment.phones, cfg.fps)
        motions.append(values)
        takes.append({"emotion": emotion, "plan": plan.to_dict(), "edits": edits, "seed": seed})
    info = {
        "text": text, "voice": asdict(voice), "duration": sound.duration, "n_frames": feats.n_frames,
        "words": [asdict(w) for w in alignment.words] if alignment else None,
        "phones": [asdict(p) for p in alignment.phones] if alignment else None,
        "takes": takes,
    }
    return {"samples": sound.samples, "rate": sound.rate, "audio": feats.matrix(),
            "motion": np.stack(motions), "info": info}


def make_corpus(
    out: str | os.PathLike[str],
    cfg: CorpusConfig = CorpusConfig(),
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> Path:
    """Write ``cfg.n_clips`` utterances to ``out`` (appending to an existing corpus there:
    clips already present are kept, so an interrupted run can be resumed)."""
    import soundfile as sf

    out = Path(out)
    folder = out / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    index_path = out / "corpus.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {
        "format": CORPUS_FORMAT, "version": CORPUS_VERSION, "fps": cfg.fps, "audio_features": AUDIO_FEATURES,
        "clips": [], "runs": [],
    }
    if index.get("fps") != cfg.fps or index.get("audio_features") != AUDIO_FEATURES:
        raise ValueError(f"{out}: existing corpus has fps {index.get('fps')} / features "
                         f"{index.get('audio_features')}; write to a new folder")
    have = {c["id"] for c in index["clips"]}
    aligner = None
    if cfg.align:
        from .speech import Aligner, pocketsphinx_available

        if pocketsphinx_available():
            aligner = Aligner()
        else:
            log("pocketsphinx is not installed: no phone timings (lip shapes from energy only)")
    started = time.perf_counter()
    indices = range(cfg.n_clips)
    if progress:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc=f"corpus ({cfg.split})", unit="clip")
    for i in indices:
        clip_id = f"{cfg.split}-{cfg.seed:03d}-{i:06d}"
        if clip_id in have:
            continue
        clip = make_clip(i, cfg, aligner)
        sf.write(folder / f"{clip_id}.wav", clip["samples"], clip["rate"], subtype="PCM_16")
        np.savez_compressed(folder / f"{clip_id}.npz", audio=clip["audio"].astype(np.float32),
                            motion=clip["motion"].astype(np.float32))
        (folder / f"{clip_id}.json").write_text(json.dumps({"id": clip_id, "split": cfg.split, **clip["info"]}))
        index["clips"].append({"id": clip_id, "split": cfg.split, "n_frames": clip["info"]["n_frames"],
                               "takes": len(clip["info"]["takes"])})
        if len(index["clips"]) % 50 == 0:
            _write_index(index_path, index)
    index["runs"].append({**asdict(cfg), "elapsed_s": round(time.perf_counter() - started, 1),
                          "aligned": aligner is not None})
    _write_index(index_path, index)
    return out


def _write_index(path: Path, index: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    os.replace(tmp, path)
