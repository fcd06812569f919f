"""Live avatar sessions: stream speech in, get frames and blendshapes out (docs/architecture.md, "Streaming")."""

from __future__ import annotations

from .session import LiveFrame, LiveSession, SessionClosed

__all__ = ["LiveSession", "LiveFrame", "SessionClosed"]
