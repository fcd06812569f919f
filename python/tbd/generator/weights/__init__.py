"""Bundled DRAW weights (trained on the built-in corpus; see benchmarks/RESULTS.md, "Generator")."""

from __future__ import annotations

from pathlib import Path

DEFAULT_WEIGHTS = "draw-v4.safetensors"


def bundled_weights_path() -> Path | None:
    """The bundled checkpoint, or None when this install has none."""
    path = Path(__file__).with_name(DEFAULT_WEIGHTS)
    return path if path.is_file() else None
