"""RENDER: turn motion into frames by warping the portrait with a face rig (see renderer.py)."""

from __future__ import annotations

from .config import RenderConfig
from .renderer import Renderer

__all__ = ["Renderer", "RenderConfig"]
