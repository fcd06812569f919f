"""Talker: the whole chain, portrait + speech + emotion text -> Animation."""

from __future__ import annotations

import time
import warnings
from typing import Any

from . import audio as audio_mod
from .animation import Animation
from .audio import AudioSource
from .generator import GeneratorSpec, load_generator
from .image import load_image
from .motion import Motion
from .plan import EmotionPlan


class Talker:
    """Animate portraits from speech and a free-text emotion.

    Args:
        generator: ``None`` for the default generator, ``"rig"`` for the deterministic one,
            a ``.safetensors`` or ``.onnx`` file, or any object with the Generator interface.
        fps: video frame rate of the motion and frames.
        think_backend: passed to ``tbd.think`` (``"auto"``, ``"rules"``, or an LLM backend).
        face_backend: ``"auto"``, ``"mediapipe"`` or ``"dlib"``.
        progress: show progress bars on long work.
    """

    def __init__(
        self,
        generator: GeneratorSpec = None,
        *,
        fps: float = 25.0,
        think_backend: Any = "auto",
        face_backend: str = "auto",
        progress: bool = True,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.generator = load_generator(generator)
        self.fps = float(fps)
        self.think_backend = think_backend
        self.face_backend = face_backend
        self.progress = progress

    def plan(self, emotion: str | EmotionPlan) -> EmotionPlan:
        """The EmotionPlan for ``emotion``; empty text gives a neutral plan with a warning."""
        if isinstance(emotion, EmotionPlan):
            return emotion
        if not isinstance(emotion, str):
            raise TypeError(f"emotion must be text or an EmotionPlan, got {type(emotion).__name__}")
        if not emotion.strip():
            message = "empty emotion text: animating a neutral face"
            warnings.warn(message, stacklevel=3)
            return EmotionPlan.neutral(emotion, warning=message)
        from .emotion import think

        return think(emotion, backend=self.think_backend)

    def motion(
        self, audio: AudioSource, emotion: str | EmotionPlan, *, seed: int = 0, **options: Any
    ) -> Motion:
        """Motion only (no rendering), for 3D rigs and VTuber apps. ``options`` go to the
        generator (e.g. ``guidance="progressive"`` for the diffusion generator)."""
        plan = self.plan(emotion)
        feats = audio_mod.features(audio_mod.load(audio), fps=self.fps)
        return self.generator.sample(plan, feats, seed=seed, progress=self.progress, **options)

    def animate(
        self,
        image: Any,
        audio: AudioSource,
        emotion: str | EmotionPlan = "",
        *,
        seed: int = 0,
        size: int | None = None,
        **options: Any,
    ) -> Animation:
        """Animate ``image`` speaking ``audio`` with ``emotion``.

        ``size`` resizes the portrait so its longer side is ``size`` pixels (default: as given).
        Raises NoFaceError, AudioError, ImageError or PlanError on bad input.
        """
        from .face import detect
        from .render import Renderer

        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = now - clock
            clock = now

        portrait, name = load_image(image, size=size)
        sound = audio_mod.load(audio)
        feats = audio_mod.features(sound, fps=self.fps)
        lap("audio")
        plan = self.plan(emotion)
        lap("think")
        face = detect(portrait, backend=self.face_backend, source=name)
        lap("face")
        motion = self.generator.sample(plan, feats, seed=seed, progress=self.progress, **options)
        lap("generate")
        frames = Renderer(portrait, face).render(motion, progress=self.progress)
        lap("render")
        meta = {**motion.meta, "face_backend": face.backend, "size": list(portrait.shape[:2]), "timings": timings}
        return Animation(frames=frames, motion=motion, plan=plan, audio=sound, meta=meta)
