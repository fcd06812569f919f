"""What the ``tbd`` command needs to meet a user's bad input calmly: checked option values,
text safe to echo on a terminal, and SIGINT/SIGTERM turned into a clean exit."""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
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


def number_in(lo: float, hi: float) -> Callable[[str], float]:
    """argparse type: a finite number above ``lo`` and at most ``hi``."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not (math.isfinite(number) and lo < number <= hi):
            raise argparse.ArgumentTypeError(f"{value} is out of range; use a number above {lo:g} and at most {hi:g}")
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
    """Within: the first SIGINT, SIGTERM or SIGHUP raises ``Interrupted`` in the main thread; later ones
    are ignored, so the cleanup it starts (temporary files removed) is not cut short."""
    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, the terminal closing

    def interrupt(signum: int, frame: object) -> None:
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
        for s, handler in previous.items():
            signal.signal(s, handler)
