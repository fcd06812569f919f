"""Live integrations (docs/integrations.md): VMC over OSC for VTuber apps and game engines
(``tbd[vmc]``), a LiveKit Agents avatar (``tbd[livekit]``), a Pipecat avatar service
(``tbd[pipecat]``). Each submodule imports its framework when it is imported.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from ..errors import BackendError

_EMOTION_TAG = re.compile(r"\[\s*(?:emotion\s*[:=]\s*)?([^\[\]]{1,80}?)\s*\]|<emotion>(.{1,80}?)</emotion>", re.I | re.S)


def require(module: str, extra: str) -> Any:
    """Import ``module`` or raise BackendError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendError(f"{module} is not installed (needed by tbd.integrations.{extra}); "
                           f'install it with: pip install "tbd[{extra}]"') from exc


VMC_HOST = "127.0.0.1"
VMC_PORT = 39539
"""The VMC protocol's default receiver address."""


def parse_address(text: str) -> tuple[str, int]:
    """``"HOST:PORT"``, ``"HOST"`` or ``":PORT"`` -> (host, port), defaults 127.0.0.1:39539."""
    host, _, port = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "")
    try:
        number = int(port) if port else VMC_PORT
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise ValueError(f"expected HOST:PORT with a port in 1..65535, got {text!r}")
    return host or VMC_HOST, number


def split_emotion(text: str) -> tuple[str | None, str]:
    """The emotion tag in an agent's reply and the reply without it: ``"[emotion: warm] Hi!"``,
    ``"[warm] Hi!"`` or ``"<emotion>warm</emotion> Hi!"`` give ``("warm", "Hi!")``; no tag gives
    ``(None, text)``. The first tag wins; every tag is removed from the text."""
    found = _EMOTION_TAG.search(text)
    if found is None:
        return None, text
    emotion = (found.group(1) or found.group(2)).strip()
    rest = re.sub(r"\s{2,}", " ", _EMOTION_TAG.sub("", text)).strip()
    return emotion, rest


__all__ = ["require", "split_emotion", "parse_address", "VMC_HOST", "VMC_PORT"]
