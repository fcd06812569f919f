"""Torch thread counts as a scoped option, never a lasting process-wide change.

``torch.set_num_threads`` is process-wide. ``torch_threads(n)`` sets it for the calls inside
the block and restores the caller's value when the last overlapping block ends (a count, so
two Talkers sampling in two threads do not restore each other's value half-way). ``None``
leaves torch alone, which is the default everywhere.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator

_LOCK = threading.Lock()
_depth = 0
_saved: int | None = None


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    global _depth, _saved
    torch = sys.modules.get("torch")
    if not n or torch is None:  # torch not loaded: nothing here uses it
        yield
        return

    with _LOCK:
        if _depth == 0:
            _saved = torch.get_num_threads()
            if _saved != n:
                torch.set_num_threads(int(n))
        _depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                if torch.get_num_threads() != _saved:
                    torch.set_num_threads(_saved)
                _saved = None
