"""Audio and video in sync for the adapters: each frame comes out with the audio up to its end.

A live session emits the frame for session time t once it has heard ``latency`` seconds of
audio beyond t, so the adapters hold the audio back: the audio of frame i of an utterance
(samples ``round(i * rate / fps)`` up to ``round((i + 1) * rate / fps)``) goes out with it.
What is left when the utterance ends goes out with its last frame, so audio out = audio in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..live.session import LiveFrame, LiveSession


@dataclass(frozen=True)
class SyncedFrame:
    """A frame and the speech samples played with it (int16 mono, maybe empty). ``frame`` is
    None only for an utterance's leftover audio when the session had no frame left to give."""

    frame: LiveFrame | None
    audio: np.ndarray


def to_int16(samples: np.ndarray) -> np.ndarray:
    """int16 samples from float (-1..1) or int16 samples."""
    x = np.asarray(samples)
    if x.dtype == np.int16:
        return x
    return (np.clip(x.astype(np.float32), -1.0, 1.0) * 32767.0).round().astype(np.int16)


def mono_int16(data: bytes | memoryview | np.ndarray, channels: int) -> np.ndarray:
    """Interleaved int16 PCM (bytes or array) mixed down to mono int16."""
    x = np.frombuffer(data, dtype=np.int16) if not isinstance(data, np.ndarray) else data.astype(np.int16)
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).astype(np.int32).mean(axis=1)
        x = np.round(x).astype(np.int16)
    return x


class SpeechSync:
    """Turns utterances pushed into a live session into ``SyncedFrame`` lists (thread safe).

    ``push`` and ``end`` carry an epoch: a ``clear`` moves the epoch on, and what an older
    push would still return is dropped.
    """

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self.rate = session.sample_rate
        self.fps = session.fps
        self.epoch = 0
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._audio: list[np.ndarray] = []  # samples received and not yet released
        self._received = 0                   # samples of this utterance so far
        self._released = 0
        self._frame0: int | None = None       # session frame of the utterance's frame 0

    @property
    def speaking(self) -> bool:
        """An utterance has started (audio pushed) and not ended or been cleared."""
        return self._frame0 is not None

    def push(self, samples: np.ndarray, epoch: int | None = None) -> list[SyncedFrame]:
        """Feed speech samples (int16 or float, mono, at the session rate)."""
        x = to_int16(samples)
        with self._lock:
            if (epoch is not None and epoch != self.epoch) or not len(x):
                return []
            if self._frame0 is None:
                self._frame0 = int(round(self.session.pts * self.fps))
            self._audio.append(x)
            self._received += len(x)
            return self._pair(self.session.push(x), final=False)

    def end(self, epoch: int | None = None) -> list[SyncedFrame]:
        """End the utterance: its remaining frames, the last one with all the audio left."""
        with self._lock:
            if (epoch is not None and epoch != self.epoch) or self._frame0 is None:
                self._reset()
                return []
            out = self._pair(self.session.flush(), final=True)
            self._reset()
            return out

    def clear(self) -> list[SyncedFrame]:
        """Barge-in: drop the audio not yet played and close the mouth; returns the closing
        frames (no audio with them). Moves the epoch on."""
        with self._lock:
            self.epoch += 1
            self._reset()
            return [SyncedFrame(f, np.zeros(0, np.int16)) for f in self.session.interrupt()]

    def idle(self, seconds: float) -> list[SyncedFrame]:
        """Silent, living frames (only between utterances)."""
        with self._lock:
            if self._frame0 is not None:
                return []
            return [SyncedFrame(f, np.zeros(0, np.int16)) for f in self.session.idle(seconds)]

    def set_emotion(self, emotion: str, transition: float = 0.3) -> None:
        with self._lock:
            self.session.set_emotion(emotion, transition=transition)

    def _pair(self, frames: list[LiveFrame], final: bool) -> list[SyncedFrame]:
        out = []
        for k, f in enumerate(frames):
            last = final and k == len(frames) - 1
            end = self._received if last else min(self._received, self._sample_end(f.index))
            out.append(SyncedFrame(f, self._take(end - self._released)))
        if final and not frames and self._received > self._released:
            out.append(SyncedFrame(None, self._take(self._received - self._released)))
        return out

    def _sample_end(self, index: int) -> int:
        assert self._frame0 is not None
        return int(round((index - self._frame0 + 1) * self.rate / self.fps))

    def _take(self, n: int) -> np.ndarray:
        if n <= 0:
            return np.zeros(0, np.int16)
        buf = np.concatenate(self._audio) if len(self._audio) > 1 else self._audio[0]
        head, rest = buf[:n], buf[n:]
        self._audio = [rest] if len(rest) else []
        self._released += len(head)
        return head
