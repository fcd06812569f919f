"""Real training data: a documented per-clip layout, and indexers for MEAD and HDTF.

Layout (one folder per clip; see docs/training.md)::

    <root>/<clip>/audio.wav       speech (any rate; or audio.flac/.mp3/.m4a when soundfile reads it)
    <root>/<clip>/meta.json       {"emotion": "happy", "intensity": 0.66, "fps": 25}   (fps of the curves)
    and one motion source, first found wins:
    <root>/<clip>/motion.npy      float32 [T, 29] in tbd.motion.CHANNELS order (AUs, pose, gaze)
    <root>/<clip>/aus.csv         header = channel names (any subset of tbd.motion.CHANNELS), one row per frame
    <root>/<clip>/landmarks.npy   float32 [T, 468|478|68, 2] pixel landmarks (AUs fitted through tbd.face)
    <root>/<clip>/video.mp4       frames (landmarks detected with tbd.face, then as above; audio.wav still needed)

Channels a source does not give (gaze from landmarks, pose from a CSV without it) are left
out of the loss. The plan of a clip is its emotion label at its intensity (global token),
with local tokens for the AUs the clip shows (their measured time course).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import audio as audio_mod
from ..errors import BackendError
from ..motion import channels as ch
from ..plan import EmotionPlan, EmotionSpan, Keyframe
from ..generator.windows import resample_time
from .dataset import Clip, DataError

AUDIO_NAMES = ("audio.wav", "audio.flac", "audio.ogg", "audio.mp3", "audio.m4a")
MEAD_LEVELS = {"level_1": 0.33, "level_2": 0.66, "level_3": 1.0}
KEYFRAMES = 8


@dataclass(frozen=True)
class RealSource:
    """One clip of an external data set before conversion: where its video/audio are and its label."""

    clip_id: str
    video: Path
    audio: Path | None
    emotion: str
    intensity: float


def index_mead(root: str | Path, view: str = "front") -> list[RealSource]:
    """Clips of MEAD (Wang et al. 2020) laid out as released:
    ``<root>/<subject>/video/<view>/<emotion>/level_<n>/<nnn>.mp4`` with audio in
    ``<root>/<subject>/audio/<emotion>/level_<n>/<nnn>.m4a``. Levels 1..3 map to 0.33/0.66/1.0."""
    from ..emotion.prototypes import MEAD_EMOTIONS

    root = Path(root)
    out = []
    for video in sorted(root.glob(f"*/video/{view}/*/level_*/*.mp4")):
        level, emotion, subject = video.parent.name, video.parent.parent.name, video.parents[4].name
        if emotion not in MEAD_EMOTIONS or level not in MEAD_LEVELS:
            continue
        audio = root / subject / "audio" / emotion / level / (video.stem + ".m4a")
        intensity = 0.0 if emotion == "neutral" else MEAD_LEVELS[level]
        out.append(RealSource(f"mead-{subject}-{emotion}-{level}-{video.stem}", video,
                              audio if audio.is_file() else None, MEAD_EMOTIONS[emotion], intensity))
    return out


def index_hdtf(root: str | Path) -> list[RealSource]:
    """Clips of HDTF (Zhang et al. 2021): ``<root>/**/<RD|WDA|WRA>_<name>.mp4`` (speech in the
    video's own audio track). HDTF has no emotion labels: clips are "neutral" at intensity 0,
    and the local tokens carry the measured AUs."""
    root = Path(root)
    return [RealSource(f"hdtf-{v.stem}", v, None, "neutral", 0.0)
            for v in sorted(root.rglob("*.mp4")) if v.stem.split("_")[0] in ("RD", "WDA", "WRA")]


def plan_from_motion(label: str, intensity: float, aus: np.ndarray) -> EmotionPlan:
    """The plan of a real clip: its label as the one emotion span, and keyframes of the AUs it shows."""
    curves = resample_time(np.asarray(aus, np.float32), KEYFRAMES)
    times = np.linspace(0.0, 1.0, KEYFRAMES)
    keyframes = []
    for t, row in zip(times, curves):
        keyframes.append(Keyframe(float(t), {n: round(float(v), 3) for n, v in zip(ch.AU_CHANNELS, row)
                                             if v >= 0.05 and n != "AU45"}))
    peaks: dict[str, float] = {}
    for k in keyframes:
        for n, v in k.aus.items():
            peaks[n] = max(peaks.get(n, 0.0), v)
    return EmotionPlan(text=f"{label} ({intensity:.2f})", emotions=[EmotionSpan(label, float(intensity), 0.0, 1.0)],
                       keyframes=keyframes, aus=peaks, backend="data")


def _read_csv(path: Path, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header row of channel names and at least one frame")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in ch.CHANNELS]
    if unknown:
        raise DataError(f"{path}: unknown channel names {unknown}; use names from tbd.motion.CHANNELS")
    values = np.zeros((len(rows) - 1, n_channels), np.float32)
    observed = np.zeros(n_channels, bool)
    data = np.asarray(rows[1:], dtype=np.float32)
    for j, name in enumerate(header):
        values[:, ch.index(name)] = data[:, j]
        observed[ch.index(name)] = True
    return values, observed


def motion_from_landmarks(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame AUs fitted to landmarks [T, N, 2] through tbd.face's displacement basis."""
    try:
        from ..face.expression import estimate_aus_from_mesh
        from ..face.fit import mesh_from_sparse
        from ..face.topology import DLIB_TO_MESH
    except ImportError as exc:
        raise BackendError(f"fitting AUs to landmarks needs tbd.face ({exc})") from exc
    values = np.zeros((len(landmarks), ch.N_CHANNELS), np.float32)
    observed = np.zeros(ch.N_CHANNELS, bool)
    observed[ch.indices(ch.AU_CHANNELS)] = True
    for t, points in enumerate(np.asarray(landmarks, np.float64)):
        if points.shape[0] == 68:
            mesh, _, pose = mesh_from_sparse(points)
            aus = estimate_aus_from_mesh(mesh, DLIB_TO_MESH)
            for name in ch.POSE_CHANNELS:
                values[t, ch.index(name)] = pose.get(name, 0.0)
            observed[ch.indices(ch.POSE_CHANNELS)] = True
        else:
            aus = estimate_aus_from_mesh(points[:, :2])
        for name, v in aus.items():
            values[t, ch.index(name)] = v
    return values, observed


def landmarks_from_video(path: Path, fps: float) -> np.ndarray:
    """Face mesh points [T, 478, 2] per frame of a video (resampled to ``fps``) with tbd.face."""
    try:
        import av
    except ImportError as exc:
        raise BackendError("reading training videos needs PyAV: pip install av") from exc
    from ..face import detect

    meshes, times = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            meshes.append(detect(frame.to_ndarray(format="rgb24"), source=str(path)).mesh)
            times.append(float(frame.time or 0.0))
    if not meshes:
        raise DataError(f"{path}: no video frames")
    duration = times[-1] + (times[1] - times[0] if len(times) > 1 else 1.0 / fps)
    return resample_time(np.stack(meshes), max(1, int(round(duration * fps))))


def read_real_clip(folder: Path, fps: float = 25.0) -> Clip:
    """One clip folder of the real-data layout as a training Clip."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DataError(f"{folder}: missing meta.json ({{'emotion': ..., 'intensity': ...}})")
    meta = json.loads(meta_path.read_text())
    audio_path = next((folder / n for n in AUDIO_NAMES if (folder / n).is_file()), None)
    if audio_path is None:
        raise DataError(f"{folder}: no audio file (one of {', '.join(AUDIO_NAMES)})")
    feats = audio_mod.features(audio_mod.load(audio_path), fps=fps)
    curve_fps = float(meta.get("fps", fps))
    if (folder / "motion.npy").is_file():
        values = np.load(folder / "motion.npy").astype(np.float32)
        if values.ndim != 2 or values.shape[1] != ch.N_CHANNELS:
            raise DataError(f"{folder}/motion.npy: must be [T, {ch.N_CHANNELS}], got {values.shape}")
        observed = np.ones(ch.N_CHANNELS, bool)
    elif (folder / "aus.csv").is_file():
        values, observed = _read_csv(folder / "aus.csv", ch.N_CHANNELS)
    elif (folder / "landmarks.npy").is_file():
        values, observed = motion_from_landmarks(np.load(folder / "landmarks.npy"))
    elif (folder / "video.mp4").is_file():
        values, observed = motion_from_landmarks(landmarks_from_video(folder / "video.mp4", curve_fps))
    else:
        raise DataError(f"{folder}: no motion source (motion.npy, aus.csv, landmarks.npy or video.mp4)")
    n = feats.n_frames
    values = resample_time(values, max(1, int(round(len(values) * fps / curve_fps))))
    values = resample_time(values, n) if abs(len(values) - n) > 0 else values
    plan = plan_from_motion(str(meta.get("emotion", "neutral")), float(meta.get("intensity", 0.0)),
                            values[:, ch.indices(ch.AU_CHANNELS)])
    return Clip(folder.name, feats.matrix(), [values], [plan], str(meta.get("split", "train")),
                {"source": str(folder)}, observed=observed)


def load_real_clips(root: str | Path, fps: float = 25.0, split: str | None = "train") -> list[Clip]:
    """Every clip folder under ``root`` in the real-data layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such data folder")
    folders = sorted(p for p in root.iterdir() if (p / "meta.json").is_file())
    if not folders:
        raise DataError(f"{root}: no clip folders with meta.json (see docs/training.md for the layout)")
    clips = [read_real_clip(f, fps) for f in folders]
    return [c for c in clips if split is None or c.split == split]


def prepare_real(sources: list[RealSource], out: str | Path) -> Path:
    """Convert indexed MEAD/HDTF clips into the layout above (audio.wav, meta.json, video.mp4 link)."""
    import soundfile as sf

    out = Path(out)
    for src in sources:
        folder = out / src.clip_id
        folder.mkdir(parents=True, exist_ok=True)
        sound = audio_mod.load(src.audio) if src.audio is not None else _audio_of_video(src.video)
        sf.write(folder / "audio.wav", sound.samples, sound.rate)
        (folder / "meta.json").write_text(json.dumps({"emotion": src.emotion, "intensity": src.intensity}))
        link = folder / "video.mp4"
        if not link.exists():
            link.symlink_to(src.video.resolve())
    return out


def _audio_of_video(path: Path) -> audio_mod.Audio:
    try:
        import av
    except ImportError as exc:
        raise BackendError("reading audio from video needs PyAV: pip install av") from exc
    chunks, rate = [], None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            chunks.append(frame.to_ndarray().mean(axis=0))
    if not chunks:
        raise DataError(f"{path}: the video has no audio track")
    return audio_mod.load((np.concatenate(chunks).astype(np.float32), int(rate)))
