"""Text from users made safe to print on a terminal or read as words."""

from __future__ import annotations

import re

# ESC sequences (CSI, OSC, and two-character ones), then any other control character except
# newline and tab, and the bidirectional overrides that reorder what a terminal shows.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, replacement: str = "") -> str:
    """``text`` without terminal escape sequences and control characters (newlines and tabs kept),
    each replaced by ``replacement`` (" " keeps the words on either side apart)."""
    return _CONTROLS.sub(replacement, _ESCAPES.sub(replacement, text))
