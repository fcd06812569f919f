"""The built-in training corpus: synthetic speech paired with rig motion for random plans.

For each utterance: a random sentence is spoken by espeak-ng (voice, rate, pitch and level
drawn at random), word and phone timings come from pocketsphinx forced alignment when it is
installed, and ``takes`` random emotion texts go through ``tbd.think`` into plans; some plans
get local edits (an AU added, strengthened, weakened or removed) so that the local tokens
carry information the global emotion does not. The rig turns each plan and the audio into
motion, its lips shaped by the visemes of the aligned phones (``tbd.articulation``).

Layout written (read back by ``tbd.training.dataset.load_corpus``)::

    corpus.json            {"format": "tbd-corpus", "version": 1, "fps", "audio_features", "clips": [...]}
    clips/<id>.wav         16 kHz mono speech
    clips/<id>.json        text, voice, words and phones (seconds), takes: [{emotion, plan, edits, seed}]
    clips/<id>.npz         audio [T, F] (AudioFeatures.matrix), motion [takes, T, C],
                           articulation_transcript / articulation_audio [T, 16]
"""

from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import audio as audio_mod
from ..generator.checkpoint import AUDIO_FEATURES
from ..motion import channels as ch
from ..plan import EmotionPlan, Keyframe
from .dataset import CORPUS_FORMAT, CORPUS_VERSION
from .speech import (VOICES_FESTIVAL, VOICES_HELD_OUT, VOICES_TRAIN, Alignment, Segment, Voice, random_sentence,
                     synthesize)

_MODIFIERS = ("slightly", "a little", "somewhat", "quite", "very", "extremely", "mildly", "deeply")
_COURSES = (
    "{a}, then {b}", "{a} that slowly turns into {b}", "starts {a} and ends {b}", "{a} at first, later {b}",
    "{a} becoming {b}", "{a} and {b}", "{a} but {b}", "{a} with a hint of {b}", "{a} yet {b}",
)
_ACTIONS_WITH = ("with raised eyebrows", "with a smile", "with a frown", "with wide eyes", "with a smirk",
                 "with pressed lips", "with squinting eyes", "with a lip curl")

# AUs the local edits may add: emotion-bearing channels (not the blink or the speech-driven jaw).
_EDIT_CHANNELS = tuple(c for c in ch.AU_CHANNELS if c not in ("AU45", "AU25", "AU26", "AU27"))


FESTIVAL_SHARE = 0.3
"""The share of utterances festival speaks in a ``tbd corpus --festival`` corpus (the rest: espeak-ng)."""


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
    festival_share: float = 0.0  # share of the utterances spoken by festival voices (0: espeak-ng only)


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


def new_take(rng: np.random.Generator, p_edit: float) -> dict[str, Any]:
    """One random take: an emotion text, its rules plan (locally edited with probability ``p_edit``), a seed."""
    from ..emotion import think

    emotion = random_emotion_text(rng)
    plan = think(emotion, backend="rules")
    edits: list[dict[str, Any]] = []
    if rng.random() < p_edit:
        plan, edits = edit_plan(plan, rng)
    return {"emotion": emotion, "plan": plan.to_dict(), "edits": edits, "seed": int(rng.integers(2**31))}


def make_clip(index: int, cfg: CorpusConfig, aligner: Any | None) -> dict[str, Any]:
    """Generate utterance ``index`` of the corpus: returns wav samples, features, motions and info."""
    from ..generator.rig import RigGenerator

    rng = np.random.default_rng([cfg.seed, index, 0 if cfg.split == "train" else 1])
    voices = VOICES_TRAIN if cfg.split == "train" else VOICES_TRAIN + VOICES_HELD_OUT
    text = random_sentence(rng, cfg.min_words)
    if cfg.festival_share > 0 and rng.random() < cfg.festival_share:
        voices = VOICES_FESTIVAL
    voice = Voice.random(rng, voices)
    samples, rate = synthesize(text, voice)
    sound = audio_mod.load((samples, rate))
    feats = audio_mod.features(sound, fps=cfg.fps)
    alignment: Alignment | None = aligner.align(sound.samples, text) if aligner is not None else None

    rig = RigGenerator()
    arts = clip_articulation(sound, feats, alignment)
    takes = [new_take(rng, cfg.p_edit) for _ in range(cfg.takes)]
    motions = [rig.sample(EmotionPlan.from_dict(t["plan"]), feats, seed=t["seed"], articulation=arts["teacher"]).values
               for t in takes]
    info = {
        "text": text, "voice": asdict(voice), "duration": sound.duration, "n_frames": feats.n_frames,
        "words": [asdict(w) for w in alignment.words] if alignment else None,
        "phones": [asdict(p) for p in alignment.phones] if alignment else None,
        "takes": takes,
    }
    return {"samples": sound.samples, "rate": sound.rate, "audio": feats.matrix(),
            "motion": np.stack(motions), "info": info, **_articulation_arrays(arts)}


def clip_articulation(sound: Any, feats: Any, alignment: Alignment | None) -> dict[str, Any]:
    """The articulations of a corpus clip: ``transcript`` (from the aligned phones, None
    without an alignment), ``audio`` (the bundled classifier's reading of the audio) and
    ``teacher``, the one the rig's motion is made with (the transcript's when there is one)."""
    from ..articulation import from_audio, from_phones

    from_text = from_phones(alignment.phones, feats.n_frames, feats.fps) if alignment and alignment.phones else None
    heard = from_audio(feats)
    return {"transcript": from_text, "audio": heard, "teacher": from_text if from_text is not None else heard}


def _articulation_arrays(arts: dict[str, Any]) -> dict[str, np.ndarray]:
    return {f"articulation_{k}": a.features() for k, a in arts.items() if k != "teacher" and a is not None}


def refresh_motion(corpus: str | os.PathLike[str], *, takes: int | None = None, p_edit: float = CorpusConfig.p_edit,
                   progress: bool = True) -> int:
    """Remake every clip's motion with this tbd's rig (same plans and seeds, phones from the
    clip's alignment) and store its articulations; returns the number of clips. Used after the
    rig changes, instead of synthesising and aligning the speech again. With ``takes``, clips
    with fewer takes get new random ones (seeded by the clip's id) up to that many."""
    import soundfile as sf

    from ..generator.rig import RigGenerator

    root = Path(corpus)
    index = json.loads((root / "corpus.json").read_text())
    rig = RigGenerator()
    clips = index["clips"]
    if progress:
        from tqdm.auto import tqdm

        clips = tqdm(clips, desc="refresh motion", unit="clip")
    for entry in clips:
        folder = root / "clips"
        info = json.loads((folder / f"{entry['id']}.json").read_text())
        if takes is not None and len(info["takes"]) < takes:
            rng = np.random.default_rng([zlib.crc32(entry["id"].encode()), len(info["takes"])])
            info["takes"] += [new_take(rng, p_edit) for _ in range(takes - len(info["takes"]))]
            _write_json(folder / f"{entry['id']}.json", info)
            entry["takes"] = len(info["takes"])
        samples, rate = sf.read(folder / f"{entry['id']}.wav", dtype="float32", always_2d=False)
        sound = audio_mod.load((samples, rate))
        feats = audio_mod.features(sound, fps=float(index["fps"]))
        phones = [Segment(p["label"], p["start"], p["end"]) for p in info.get("phones") or []]
        arts = clip_articulation(sound, feats, Alignment([], phones) if phones else None)
        motions = [rig.sample(EmotionPlan.from_dict(t["plan"]), feats, seed=int(t["seed"]),
                              articulation=arts["teacher"]).values for t in info["takes"]]
        tmp = folder / f"{entry['id']}.tmp.npz"
        np.savez_compressed(tmp, audio=feats.matrix().astype(np.float32), motion=np.stack(motions).astype(np.float32),
                            **_articulation_arrays(arts))
        os.replace(tmp, folder / f"{entry['id']}.npz")
    if takes is not None:
        _write_index(root / "corpus.json", index)
    return len(index["clips"])


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
                            motion=clip["motion"].astype(np.float32),
                            **{k: v for k, v in clip.items() if k.startswith("articulation_")})
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
    _write_json(path, index, indent=1)


def _write_json(path: Path, data: dict, indent: int | None = None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=indent))
    os.replace(tmp, path)
