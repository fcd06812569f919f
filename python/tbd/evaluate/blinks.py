"""Blink events from MediaPipe's eyeBlink blendshapes: how many, how far the lids close, how long.

The eye-closure curve is the mean of eyeBlinkLeft and eyeBlinkRight. Its open-eye level is the
median over the ``baseline_s`` around each frame (an expression that narrows the eyes for a
while, a smile's squint, moves it; a blink, shorter than half of that, does not); an event is a run
of frames more than ``rise`` above it. The
event's apex is its highest value, its duration the time it stays above half-way between the
open level and the apex (full width at half maximum). Two apexes closer than ``flicker_s``
(closed, open, closed again) are a flicker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import percentile_filter


@dataclass(frozen=True)
class BlinkConfig:
    """Event detection and the acceptance bounds the checks use."""

    open_percentile: float = 50.0  # the median: a step into a squint moves it at once, a blink (< 20 % of it) not
    baseline_s: float = 2.0        # the open level is local: this percentile over this window
    rise: float = 0.15
    min_apex: float = 0.5          # acceptance: every blink closes the lids at least this far
    min_duration_s: float = 0.10
    max_duration_s: float = 0.40
    flicker_s: float = 0.20


@dataclass
class BlinkEvent:
    start: int          # first frame above half height
    end: int            # last frame above half height
    apex_frame: int
    apex: float         # eyeBlink at the apex (0..1)
    duration_s: float


@dataclass
class BlinkResult:
    events: list[BlinkEvent]
    count: int
    open_level: float
    min_apex: float | None               # over the motion's blinks when known (else over the events seen)
    flickers: int
    requested_count: int | None          # blinks in the motion that drove the render (AU45), when known
    checks: dict[str, bool] = field(default_factory=dict)
    requested_apexes: list[float] | None = None  # the closure read at each of the motion's blinks


def find_events(curve: np.ndarray, fps: float, config: BlinkConfig = BlinkConfig(),
                open_level: float | None = None) -> tuple[list[BlinkEvent], float]:
    """Blink events in an eye-closure curve [T] (NaN frames are filled from their neighbours), and the
    open level (the clip's median of the local one, or ``open_level`` when given: then it is used throughout)."""
    x = np.asarray(curve, np.float64)
    ok = np.isfinite(x)
    if not ok.any():
        return [], float("nan")
    if not ok.all():
        x = np.interp(np.arange(len(x)), np.flatnonzero(ok), x[ok])
    if open_level is None:
        window = max(int(round(config.baseline_s * fps)), 1)
        local = percentile_filter(x, config.open_percentile, size=window, mode="nearest")
    else:
        local = np.full(len(x), float(open_level))
    above = x > local + config.rise
    events = []
    i = 0
    while i < len(x):
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(x) and above[j + 1]:
            j += 1
        apex_frame = i + int(np.argmax(x[i:j + 1]))
        apex = float(x[apex_frame])
        half = (local[apex_frame] + apex) / 2
        start, end = apex_frame, apex_frame
        while start > 0 and x[start - 1] > half:
            start -= 1
        while end + 1 < len(x) and x[end + 1] > half:
            end += 1
        events.append(BlinkEvent(start, end, apex_frame, round(apex, 5), round((end - start + 1) / fps, 5)))
        i = j + 1
    return events, float(np.median(local))


def blinks(curve: np.ndarray, fps: float, *, requested_au45: np.ndarray | None = None,
           config: BlinkConfig = BlinkConfig()) -> BlinkResult:
    """Blink events of the measured closure ``curve`` and the acceptance checks on them."""
    events, level = find_events(curve, fps, config)
    apexes = [e.apex for e in events]
    flickers = sum(1 for a, b in zip(events, events[1:]) if (b.apex_frame - a.apex_frame) / fps < config.flicker_s)
    requested, at_asked = None, None
    if requested_au45 is not None:
        asked, _ = find_events(np.asarray(requested_au45, np.float64), fps, BlinkConfig(rise=0.3), open_level=0.0)
        requested = len(asked)
        # The apex check is about the motion's blinks: how far each one reads closed (within a frame or two of
        # it). A closure the motion did not ask for (a downward glance, a squint) fails the count check instead.
        # Blinks where no face was seen are left out (nothing was read there).
        x = np.asarray(curve, np.float64)
        windows = [x[max(e.start - 2, 0):e.end + 3] for e in asked]
        at_asked = [round(float(np.nanmax(w)), 5) for w in windows if np.isfinite(w).any()]
        apexes = at_asked
    checks = {
        "apex": all(a >= config.min_apex for a in apexes),
        "duration": all(config.min_duration_s <= e.duration_s <= config.max_duration_s for e in events),
        "no_flicker": flickers == 0,
    }
    if requested is not None:
        checks["count"] = len(events) == requested
    return BlinkResult(events, len(events), round(level, 5), min(apexes) if apexes else None, flickers,
                       requested, checks, at_asked)
