"""Following a known text through live audio: the transcript as a prior on the audio's visemes.

Forced alignment needs the whole utterance; a live session has only the audio so far. Here the
transcript becomes a left-to-right chain of viseme states (a word's phones, with optional
silence between words), and each new frame's classifier probabilities move a forward
(filtering) pass along it: ``alpha_t(k) = log p_t(v_k) + max(alpha_{t-1}(k) + stay,
alpha_{t-1}(k-1) + advance, alpha_{t-1}(k-2) + skip)``. The frame's visemes are the states'
posterior mixed with the classifier's own reading. It is causal (no frame waits for later
audio) and costs a few microseconds a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .visemes import N_VISEMES, VISEME_INDEX, phone_viseme


@dataclass(frozen=True)
class TrackerConfig:
    stay: float = -0.1       # log-score of staying in a state for one more frame
    advance: float = -1.0    # of moving to the next state
    skip: float = -4.0       # of skipping one (a phone the audio model missed)
    prior_share: float = 0.7  # weight of the transcript's visemes against the classifier's


class TranscriptTracker:
    """Stateful: ``filter(posteriors)`` takes the next frames' classifier probabilities
    ``[n, 15]`` and returns the transcript-informed ones."""

    def __init__(self, pronunciations: list[list[str]], config: TrackerConfig = TrackerConfig()) -> None:
        states = [VISEME_INDEX["sil"]]
        optional = [True]
        for word in pronunciations:
            for phone in word:
                v = VISEME_INDEX[phone_viseme(phone)]
                if v != states[-1] or optional[-1]:
                    states.append(v)
                    optional.append(False)
            states.append(VISEME_INDEX["sil"])
            optional.append(True)
        self.states = np.asarray(states, np.int64)
        self.optional = np.asarray(optional, bool)
        self.config = config
        self._alpha = np.full(len(states), -np.inf)
        self._alpha[0] = 0.0

    @property
    def n_states(self) -> int:
        return len(self.states)

    def filter(self, posteriors: np.ndarray) -> np.ndarray:
        cfg = self.config
        post = np.asarray(posteriors, np.float64)
        out = np.empty_like(post)
        onehot = np.eye(N_VISEMES)[self.states]
        # Silence states may be skipped freely (not every word boundary is a pause).
        skip = np.where(np.roll(self.optional, 1), cfg.advance, cfg.skip)
        for t, p in enumerate(post):
            a = self._alpha
            moved = np.concatenate([[-np.inf], a[:-1] + cfg.advance])
            skipped = np.concatenate([[-np.inf, -np.inf], a[:-2] + skip[2:]])
            a = np.maximum(np.maximum(a + cfg.stay, moved), skipped) + np.log(p[self.states] + 1e-4)
            a -= a.max()
            self._alpha = a
            w = np.exp(a)
            w /= w.sum()
            out[t] = cfg.prior_share * (w @ onehot) + (1 - cfg.prior_share) * p
        return out.astype(np.float32)


def tracker_for(text: str) -> TranscriptTracker | None:
    """A tracker for ``text`` (None when no word of it is in the CMU dictionary). Needs pocketsphinx."""
    from .sources import _aligner

    words = _aligner().pronounce(text)
    return TranscriptTracker(words) if words else None
