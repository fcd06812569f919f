"""Word lists the text reader needs: tokens, inflected forms, modifiers, negators, connectives.

Everything here is data plus small pure functions; the lexicon index over the prototypes'
words is built once per process (``lexicon_index``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from .._text import printable
from .prototypes import PROTOTYPES

# --- tokens --------------------------------------------------------------------------

_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"), (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"), (re.compile(r"\bain'?t\b"), "is not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"), (re.compile(r"'(m|s|re|ve|ll|d)\b"), ""),
)
_TOKEN = re.compile(r"[^\W\d_]+|->|=>|[,.;:!?()/&]")  # words: any letters (très, wütend)
PUNCT = frozenset(",.;:!?()/&")


@dataclass(frozen=True)
class Token:
    """One word or punctuation mark, with its place in the original text."""

    text: str  # lower-cased
    start: int  # character offsets into the normalised text
    end: int
    upper: bool = False  # written in capitals in the input ("FURIOUS")


def normalise(text: str) -> str:
    """Unicode-normalise quotes, dashes and arrows to ASCII forms; drop terminal escape
    sequences, control characters and invisible format characters (zero-width joiners and
    spaces, soft hyphens: "hap\u200dpy" reads as "happy"); collapse whitespace."""
    text = printable(text, " ")  # a control character between two words separates them
    text = unicodedata.normalize("NFKC", "".join(c for c in text if unicodedata.category(c) != "Cf"))
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2192", " -> "),
                 ("\u2014", " , "), ("\u2013", " , "), ("\u2026", " . ")):
        text = text.replace(a, b)
    return " ".join(text.split())


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``: lower-cased words (hyphenated words split), punctuation, arrows."""
    lowered = text.lower()
    for pattern, repl in _CONTRACTIONS:
        lowered = pattern.sub(repl, lowered)
    tokens = []
    original_words = {m.group(0).lower() for m in re.finditer(r"\b[A-Z]{3,}\b", text)}
    for m in _TOKEN.finditer(lowered):
        word = m.group(0)
        tokens.append(Token(word, m.start(), m.end(), word in original_words))
    return tokens


def inflections(word: str) -> frozenset[str]:
    """Regular inflected and derived forms of ``word`` (over-generation is harmless:
    it only adds strings no one writes)."""
    forms = {word, word + "s", word + "es"}
    if len(word) < 3:
        return frozenset(forms)
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing", word + "ly", word[:-1] + "ily", word + "r", word + "st"}
        if word.endswith("le"):
            forms.add(word[:-1] + "y")  # gentle -> gently
    elif word.endswith("y") and word[-2] not in "aeiou":
        stem = word[:-1]
        forms |= {stem + "ied", stem + "ies", stem + "ily", stem + "iness", word + "ing", stem + "ier", stem + "iest"}
    else:
        forms |= {word + "ed", word + "ing", word + "ly", word + "ness", word + "er", word + "est"}
        if word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
            # grin -> grinned, sad -> sadder
            forms |= {word + word[-1] + s for s in ("ed", "ing", "er", "est")}
        if word.endswith("ful"):
            forms.add(word + "ly")
        if word.endswith("ic"):
            forms.add(word + "ally")
    return frozenset(forms)


# --- modifier and connective lists -----------------------------------------------------

INTENSIFIERS: dict[tuple[str, ...], float] = {
    # dampeners
    ("barely",): 0.3, ("hardly",): 0.3, ("scarcely",): 0.3, ("faintly",): 0.45, ("slightly",): 0.5,
    ("a", "bit"): 0.5, ("a", "little"): 0.5, ("a", "little", "bit"): 0.45, ("a", "tad"): 0.5,
    ("mildly",): 0.5, ("somewhat",): 0.6, ("kind", "of"): 0.6, ("kinda",): 0.6, ("sort", "of"): 0.6,
    ("sorta",): 0.6, ("vaguely",): 0.5, ("subtly",): 0.5, ("lightly",): 0.6, ("softly",): 0.6,
    ("fairly",): 0.8, ("moderately",): 0.75, ("rather",): 0.85, ("partly",): 0.6, ("a", "touch"): 0.4,
    ("a", "hint"): 0.4, ("a", "trace"): 0.35, ("a", "flicker"): 0.4, ("a", "glimmer"): 0.4,
    ("a", "twinge"): 0.45, ("a", "pang"): 0.5, ("a", "tinge"): 0.4, ("a", "shade"): 0.45,
    ("a", "note"): 0.45, ("a", "whiff"): 0.35, ("traces",): 0.35, ("hints",): 0.4,
    ("slight",): 0.5, ("small",): 0.6, ("little",): 0.6, ("tiny",): 0.4, ("faint",): 0.45,
    ("subtle",): 0.5, ("soft",): 0.6, ("weak",): 0.5, ("mild",): 0.5, ("light",): 0.6, ("muted",): 0.5,
    ("restrained",): 0.55, ("understated",): 0.5, ("minimal",): 0.35, ("barely", "there"): 0.3,
    # amplifiers
    ("very",): 1.35, ("really",): 1.3, ("so",): 1.3, ("too",): 1.3, ("truly",): 1.3, ("quite",): 1.1,
    ("pretty",): 1.1, ("deeply",): 1.4, ("highly",): 1.35, ("terribly",): 1.45, ("awfully",): 1.4,
    ("seriously",): 1.35, ("super",): 1.45, ("especially",): 1.25, ("particularly",): 1.2,
    ("extremely",): 1.6, ("incredibly",): 1.6, ("intensely",): 1.6, ("utterly",): 1.6,
    ("absolutely",): 1.6, ("totally",): 1.5, ("completely",): 1.55, ("entirely",): 1.5,
    ("overwhelmingly",): 1.7, ("insanely",): 1.6, ("hugely",): 1.5, ("immensely",): 1.6, ("wildly",): 1.6,
    ("tremendously",): 1.6, ("exceedingly",): 1.6, ("unbelievably",): 1.6, ("ridiculously",): 1.5,
    ("thoroughly",): 1.45, ("profoundly",): 1.5, ("genuinely",): 1.15, ("visibly",): 1.2,
    ("openly",): 1.2, ("big",): 1.3, ("huge",): 1.5, ("broad",): 1.3, ("wide",): 1.3, ("massive",): 1.5,
    ("enormous",): 1.5, ("giant",): 1.5, ("deep",): 1.3, ("intense",): 1.5, ("strong",): 1.3,
    ("full",): 1.3, ("pure",): 1.3, ("sheer",): 1.4, ("total",): 1.4, ("complete",): 1.4, ("utter",): 1.5,
    ("extreme",): 1.6, ("overwhelming",): 1.6, ("wild",): 1.4, ("burning",): 1.3, ("blind",): 1.5,
    ("outright",): 1.3, ("downright",): 1.3, ("beyond",): 1.5, ("more", "than"): 1.3,
    ("less",): 0.6,
}
"""Words that scale an emotion's intensity (multiplied when several apply)."""

NEGATORS: frozenset[str] = frozenset({"not", "no", "never", "without", "nor", "neither", "none", "nothing"})
NEGATION_CANCELLERS: frozenset[str] = frozenset({
    # "can't help smiling", "couldn't stop laughing", "can't hide her joy": the emotion shows.
    "help", "stop", "stopping", "resist", "hide", "hiding", "contain", "containing", "suppress", "hold", "keep",
    "only", "just", "merely", "simply", "doubt", "but",
})
NEGATION_STRENGTHENERS: tuple[tuple[str, ...], ...] = (
    ("at", "all"), ("in", "the", "least"), ("whatsoever",), ("one", "bit"), ("remotely",), ("even",),
    ("the", "slightest"), ("slightest",), ("a", "single"), ("any",),
)

SUPPRESSION: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "hide", "hides", "hiding", "hid", "hidden", "mask", "masks", "masking", "masked", "conceal", "conceals",
    "concealing", "concealed", "suppress", "suppresses", "suppressing", "suppressed", "stifle", "stifles",
    "stifling", "stifled", "swallow", "swallows", "swallowing", "swallowed", "hold back", "holds back",
    "holding back", "held back", "fight back", "fights back", "fighting back", "fought back", "choke back",
    "chokes back", "choking back", "choked back", "bite back", "bites back", "biting back", "bottle up",
    "bottles up", "bottling up", "bottled up", "keep in", "keeping in", "contain", "contains", "containing",
    "cover up", "covers up", "covering up", "covered up", "repress", "represses", "repressing", "repressed",
    "restrain", "restrains", "restraining", "muffle", "muffles", "muffling", "muffled", "smother",
    "smothering", "smothered", "try not to", "tries not to", "trying not to", "tried not to",
    "struggle not to", "struggles not to", "struggling not to", "struggled not to", "doing her best not to",
    "doing his best not to", "doing their best not to", "fighting the urge to", "fights the urge to",
    "fighting the urge",
))
"""Phrases that mark the emotion after them as felt but held back (masked, suppressed)."""

EFFORT_VERBS: frozenset[str] = frozenset({
    "try", "tries", "trying", "tried", "struggle", "struggles", "struggling", "struggled", "attempt",
    "attempts", "attempting", "attempted", "strive", "strives", "striving", "fight", "fights", "fighting",
    "working", "works", "worked", "best", "everything", "can", "could",
})
"""Words of effort that make a following "not to <emotion>" a suppression ("trying hard not to cry")."""

SUPPRESSION_AFTER: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "inside", "inwardly", "on the inside", "deep down", "underneath", "beneath the surface", "in secret",
    "secretly", "privately", "behind closed doors", "but does not show it", "but doesn't show it",
    "but not showing it", "without showing it",
))
"""Phrases after an emotion that mark it as held back ("seething inside")."""
UNREACHED_EYES: frozenset[str] = frozenset({"reach", "reaches", "reaching", "reached", "touch", "touches"})
"""With a negation after a smile ("never reaches her eyes"): the smile is posed."""

FAKE_CUES: frozenset[str] = frozenset({
    "forced", "fake", "false", "polite", "social", "pasted", "plastered", "strained", "tight", "thin", "stiff",
    "artificial", "put", "tense", "phony", "phoney", "insincere", "practiced", "practised", "professional",
    "courtesy", "obligatory", "dutiful", "hollow", "empty", "frozen", "painted", "pretend", "pretends",
    "pretending", "pretended", "faking", "fakes", "faked", "feigned", "feigning", "feigns", "mock", "performative",
    "politely", "dutifully", "stiffly", "tightly", "falsely", "fakely",
    "acted", "acting", "rehearsed", "cardboard", "brittle", "awkward", "nervous", "uncomfortable", "weak",
    "thinly", "unconvincing", "plastic",
})
"""Words before a smile/laugh/happiness that make it posed (no AU6, Ekman & Friesen 1982)."""

GENUINE_CUES: frozenset[str] = frozenset({
    "genuine", "genuinely", "real", "true", "warm", "warmly", "heartfelt", "sincere", "sincerely", "honest",
    "duchenne", "authentic", "crinkly", "crinkling", "twinkling", "sparkling", "unguarded", "spontaneous",
    "natural", "wholehearted", "infectious", "open",
})

SLOW_CUES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "slowly", "slow", "gradually", "gradual", "little by little", "bit by bit", "steadily", "creeping",
    "creeps", "growing", "grows", "grew", "building", "builds", "built", "dawning", "dawns", "increasingly",
    "more and more", "by degrees", "over time", "eventually", "progressively", "gently", "leisurely",
    "ramping", "ramps", "seeping", "seeps", "spreading", "spreads", "mounting", "rising",
))
SUDDEN_CUES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "suddenly", "sudden", "abruptly", "abrupt", "instantly", "immediately", "snaps", "snapping", "snapped",
    "bursts", "burst", "bursting", "erupts", "erupting", "erupted", "explodes", "exploding", "exploded",
    "out of nowhere", "sharply", "all at once", "quickly", "in a flash", "at once", "jolt", "flips",
    "flipping", "flipped", "without warning", "in an instant", "breaks", "breaking", "broke",
))
BRIEF_CUES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "briefly", "brief", "momentary", "momentarily", "fleeting", "fleetingly", "a flash", "flash", "flashes",
    "flashing", "a flicker", "flicker", "flickers", "flickering", "for a moment", "for a second",
    "split second", "for an instant", "micro", "microexpression", "passing", "quick",
))
FADE_CUES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "fades", "fade", "fading", "faded", "fades away", "disappears", "disappearing", "disappeared", "vanishes",
    "vanishing", "vanished", "dies down", "dying down", "died down", "subsides", "subsiding", "subsided",
    "wanes", "waning", "waned", "wears off", "wearing off", "drains away", "drops", "dropping", "dropped",
    "melts away", "melting away", "goes away", "slips away", "slipping away", "evaporates", "evaporating",
    "falters", "faltering", "faltered", "softens", "softening", "softened", "calms down", "calming down",
    "relaxes", "relaxing",
))

# Connectives that start a new phase in time. "strength": how strongly they separate.
TIME_CONNECTIVES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "and then", "but then", "then", "and finally", "finally", "and eventually", "later", "afterwards",
    "after that", "followed by", "before", "until", "till", "turns into", "turning into", "turn into",
    "turned into", "becomes", "becoming", "became", "become", "gives way to", "giving way to", "gave way to",
    "give way to", "fades into", "fading into", "faded into", "fade into", "melts into", "melting into",
    "melted into", "shifts to", "shifting to", "shifted to", "shifts into", "shifting into", "shifted into",
    "changes to", "changing to", "changed to", "changes into", "changing into", "changed into",
    "dissolves into", "dissolving into", "dissolved into", "morphs into", "morphing into", "morphed into",
    "breaks into", "breaking into", "broke into", "bursts into", "bursting into", "burst into",
    "erupts into", "erupting into", "erupted into", "explodes into", "exploding into", "exploded into",
    "collapses into", "collapsing into", "collapsed into", "grows into", "growing into", "grew into",
    "switches to", "switching to", "switched to", "transitions to", "transitioning to", "transitions into",
    "transitioning into", "turns to", "turning to", "turned to", "gives in to", "->", "=>", "then finally",
    "slips into", "slipping into", "slides into", "sliding into", "flips to", "flipping to", "ends in",
    "ending in", "ends up", "ending up", "ended up", "grows", "growing", "grew", "gets", "getting", "got",
    "goes", "going", "went",
))
SUDDEN_CONNECTIVES: frozenset[tuple[str, ...]] = frozenset(
    c for c in TIME_CONNECTIVES if c[0] in {"breaks", "breaking", "broke", "bursts", "bursting", "burst", "erupts",
                                            "erupting", "erupted", "explodes", "exploding", "exploded", "snaps",
                                            "flips", "flipping"}
)
CHANGE_VERBS: frozenset[str] = frozenset({"grows", "growing", "grew", "gets", "getting", "got", "goes", "going",
                                          "went", "becomes", "becoming", "became", "become"})
"""Connectives that are also plain verbs ("grows angry"): they only split when followed by an emotion."""
FIRST_PHASE_MARKERS: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    "at first", "initially", "to begin with", "in the beginning", "first", "starts", "starting", "started",
    "begins", "beginning", "began", "at the start",
))

BLEND_SPLITTERS: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in (
    ",", ";", ":", "but", "and", "yet", "with", "while", "whilst", "though", "although", "even though",
    "mixed with", "tinged with", "laced with", "as well as", "plus", "&", "/", "or", "also", "along with",
    "together with", "combined with", "touched with", "edged with", "underneath", "beneath", "(", ")",
))

MASK_CUES: frozenset[str] = frozenset({"behind", "beneath", "underneath", "under", "through"})
"""Words before a smile that make it a mask over another emotion ("anger behind a smile")."""

SIDE_WORDS: dict[str, str] = {"left": "left", "right": "right"}
ONE_SIDED_CUES: frozenset[str] = frozenset({
    "one-sided", "lopsided", "crooked", "asymmetric", "asymmetrical", "half", "uneven", "sideways", "corner",
})

STOPWORDS: frozenset[str] = frozenset("""
a an the this that these those it its it's he him his she her hers they them their theirs i me my mine we us our
you your yours one someone somebody person people man woman guy girl boy kid child character face expression
look looks looking looked seem seems seeming seemed appear appears appearing appeared feel feels feeling felt is
am are was were be been being has have having had do does did doing get gets got is of in on at to for from by
about as into onto over under up down out off than like just only also still again very really so too such
quite rather almost there here when where who whom which what why how all any some each every both either neither
s t d ll m re ve while as if because since though although even after before during with without within
toward towards through across around against between among along behind beyond near upon
mood state emotion emotions feeling feelings vibe vibes kind sort way manner tone air hint touch bit little
eyes eye mouth lips lip brow brows eyebrows eyebrow cheeks cheek nose jaw chin forehead head gaze
who'd somewhat slight slightly totally completely pretty can could will would should shall may might must
make makes made let lets say says said tell tells told talk talks talking speak speaks speaking voice words
something anything everything nothing thing things time moment moments day today now then news
""".split())
"""Function words and generic context words: never treated as an unknown emotion word."""


@functools.lru_cache(maxsize=1)
def non_content_words() -> frozenset[str]:
    """Words that never carry an unlisted emotion: function words, modifiers and cue words."""
    cues = SLOW_CUES + SUDDEN_CUES + BRIEF_CUES + FIRST_PHASE_MARKERS + FADE_CUES
    return (STOPWORDS | PUNCT | NEGATORS | FAKE_CUES | GENUINE_CUES | MASK_CUES | ONE_SIDED_CUES
            | frozenset(SIDE_WORDS) | {k[0] for k in INTENSIFIERS if len(k) == 1}
            | {c[0] for c in cues if len(c) == 1})


@dataclass(frozen=True)
class LexEntry:
    """One lexicon phrase: the prototype it names and its token forms."""

    prototype: str
    phrase: str
    intensity: float
    forms: tuple[frozenset[str], ...]


_FUNCTION_IN_PHRASE = frozenset({"of", "the", "a", "an", "in", "on", "to", "with", "his", "her", "their", "my",
                                 "at", "up", "out", "off", "down", "by", "not", "can", "will", "is", "does"})


@functools.lru_cache(maxsize=1)
def lexicon_index() -> dict[str, tuple[LexEntry, ...]]:
    """First-token form -> lexicon entries starting with it (built once per process)."""
    index: dict[str, list[LexEntry]] = {}
    for proto in PROTOTYPES.values():
        for phrase, level in proto.words.items():
            words = [t.text for t in tokenize(phrase) if t.text not in PUNCT]
            if not words:
                continue
            forms = tuple(frozenset({w}) if w in _FUNCTION_IN_PHRASE else inflections(w) for w in words)
            entry = LexEntry(proto.name, phrase, level, forms)
            for form in forms[0]:
                index.setdefault(form, []).append(entry)
    return {k: tuple(v) for k, v in index.items()}


@functools.lru_cache(maxsize=1)
def single_words() -> dict[str, LexEntry]:
    """One-word lexicon entries by their base word (for typo matching)."""
    out: dict[str, LexEntry] = {}
    for entries in lexicon_index().values():
        for e in entries:
            if len(e.forms) == 1 and " " not in e.phrase and "-" not in e.phrase:
                out.setdefault(e.phrase, e)
    return out
