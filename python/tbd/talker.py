"""Talker: the whole chain, portrait + speech + emotion text -> Animation, or a live session.

See docs/architecture.md for the pipeline, the data types and the time model.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import audio as audio_mod
from ._threads import torch_threads
from .animation import Animation
from .audio import AudioSource
from .errors import NoFaceError, OptionError, PlanError
from .generator import GeneratorSpec, load_generator
from .image import image_size, load_image
from .motion import Motion
from .plan import EmotionPlan

if TYPE_CHECKING:
    from .render import RenderConfig

DEFAULT_WORKING_SIZE = 1024
"""Portraits whose longer side exceeds this many pixels are reduced for rendering."""
MIN_FPS = 1.0
"""Lowest frame rate a Talker makes (below it a clip's frames no longer follow speech)."""
MAX_FPS = 240.0
"""Highest frame rate a Talker makes (frames are rendered one by one: more is only memory)."""
MIN_FACE_PX = 160
"""A face whose box (`FaceModel.bbox`) would be drawn smaller than this many pixels high, because a large photo was
reduced to `working_size`, is rendered from a crop of the photo around it instead (`Talker(face_crop=...)`): a face
125-145 px high in a 4000 x 3000 photo was drawn 32-37 px high in a 1024-px frame, its lids and lips a pixel."""
MIN_CROP_GAIN = 1.5
"""...and only where the crop draws the face at least this many times as large as the whole reduced photo would."""
MAX_GOOD_TURN = 45.0
"""Degrees of head turn (the face model's yaw) beyond which `Talker.prepare` warns: the mouth and lids of a face turned
further are drawn poorly. MediaPipe reads the slightly turned development portraits at 10-13 degrees and the
cameraman, turned 60-70 degrees, at 52."""


@dataclass
class Avatar:
    """A prepared portrait (``Talker.prepare``): the working-size image, its detected face
    (with the source expression the renderer undoes) and the renderer built for it. Make it
    once and reuse it for every clip and live session of that portrait."""

    image: np.ndarray
    face: Any
    renderer: Any
    source: str = "image"
    original_size: tuple[int, int] = (0, 0)
    """(height, width) of the portrait as given."""
    notes: list[str] = field(default_factory=list)
    crop: tuple[int, int, int, int] | None = None
    """(x0, y0, x1, y1): the part of the portrait as given (its pixels) that ``image`` shows, when the face was too
    small in a large photo to render the whole of it (``Talker(face_crop=...)``); None: all of it."""

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the working image (what frames have)."""
        return (int(self.image.shape[0]), int(self.image.shape[1]))

    @property
    def source_aus(self) -> dict[str, float]:
        """The expression the portrait already shows (estimated AUs)."""
        return dict(self.face.source_aus)


class Talker:
    """Animate portraits from speech and a free-text emotion.

    Args:
        generator: ``None`` for the default generator, ``"rig"`` for the deterministic one,
            a ``.safetensors`` or ``.onnx`` file, or any object with the Generator interface.
        fps: video frame rate of the motion and frames.
        think_backend: passed to ``tbd.think`` (``"auto"``, ``"rules"``, or an LLM backend).
        face_backend: ``"auto"``, ``"mediapipe"`` or ``"dlib"``.
        progress: show progress bars on long work.
        working_size: portraits larger than this (longer side, pixels) are reduced to it for
            rendering, with a warning; ``None`` renders at any size.
        face_crop: where that reduction would draw the face smaller than ``MIN_FACE_PX`` (a face small in a large
            photo), frames are a crop of the photo around the face instead: this many times the face's box on a
            side, cut at the photo's edges, reduced only if still larger than ``working_size`` (``Avatar.crop``
            says which part, with a warning). ``None``: always the whole photo.
        threads: torch intra-op threads while this Talker samples (set for the call and
            restored, see ``tbd._threads``); ``None`` (default) leaves torch's setting alone.
        cache_size: prepared avatars kept by ``prepare`` (by image content and size).
        render_config: the renderer's tunables (``tbd.render.RenderConfig``) for every avatar this
            Talker prepares; ``None``: the defaults.
        audio_level: how the recording is evened out before DRAW hears it (``tbd.audio.LevelConfig``:
            a DC offset removed, a quiet voice raised, steady noise gated), in batch and live alike;
            ``None``: the audio as recorded.
    """

    def __init__(
        self,
        generator: GeneratorSpec = None,
        *,
        fps: float = 25.0,
        think_backend: Any = "auto",
        face_backend: str = "auto",
        progress: bool = True,
        working_size: int | None = DEFAULT_WORKING_SIZE,
        face_crop: float | None = 3.0,
        threads: int | None = None,
        cache_size: int = 4,
        render_config: RenderConfig | None = None,
        audio_level: audio_mod.LevelConfig | None = audio_mod.LevelConfig(),
    ) -> None:
        from .face.detect import BACKENDS as FACE_BACKENDS

        if not (_number(fps) and MIN_FPS <= fps <= MAX_FPS):
            raise OptionError(f"fps must be a number from {MIN_FPS:g} to {MAX_FPS:g}, got {fps!r}")
        if working_size is not None and not (_whole(working_size) and working_size >= 64):
            raise OptionError(f"working_size must be a whole number of at least 64 pixels (or None), "
                              f"got {working_size!r}")
        if face_crop is not None and not (_number(face_crop) and 1.5 <= face_crop <= 10):
            raise OptionError(f"face_crop must be a number from 1.5 to 10 (the crop's side over the face's) or None, "
                              f"got {face_crop!r}")
        if threads is not None and not (_whole(threads) and threads >= 1):
            raise OptionError(f"threads must be a whole number of at least 1 (or None: torch's default), "
                              f"got {threads!r}")
        if not (_whole(cache_size) and cache_size >= 0):
            raise OptionError(f"cache_size must be a whole number of prepared portraits, 0 or more, got {cache_size!r}")
        if audio_level is not None and not isinstance(audio_level, audio_mod.LevelConfig):
            raise OptionError(f"audio_level must be a tbd.audio.LevelConfig or None, got {type(audio_level).__name__}")
        if face_backend not in FACE_BACKENDS:
            raise OptionError(f"unknown face_backend {face_backend!r}; use one of {', '.join(FACE_BACKENDS)}")
        self.generator = load_generator(generator)
        self.fps = float(fps)
        self.think_backend = think_backend
        self.face_backend = face_backend
        self.progress = progress
        self.working_size = working_size
        self.face_crop = None if face_crop is None else float(face_crop)
        self.threads = None if threads is None else int(threads)
        self.cache_size = int(cache_size)
        self.render_config = render_config
        self.audio_level = audio_level
        self._avatars: OrderedDict[tuple, Avatar] = OrderedDict()
        self._lock = threading.Lock()

    def plan(self, emotion: str | EmotionPlan) -> EmotionPlan:
        """The EmotionPlan for ``emotion``; empty text gives a neutral plan with a warning."""
        if isinstance(emotion, EmotionPlan):
            return emotion
        if not isinstance(emotion, str):
            raise PlanError(f"emotion must be text or an EmotionPlan, got {type(emotion).__name__}; "
                            "pass e.g. 'a polite smile'")
        if not emotion.strip():
            message = "empty emotion text: animating a neutral face"
            warnings.warn(message, stacklevel=3)
            return EmotionPlan.neutral(emotion, warning=message)
        from .emotion import think

        return think(emotion, backend=self.think_backend)

    # --- stages -------------------------------------------------------------------------
    def prepare(self, image: Any, *, size: int | None = None) -> Avatar:
        """Detect the face in ``image`` and build its renderer, once: returns a reusable
        ``Avatar`` (kept in a small cache, so preparing the same portrait again is free).

        ``size`` resizes the portrait so its longer side is ``size`` pixels; without it a
        portrait larger than ``working_size`` is reduced to that, with a warning.
        Raises NoFaceError or ImageError on bad input."""
        if isinstance(image, Avatar):
            return image
        key = (_image_key(image), size, self.working_size, self.face_crop, self.face_backend, id(self.render_config))
        with self._lock:
            if key[0] is not None and key in self._avatars:
                self._avatars.move_to_end(key)
                return self._avatars[key]
        from .face import detect
        from .render import Renderer

        probe = _image_size(image)
        notes: list[str] = []

        def note(text: str) -> None:  # warned once here, and kept with the avatar for later readers
            warnings.warn(text, stacklevel=3)
            notes.append(text)

        limit = self.working_size
        reduced = size is None and limit is not None and probe is not None and max(probe) > limit
        portrait, name = load_image(image, size=limit if reduced else size)
        try:
            face = detect(portrait, backend=self.face_backend, source=name)
        except NoFaceError as exc:
            if not reduced:
                raise
            raise NoFaceError(f"{exc} (the {probe[1]}x{probe[0]} px photo was searched reduced to {limit} px on "
                              "its longer side: crop it around the face, or pass size= to search more of its pixels)"
                              ) from exc
        crop = self._face_crop(face, portrait.shape[:2], probe) if reduced and self.face_crop is not None else None
        if crop is not None:
            try:
                portrait, face = self._cropped(image, crop, name)
            except NoFaceError:  # found in the reduced photo but not in the crop: keep the whole photo
                crop = None
        if crop is not None:
            x0, y0, x1, y1 = crop
            note(f"the face is small in {name} ({probe[1]}x{probe[0]} px): rendering the {x1 - x0}x{y1 - y0} px "
                 f"around it at {portrait.shape[1]}x{portrait.shape[0]} (Avatar.crop; Talker(face_crop=None) or "
                 "size= renders the whole photo)")
        elif reduced:
            note(f"the portrait is {probe[1]}x{probe[0]} px: reduced to {self.working_size} px on its longer side "
                 f"for rendering (Talker(working_size=...) or size= to choose)")
        renderer = Renderer(portrait, face, config=self.render_config)
        shut = [side for side, share in zip(("right", "left"), renderer.eyes_open) if share < 0.5]
        if shut:
            which = "both eyes look" if len(shut) == 2 else f"the subject's {shut[0]} eye looks"
            stay = "they stay" if len(shut) == 2 else "it stays"
            note(f"{which} shut or hidden (dark glasses) in {name}: {stay} so (no blinks, widened eyes or gaze "
                 "there); a portrait with open, visible eyes animates them")
        turn = float(np.degrees(abs(face.pose.get("yaw", 0.0))))
        if turn > MAX_GOOD_TURN:
            note(f"the face in {name} is turned about {turn:.0f} degrees from the camera: beyond about "
                 f"{MAX_GOOD_TURN:.0f} its mouth and lids are drawn poorly; a frontal or three-quarter portrait "
                 "animates best")
        avatar = Avatar(portrait, face, renderer, source=name, original_size=probe or portrait.shape[:2], notes=notes,
                        crop=crop)
        if key[0] is not None and self.cache_size > 0:
            with self._lock:
                self._avatars[key] = avatar
                while len(self._avatars) > self.cache_size:
                    self._avatars.popitem(last=False)
        return avatar

    def _face_crop(self, face: Any, reduced: tuple[int, int],
                   original: tuple[int, int] | None) -> tuple[int, int, int, int] | None:
        """The box (x0, y0, x1, y1) of the photo as given to render instead of all of it, or None: where the reduced
        portrait ([H, W] ``reduced`` of ``original``) draws ``face`` under ``MIN_FACE_PX`` high and a crop
        ``face_crop`` times the face's box on a side draws it at least ``MIN_CROP_GAIN`` times as large."""
        if original is None:
            return None
        scale = max(original) / max(reduced)  # from the reduced portrait back to the photo's pixels
        x0, y0, x1, y1 = (v * scale for v in face.bbox)
        reduced_height = (y1 - y0) / scale
        if reduced_height >= MIN_FACE_PX:
            return None
        side = self.face_crop * max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        height, width = original
        box = (max(int(cx - side / 2), 0), max(int(cy - side / 2), 0),
               min(int(np.ceil(cx + side / 2)), width), min(int(np.ceil(cy + side / 2)), height))
        cropped_height = (y1 - y0) * min(1.0, self.working_size / max(box[2] - box[0], box[3] - box[1]))
        return box if cropped_height >= MIN_CROP_GAIN * reduced_height else None

    def _cropped(self, image: Any, crop: tuple[int, int, int, int], name: str) -> tuple[np.ndarray, Any]:
        """(the photo's ``crop`` reduced to ``working_size`` where larger, its face)."""
        from .face import detect

        full, _ = load_image(image)
        x0, y0, x1, y1 = crop
        part = np.ascontiguousarray(full[y0:y1, x0:x1])
        if max(part.shape[:2]) > self.working_size:
            part, _ = load_image(part, size=self.working_size)
        return part, detect(part, backend=self.face_backend, source=f"{name} (around the face)")

    def motion(
        self, audio: AudioSource, emotion: str | EmotionPlan, *, seed: int = 0, transcript: str | None = None,
        **options: Any,
    ) -> Motion:
        """Motion only (no rendering), for 3D rigs and VTuber apps. ``transcript``: the words
        spoken, aligned to the audio for exact lip shapes (needs ``tbd[align]``; without it the
        visemes are read from the audio). ``options`` go to the generator (e.g.
        ``guidance="progressive"`` for the diffusion generator)."""
        seed = check_seed(seed)
        plan = self.plan(emotion)
        sound = audio_mod.load(audio)
        feats = audio_mod.features(sound, fps=self.fps, level=self.audio_level)
        options = self._articulation_option(sound, feats, transcript, options)
        with torch_threads(self.threads):
            return self.generator.sample(plan, feats, seed=seed, progress=self.progress, **options)

    @staticmethod
    def _articulation_option(sound: Any, feats: Any, transcript: str | None, options: dict) -> dict:
        if transcript is None or "articulation" in options:
            return options
        if not isinstance(transcript, str):
            raise PlanError(f"transcript must be a string, got {type(transcript).__name__}")
        from .articulation import articulation_for

        return {**options, "articulation": articulation_for(sound, feats, transcript)}

    def animate(
        self,
        image: Any,
        audio: AudioSource,
        emotion: str | EmotionPlan = "",
        *,
        seed: int = 0,
        size: int | None = None,
        transcript: str | None = None,
        **options: Any,
    ) -> Animation:
        """Animate ``image`` (a path, PIL image, array or a prepared ``Avatar``) speaking
        ``audio`` with ``emotion``. Frames are rendered when asked for (``anim.frames``) or
        streamed into the file by ``anim.save``.

        ``size`` resizes the portrait so its longer side is ``size`` pixels (see ``prepare``).
        ``transcript``: the words spoken (see ``motion``).
        Raises NoFaceError, AudioError, ImageError or PlanError on bad input.
        """
        seed = check_seed(seed)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = now - clock
            clock = now

        sound = audio_mod.load(audio)
        feats = audio_mod.features(sound, fps=self.fps, level=self.audio_level)
        lap("audio")
        plan = self.plan(emotion)
        lap("think")
        avatar = self.prepare(image, size=size)
        lap("face")
        options = self._articulation_option(sound, feats, transcript, options)
        lap("align")
        with torch_threads(self.threads):
            motion = self.generator.sample(plan, feats, seed=seed, progress=self.progress, **options)
        lap("generate")
        meta = {**motion.meta, "face_backend": avatar.face.backend, "size": list(avatar.size), "timings": timings}
        if avatar.notes:
            meta["notes"] = list(avatar.notes)
        return Animation(motion=motion, plan=plan, audio=sound, meta=meta, renderer=avatar.renderer)

    def stream(
        self,
        avatar: Avatar | Any = None,
        *,
        emotion: str | EmotionPlan = "",
        sample_rate: int = 16000,
        seed: int = 0,
        **options: Any,
    ) -> Any:
        """A live session (``tbd.LiveSession``): push speech in any chunk size, get frames out.
        With an ``Avatar`` (or an image, prepared on the spot) it renders; with ``None`` it
        makes motion only. ``options``: ``block`` (frames per generator block, default 3),
        ``context`` (known frames, default 16), ``steps`` (denoising steps, default 2),
        ``guidance``, ``plan_seconds`` (how long a plan with normalised times lasts, 4 s),
        ``transcript`` (the words of the first utterance; later ones by ``session.expect(text)``)."""
        from .live import LiveSession

        seed = check_seed(seed)
        if avatar is not None and not isinstance(avatar, Avatar):
            avatar = self.prepare(avatar)
        return LiveSession(self, avatar, emotion=emotion, sample_rate=sample_rate, seed=seed, **options)


def _whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_seed(seed: Any) -> int:
    """``seed`` as an int, or an OptionError: a whole number from 0 to 2**32 - 1."""
    if not _whole(seed) or not 0 <= int(seed) <= 2**32 - 1:
        raise OptionError(f"seed must be a whole number from 0 to {2**32 - 1}, got {seed!r}")
    return int(seed)


def _image_key(image: Any) -> Any:
    """A cache key for an image: path + mtime + size, or a digest of an array's bytes."""
    if isinstance(image, (str, os.PathLike)):
        try:
            st = os.stat(image)
        except OSError:
            return None
        return ("path", os.path.abspath(os.fspath(image)), st.st_mtime_ns, st.st_size)
    if isinstance(image, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).hexdigest()
        return ("array", image.shape, str(image.dtype), digest)
    return None


def _image_size(image: Any) -> tuple[int, int] | None:
    """(height, width) without decoding the pixels, where possible."""
    if isinstance(image, np.ndarray):
        return (int(image.shape[0]), int(image.shape[1])) if image.ndim >= 2 else None
    try:
        from PIL import Image

        if isinstance(image, Image.Image):
            return (image.height, image.width)
        if isinstance(image, (str, os.PathLike)) and os.path.isfile(image):
            return image_size(os.fspath(image))
    except Exception:  # unreadable: load_image raises the proper error
        return None
    return None
