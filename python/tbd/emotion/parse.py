"""Understanding emotion text: which emotions, how strong, negated or hidden, blended, in what order.

``read(text)`` turns free text into a ``Reading``: phases in time, each with the emotions
(``Mention``) felt or shown in it. Words come from the prototype lexicon (with inflections);
typos are matched by spelling similarity; phrases the lexicon does not list go to a
``MeaningMatcher`` (a sentence encoder) when one is given.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Protocol, Sequence

from . import lexicon as lx
from .lexicon import Token

MAX_PHASES = 6
MAX_MEANING_QUERIES = 12
CLAMP_MIN = 0.05


@dataclass(frozen=True)
class Mention:
    """One emotion (prototype) the text names or implies, with everything that modifies it."""

    prototype: str
    phrase: str  # the words in the text that named it
    intensity: float  # after modifiers, 0..1
    word_intensity: float  # what the word implies on its own
    modifiers: tuple[str, ...] = ()  # intensity words that applied ("very")
    negated: bool = False
    strong_negation: bool = False  # "not ... at all"
    suppressed: bool = False  # felt but held back ("hiding his anger")
    fake: bool = False  # posed ("forced smile", a smile worn as a mask)
    genuine: bool = False  # explicitly felt ("a genuine smile")
    cue: str | None = None  # the words that made it held back, posed or genuine
    side: str | None = None  # "left"/"right" when the text makes it one-sided
    how: str = "word"  # "word" (lexicon), "typo" (spelling), "meaning" (sentence encoder)
    similarity: float | None = None
    token: int = 0  # token index where it starts (for ordering)


@dataclass
class Phase:
    """A stretch of the clip with one blend of emotions."""

    text: str
    mentions: list[Mention] = field(default_factory=list)
    onset: str = "normal"  # "normal" | "slow" | "sudden"
    onset_cue: str | None = None
    brief: bool = False
    fades: bool = False
    fade_cue: str | None = None
    fade_speed: str = "normal"  # "normal" | "slow" | "sudden"


@dataclass
class Reading:
    """What the text says, before any muscle is chosen."""

    text: str
    phases: list[Phase]
    notes: list[str] = field(default_factory=list)  # sentences explaining the reading
    warnings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # phrases with no emotion found
    encoder: str | None = None  # sentence encoder consulted, if any


class MeaningMatcher(Protocol):
    """Finds the prototype nearest in meaning to each phrase (see ``semantic.py``)."""

    name: str

    def match(self, phrases: Sequence[str]) -> list[tuple[str | None, float]]:
        """For each phrase, the best prototype (None when nothing is close) and its similarity."""
        ...


# --- helpers over token lists ------------------------------------------------------------


def _effort_not_to(words: list[str], lo: int, start: int) -> list[int]:
    """Where an effort word governs a "not to" before the emotion ("trying hard not to cry",
    "doing everything she can not to laugh"): the emotion is held back, not absent."""
    for k in range(start - 2, lo - 1, -1):
        if words[k] == "not" and words[k + 1] == "to" and start - (k + 2) <= 2:
            effort = [j for j in range(max(lo, k - 4), k) if words[j] in lx.EFFORT_VERBS]
            return effort[:1]
    return []


def _match_at(words: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[i : i + len(phrase)]) == phrase


def _find_phrases(words: list[str], lo: int, hi: int, phrases) -> list[tuple[int, tuple[str, ...]]]:
    out = []
    for i in range(lo, hi):
        for p in phrases:
            if i + len(p) <= hi and _match_at(words, i, p):
                out.append((i, p))
    return out


_GAP_FILLERS = frozenset({"his", "her", "their", "my", "your", "its", "the", "a", "an", "one", "both", "up",
                          "slightly", "very", "little", "bit", "so"})


def _lexicon_matches(words: list[str]) -> list[tuple[int, int, lx.LexEntry]]:
    """Non-overlapping (start, end, entry) lexicon matches, longest phrases first."""
    index = lx.lexicon_index()
    found = []
    for i, w in enumerate(words):
        for entry in index.get(w, ()):
            j, ok = i + 1, True
            for forms in entry.forms[1:]:
                gap = 0
                while j < len(words) and words[j] not in forms and words[j] in _GAP_FILLERS and gap < 2:
                    j, gap = j + 1, gap + 1
                if j < len(words) and words[j] in forms:
                    j += 1
                else:
                    ok = False
                    break
            if ok:
                found.append((i, j, entry))
    found.sort(key=lambda m: (-len(m[2].forms), m[0], m[2].phrase))
    taken: set[int] = set()
    chosen = []
    for start, end, entry in found:
        if taken.isdisjoint(range(start, end)):
            chosen.append((start, end, entry))
            taken.update(range(start, end))
    return sorted(chosen, key=lambda m: m[0])


# --- the reader ------------------------------------------------------------------------


@dataclass
class _Span:
    start: int
    end: int
    entry: lx.LexEntry | None = None
    how: str = "word"
    similarity: float | None = None
    prototype: str | None = None
    phrase: str = ""


def read(text: str, matcher: MeaningMatcher | None = None) -> Reading:
    """Read emotion text into phases and mentions. ``text`` must already be validated."""
    norm = lx.normalise(text)
    tokens = lx.tokenize(norm)
    words = [t.text for t in tokens]
    reading = Reading(text=text, phases=[])
    spans = [_Span(s, e, entry, prototype=entry.prototype, phrase=_surface(tokens, s, e))
             for s, e, entry in _lexicon_matches(words)]
    starts = {sp.start for sp in spans}
    covered = {i for sp in spans for i in range(sp.start, sp.end)}

    # 1. split into phases in time
    cuts = _time_cuts(words, covered, starts)
    bounds = [0] + [c[1] for c in cuts] + [len(words)]
    cut_starts = [c[0] for c in cuts]
    raw_phases: list[tuple[int, int, tuple[str, ...] | None]] = []
    for k in range(len(bounds) - 1):
        lo = bounds[k]
        hi = cut_starts[k] if k < len(cuts) else len(words)
        connective = cuts[k - 1][2] if k > 0 else None
        raw_phases.append((lo, hi, connective))

    # 2. read each phase: mentions, blends, modifiers, time cues
    phases: list[Phase] = []
    pending_onset: tuple[str, str] | None = None
    meaning_queries: list[tuple[int, int, int, str]] = []  # (phase index, lo, hi, text)
    for lo, hi, connective in raw_phases:
        phase = Phase(text=_surface(tokens, lo, hi) if hi > lo else "")
        if connective is not None and connective in lx.SUDDEN_CONNECTIVES:
            phase.onset, phase.onset_cue = "sudden", " ".join(connective)
        if pending_onset is not None:
            phase.onset, phase.onset_cue = pending_onset
            pending_onset = None
        tail = _trailing_speed(words, lo, hi) if hi < len(words) else None
        if tail is not None:
            pending_onset = tail[:2]
        _time_cues(words, lo, tail[2] if tail is not None else hi, phase)
        for clo, chi in _clauses(words, lo, hi, covered):
            clause_spans = [sp for sp in spans if clo <= sp.start < chi]
            if clause_spans:
                for sp in clause_spans:
                    phase.mentions.append(_mention(tokens, words, sp, clo, chi, spans))
                continue
            content = [i for i in range(clo, chi) if _is_content(words[i])]
            if not content:
                continue
            if not all(words[i].isascii() for i in content):
                # spelling and meaning guesses are English; a word in another language is left unread
                reading.unknown.append(_surface(tokens, content[0], content[-1] + 1))
                continue
            typo = _typo_span(words, content)
            if typo is not None:
                typo.phrase = _surface(tokens, typo.start, typo.end)
                phase.mentions.append(_mention(tokens, words, typo, clo, chi, spans))
                continue
            query_lo = content[0]
            meaning_queries.append((len(phases), query_lo, content[-1] + 1,
                                    _surface(tokens, query_lo, content[-1] + 1)))
        phases.append(phase)

    # 3. phrases the lexicon does not list: ask the sentence encoder
    if meaning_queries and matcher is not None:
        asked = meaning_queries[:MAX_MEANING_QUERIES]
        if len(meaning_queries) > len(asked):
            reading.warnings.append(
                f"only the first {MAX_MEANING_QUERIES} unlisted phrases were interpreted by meaning")
            reading.unknown.extend(q[3] for q in meaning_queries[len(asked):])
        results = matcher.match([q[3] for q in asked])
        reading.encoder = matcher.name
        for (pi, qlo, qhi, qtext), (proto, sim) in zip(asked, results):
            if proto is None:
                reading.unknown.append(qtext)
                continue
            sp = _Span(qlo, qhi, None, how="meaning", similarity=sim, prototype=proto, phrase=qtext)
            clo = _clause_start(words, qlo, covered)
            phases[pi].mentions.append(_mention(tokens, words, sp, clo, qhi, spans))
            reading.notes.append(
                f"'{qtext}' is not in the lexicon; by meaning ({matcher.name}) it is closest to "
                f"{proto} (cosine similarity {sim:.2f}).")
    else:
        reading.unknown.extend(q[3] for q in meaning_queries)
    for p in phases:
        p.mentions = _merge_repeats(sorted(p.mentions, key=lambda m: m.token))

    reading.phases = _tidy_phases(phases, reading)
    _apply_masks(reading)
    return reading


def _surface(tokens: list[Token], lo: int, hi: int) -> str:
    """The text of tokens ``lo:hi`` (lower-cased, contractions spelt out)."""
    return _join(tokens, lo, hi) if hi > lo else ""


def _join(tokens: list[Token], lo: int, hi: int) -> str:
    out = ""
    for t in tokens[lo:hi]:
        out += t.text if (not out or t.text in lx.PUNCT) else " " + t.text
    return out


def _is_content(word: str) -> bool:
    """A word that may carry an emotion the lexicon does not list (not a function or cue word)."""
    return len(word) > 1 and word not in lx.non_content_words()


def _time_cuts(words: list[str], covered: set[int], starts: set[int]) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, end, connective) of each connective that opens a new phase."""
    cuts = []
    i = 0
    phase_start = 0
    while i < len(words):
        if i in covered:
            i += 1
            continue
        hit = None
        for conn in lx.TIME_CONNECTIVES:
            if _match_at(words, i, conn) and not any(k in covered for k in range(i, i + len(conn))):
                if hit is None or len(conn) > len(hit):
                    hit = conn
        if hit is not None and hit[0] in lx.CHANGE_VERBS and len(hit) == 1:
            # "grows angry" splits; "goes to the shop" does not.
            if not any(k in starts for k in range(i + 1, min(len(words), i + 4))):
                hit = None
        if hit is None and words[i] == "to" and "from" in words[phase_start:i]:
            if any(k in starts for k in range(i + 1, min(len(words), i + 4))):
                hit = ("to",)
        if hit is None and words[i] == "now" and i > 0 and words[i - 1] == ",":
            hit = ("now",)
        if hit is None and words[i] in {",", "but", "yet", "and"} and _after_first_marker(words, phase_start, i) \
                and any(k in starts for k in range(phase_start, i)) \
                and any(k in starts for k in range(i + 1, min(len(words), i + 5))):
            hit = (words[i],)  # "angry at first, but gradually calming down": the marker implies a later part
        if hit is not None:
            cuts.append((i, i + len(hit), hit))
            i += len(hit)
            phase_start = i
            continue
        i += 1
    # connectives at the very end or start (nothing on one side) do not split
    return [c for c in cuts if 0 < c[0] and c[1] < len(words)]


def _after_first_marker(words: list[str], lo: int, i: int) -> bool:
    return any(_match_at(words, k, m) for k in range(lo, i) for m in lx.FIRST_PHASE_MARKERS
               if m[0] not in {"first", "starts", "starting", "started", "begins", "beginning", "began"})


def _time_cues(words: list[str], lo: int, hi: int, phase: Phase) -> None:
    fades = _find_phrases(words, lo, hi, lx.FADE_CUES)
    fade_at = fades[0][0] if fades else None
    for kind, cues in (("sudden", lx.SUDDEN_CUES), ("slow", lx.SLOW_CUES)):
        for start, cue in _find_phrases(words, lo, hi, cues):
            if fade_at is not None and fade_at - 2 <= start < fade_at:
                phase.fade_speed = kind  # "slowly fades": the speed of the fade, not of the onset
            elif phase.onset == "normal":
                phase.onset, phase.onset_cue = kind, " ".join(cue)
    if _find_phrases(words, lo, hi, lx.BRIEF_CUES):
        phase.brief = True
    if fades:
        phase.fades, phase.fade_cue = True, " ".join(fades[0][1])


def _trailing_speed(words: list[str], lo: int, hi: int) -> tuple[str, str, int] | None:
    """A speed word right before a connective describes the change that follows it:
    (kind, cue, index where the cue starts)."""
    for kind, cues in (("slow", lx.SLOW_CUES), ("sudden", lx.SUDDEN_CUES)):
        for start, cue in _find_phrases(words, max(lo, hi - 3), hi, cues):
            if start + len(cue) >= hi - 1:
                return kind, " ".join(cue), start
    return None


def _clauses(words: list[str], lo: int, hi: int, covered: set[int]) -> list[tuple[int, int]]:
    """Blend clauses of a phase: split on "but", "and", commas... (never inside a lexicon phrase)."""
    out, start, i = [], lo, lo
    while i < hi:
        hit = None
        if i not in covered:
            for sp in lx.BLEND_SPLITTERS:
                if _match_at(words, i, sp) and i + len(sp) <= hi:
                    hit = sp if hit is None or len(sp) > len(hit) else hit
            if hit is None and words[i] in ".!?":
                hit = (words[i],)
        if hit is not None:
            if i > start:
                out.append((start, i))
            i += len(hit)
            start = i
            continue
        i += 1
    if hi > start:
        out.append((start, hi))
    return out


def _clause_start(words: list[str], i: int, covered: set[int]) -> int:
    j = i
    while j > 0 and words[j - 1] not in lx.PUNCT and (words[j - 1],) not in lx.BLEND_SPLITTERS:
        j -= 1
    return j


def _typo_span(words: list[str], content: list[int]) -> _Span | None:
    """A misspelt lexicon word ("hapy", "furios"), matched by spelling similarity."""
    vocab = lx.single_words()
    for i in content:
        w = words[i]
        if len(w) < 5:
            continue
        close = difflib.get_close_matches(w, list(vocab), n=1, cutoff=0.86)
        if close and close[0][0] == w[0]:  # "read" is not a typo of "dread"
            entry = vocab[close[0]]
            return _Span(i, i + 1, entry, how="typo", prototype=entry.prototype)
    return None


def _mention(tokens: list[Token], words: list[str], sp: _Span, clo: int, chi: int,
             spans: list[_Span]) -> Mention:
    """Apply the modifiers around a matched phrase: intensity words, negation, suppression,
    posed or genuine cues, side, and capitals."""
    # modifiers are searched before the phrase, back to the clause start or the previous emotion
    prev_end = max([s.end for s in spans if s.end <= sp.start and s.start >= clo] + [clo])
    lo = max(prev_end, sp.start - 5)
    before = words[lo : sp.start]
    after_hi = min(chi, sp.end + 4)
    after = words[sp.end : after_hi]
    base = sp.entry.intensity if sp.entry is not None else 0.6
    intensity, mods = base, []
    i = 0
    while i < len(before):
        best = None
        for k in (3, 2, 1):
            key = tuple(before[i : i + k])
            if len(key) == k and key in lx.INTENSIFIERS:
                best = key
                break
        if best is not None:
            mods.append(" ".join(best))
            intensity *= lx.INTENSIFIERS[best]
            i += len(best)
        else:
            i += 1
    # "so, so happy", "very very": repeated amplifiers are counted; exclamation marks add a little
    phase_tail = words[sp.end : min(len(words), sp.end + 6)]
    bangs = sum(1 for w in phase_tail if w == "!")
    if bangs:
        intensity *= 1.15 if bangs == 1 else 1.25
        mods.append("!" * min(bangs, 3))
    if any(tokens[k].upper for k in range(sp.start, sp.end)):
        intensity *= 1.2
        mods.append("CAPITALS")

    suppression_at = [k for k in range(max(prev_end, sp.start - 6), sp.start)
                      for p in lx.SUPPRESSION if k + len(p) <= sp.start and _match_at(words, k, p)]
    if not suppression_at:
        suppression_at = _effort_not_to(words, max(prev_end, sp.start - 8), sp.start)
    suppressed = bool(suppression_at)
    if suppressed and any(w in lx.NEGATORS for w in words[max(prev_end, suppression_at[0] - 2) : suppression_at[0]]):
        # "couldn't hide her excitement": the feeling shows all the more
        suppressed = False
        intensity *= 1.2
        mods.append("can't hide")
    # negation: a negator shortly before, not cancelled ("can't help smiling", "can't hide her joy")
    negated = strong = False
    window = words[max(lo, sp.start - 4) : sp.start]
    if not suppression_at and any(w in lx.NEGATORS for w in window):
        neg_at = max(k for k, w in enumerate(window) if w in lx.NEGATORS)
        between = window[neg_at + 1 :]
        if any(w in lx.NEGATION_CANCELLERS for w in between):
            if any(w in {"hide", "hiding", "contain", "containing", "suppress", "hold", "keep"} for w in between):
                intensity *= 1.2
                mods.append("can't hide")
        else:
            negated = True
            strong = any(tuple(after[k : k + len(p)]) == p for p in lx.NEGATION_STRENGTHENERS
                         for k in range(len(after))) or any(
                tuple(between[k : k + len(p)]) == p for p in lx.NEGATION_STRENGTHENERS for k in range(len(between)))
    if not suppressed:
        after_phrase = words[sp.end : min(chi, sp.end + 5)]
        suppressed = any(tuple(after_phrase[k : k + len(p)]) == p for p in lx.SUPPRESSION_AFTER
                         for k in range(len(after_phrase)))
    cue = " ".join(words[suppression_at[0] : sp.start]) if suppressed and suppression_at else None
    if suppressed and cue is None:
        cue = " ".join(words[sp.end : min(chi, sp.end + 3)])
    fakes = [w for w in before + words[sp.end : min(chi, sp.end + 1)] if w in lx.FAKE_CUES]  # "smiles politely"
    fake = bool(fakes)
    tail = words[sp.end : min(len(words), sp.end + 6)]
    if any(w in lx.UNREACHED_EYES for w in tail) and any(w in lx.NEGATORS for w in tail):
        fake, fakes = True, fakes + [" ".join(tail)]  # "a smile that never reaches her eyes"
    genuines = [w for w in before if w in lx.GENUINE_CUES]
    genuine = bool(genuines)
    cue = cue or (fakes[0] if fakes else genuines[0] if genuines else None)
    side = None
    near = words[max(clo, sp.start - 4) : min(chi, sp.end + 5)]
    for w in near:
        if w in lx.SIDE_WORDS:
            side = lx.SIDE_WORDS[w]
    if side is None and any(w in lx.ONE_SIDED_CUES for w in near):
        side = "one"
    intensity = min(1.0, max(CLAMP_MIN, intensity))
    return Mention(
        prototype=sp.prototype or (sp.entry.prototype if sp.entry else "neutral"),
        phrase=sp.phrase or _join(tokens, sp.start, sp.end),
        intensity=round(intensity, 3), word_intensity=base, modifiers=tuple(mods),
        negated=negated, strong_negation=strong, suppressed=suppressed, fake=fake, genuine=genuine,
        cue=cue, side=side, how=sp.how, similarity=None if sp.similarity is None else round(sp.similarity, 3),
        token=sp.start,
    )


def _merge_repeats(mentions: list[Mention]) -> list[Mention]:
    """One mention per emotion and polarity in a part ("grinning from ear to ear" is one smile):
    the strongest wording wins, the phrases are joined."""
    out: list[Mention] = []
    for m in mentions:
        same = next((i for i, o in enumerate(out) if (o.prototype, o.negated, o.suppressed, o.fake)
                     == (m.prototype, m.negated, m.suppressed, m.fake)), None)
        if same is None:
            out.append(m)
            continue
        keep, other = (m, out[same]) if m.intensity > out[same].intensity else (out[same], m)
        out[same] = replace(keep, phrase=f"{out[same].phrase} ... {m.phrase}", token=out[same].token,
                            side=keep.side or other.side, genuine=keep.genuine or other.genuine)
    return out


def _tidy_phases(phases: list[Phase], reading: Reading) -> list[Phase]:
    """Drop phases with no emotion (carrying their time cues over), cap their number."""
    out: list[Phase] = []
    carry: Phase | None = None
    for p in phases:
        if not p.mentions:
            if p.fades and out:
                # "..., then it fades": a later part where the face returns to rest
                speed = p.onset if p.onset != "normal" else p.fade_speed
                rest = Mention("neutral", p.fade_cue or "fades", 0.0, 0.0, how="fade", token=-1)
                out.append(Phase(p.text, [rest], onset=speed if speed != "normal" else "normal",
                                 onset_cue=p.onset_cue or p.fade_cue))
                continue
            elif p.text and out:
                reading.warnings.append(f"no emotion found in '{p.text}'; the previous expression holds")
            if p.onset != "normal" and not p.fades:
                carry = p
            continue
        if carry is not None and p.onset == "normal":
            p.onset, p.onset_cue = carry.onset, carry.onset_cue
        carry = None
        out.append(p)
    if len(out) > MAX_PHASES:
        reading.warnings.append(f"the text describes {len(out)} stages; only the first {MAX_PHASES} are used")
        out = out[:MAX_PHASES]
    return out


def _apply_masks(reading: Reading) -> None:
    """A smile worn over a hidden feeling is posed; a feeling 'behind a smile' is held back."""
    smiles = {"smile", "happy", "laughing", "content", "amused"}
    for phase in reading.phases:
        ms = phase.mentions
        if not any(m.suppressed for m in ms) and not _has_mask_cue(phase.text):
            continue
        masking_smile = [m for m in ms if m.prototype in smiles and not m.suppressed and not m.negated]
        hidden = [m for m in ms if m not in masking_smile and not m.negated]
        if not masking_smile or not hidden:
            continue
        phase.mentions = [
            replace(m, fake=True) if m in masking_smile else replace(m, suppressed=True) if m in hidden else m
            for m in ms
        ]


def _has_mask_cue(text: str) -> bool:
    return any(f" {w} " in f" {text} " for w in lx.MASK_CUES)

