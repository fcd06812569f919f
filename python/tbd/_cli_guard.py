"""What the ``tbd`` command needs to meet a user's bad input calmly: checked option values,
text safe to echo on a terminal, SIGINT/SIGTERM turned into a clean exit, and native libraries'
start-up logs kept off the terminal."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import signal
import sys
from typing import Callable, Iterator

from ._text import printable  # noqa: F401  (re-exported for the CLI)


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: an integer in ``lo..hi``."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not lo <= number <= hi:
            raise argparse.ArgumentTypeError(f"{number} is out of range; use {lo}..{hi}")
        return number

    return parse


def number_in(lo: float, hi: float, *, lo_inclusive: bool = False) -> Callable[[str], float]:
    """argparse type: a finite number above ``lo`` (or from ``lo``, ``lo_inclusive``) and at most ``hi``."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        above = number >= lo if lo_inclusive else number > lo
        if not (math.isfinite(number) and above and number <= hi):
            bound = "from" if lo_inclusive else "above"
            raise argparse.ArgumentTypeError(f"{value} is out of range; use a number {bound} {lo:g} and at most {hi:g}")
        return number

    return parse


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` swallows it while the writers' cleanup (``finally``) still runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within: the first SIGINT, SIGTERM, SIGHUP or SIGQUIT raises ``Interrupted`` in the main thread;
    later ones are ignored, also after the block while the process exits, so the cleanup it starts
    (temporary files removed, the one-line message) is not cut short."""
    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)  # Ctrl-C, kill, terminal closed, Ctrl-\
    interrupted = False

    def interrupt(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True
        for s in caught:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        previous = {s: signal.signal(s, interrupt) for s in caught}
    except ValueError:  # not the main thread (tbd.cli.main called from a worker): leave signals alone
        yield
        return
    try:
        yield
    finally:
        if not interrupted:
            for s, handler in previous.items():
                signal.signal(s, handler)


@contextlib.contextmanager
def native_logs_silenced() -> Iterator[None]:
    """Within: what native libraries write straight to file descriptor 2 (MediaPipe's and TensorFlow
    Lite's C++ start-up logs) goes to /dev/null, while Python's ``sys.stderr`` (our errors, warnings
    and progress bars) still reaches the terminal. Only when ``sys.stderr`` is the process's own
    (not when a caller or a test captures it)."""
    if sys.stderr is not sys.__stderr__ or sys.stderr is None:
        yield
        return
    try:
        sys.stderr.flush()
        if sys.stderr.fileno() != 2:
            raise ValueError
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        yield
        return
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding=python_stderr.encoding,
                           errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr.close()
        sys.stderr = python_stderr
