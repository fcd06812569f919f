"""Emotion prototypes: which action units show which emotion, and the words that name it.

Every prototype lists AU intensities at full strength of the emotion (0..1; FACS A..E =
0.2..1.0), valence (-1..1), arousal (0..1), its source, and the words and phrases that name
it with the intensity each word implies on its own ("annoyed" is a weaker anger than
"furious"). AU keys are plain AU names for bilateral actions ("AU12" = both lip corners) or
sided channel names ("AU14R") for one-sided actions; left/right are the subject's.

Families:
* ``basic``: the six basic emotions and contempt as coded by EMFACS (Friesen & Ekman 1983;
  Ekman, Friesen & Hager 2002, FACS investigator's guide, table of prototypes), plus neutral.
* ``compound``: the 15 compound emotions of Du, Tao & Martinez, "Compound facial expressions
  of emotion", PNAS 111(15), 2014, table 1 (their prototypical AUs, strongest first).
* ``nuanced``: finer states from the literature cited on each, or, where no AU study exists,
  a rationale built from the component emotions (said so in ``source``).
* ``action``: facial actions people name directly ("smile", "frown", "raised eyebrows").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..motion import channels as ch

DEFAULT_WORD_INTENSITY = 0.7


@dataclass(frozen=True)
class Prototype:
    """One emotion or facial action and how the face shows it."""

    name: str
    family: str
    aus: Mapping[str, float]
    valence: float
    arousal: float
    source: str
    words: Mapping[str, float] = field(default_factory=dict)  # phrase -> intensity it implies
    opposite: str | None = None  # what "not <this>" leans toward, if anything
    genuine_smile: bool = False  # a felt (Duchenne) smile: AU6 belongs to it

    def channel_aus(self) -> dict[str, float]:
        """AU targets per motion channel (plain "AU12" spread to both sides)."""
        out: dict[str, float] = {}
        for au, v in self.aus.items():
            for c in ch.expand_au(au):
                out[c] = max(out.get(c, 0.0), v)
        return out


def _p(name, family, aus, valence, arousal, source, words=(), opposite=None, genuine_smile=False):
    """Build a prototype; ``words`` holds phrases, or (phrase, intensity) pairs; the name
    itself is always a word at the default intensity."""
    table: dict[str, float] = {name: DEFAULT_WORD_INTENSITY}
    for w in words:
        phrase, level = (w, DEFAULT_WORD_INTENSITY) if isinstance(w, str) else w
        table[phrase] = level
    return Prototype(name, family, MappingProxyType(dict(aus)), valence, arousal, source,
                     MappingProxyType(table), opposite, genuine_smile)


_EMFACS = "EMFACS prototype (Friesen & Ekman 1983; Ekman, Friesen & Hager 2002)"
_DU = "Du, Tao & Martinez, PNAS 2014, table 1"

_PROTOTYPES: tuple[Prototype, ...] = (
    # --- neutral and the basic emotions (EMFACS) ----------------------------------------
    _p("neutral", "basic", {}, 0.0, 0.1, "no facial action",
       ["neutral", "expressionless", "blank", "poker face", "poker-faced", "straight face", "deadpan",
        "emotionless", "impassive", "stone-faced", "stony", "unmoved", "neutral expression"]),
    _p("happy", "basic", {"AU6": 0.6, "AU12": 0.9}, 0.8, 0.55, _EMFACS + ": 6+12 (felt, Duchenne smile)",
       [("feeling good", 0.45), ("feeling great", 0.6), ("happy", 0.7), ("happiness", 0.7), "joy", ("joyful", 0.8), ("joyous", 0.8), ("glad", 0.55),
        ("cheerful", 0.65), ("delighted", 0.85), ("pleased", 0.5), ("elated", 0.95), ("ecstatic", 1.0),
        ("overjoyed", 1.0), ("thrilled", 0.9), ("jubilant", 0.95), ("euphoric", 1.0), ("blissful", 0.8),
        ("merry", 0.65), ("jolly", 0.65), ("gleeful", 0.8), ("upbeat", 0.55), ("sunny", 0.55),
        ("beaming", 0.85), ("radiant", 0.8), ("over the moon", 1.0), ("on cloud nine", 1.0),
        ("in high spirits", 0.8), ("good mood", 0.5), ("chipper", 0.55), ("lighthearted", 0.55),
        ("positive", 0.45)],
       opposite="sad", genuine_smile=True),
    _p("sad", "basic", {"AU1": 0.7, "AU4": 0.5, "AU15": 0.6, "AU17": 0.3}, -0.7, 0.3,
       _EMFACS + ": 1+4+15, often with 17",
       [("feeling down", 0.5), ("feeling low", 0.45), ("feeling blue", 0.5), ("down in the dumps", 0.6), ("sad", 0.7), ("sadness", 0.7), ("unhappy", 0.6), ("sorrow", 0.8), ("sorrowful", 0.8),
        ("gloomy", 0.55), ("glum", 0.5), ("melancholy", 0.55),
        ("melancholic", 0.55), ("miserable", 0.85), ("depressed", 0.8), ("dejected", 0.7), ("downcast", 0.6),
        ("downhearted", 0.65), ("despondent", 0.8), ("forlorn", 0.7), ("heartbroken", 0.95),
        ("devastated", 1.0), ("grief", 0.95), ("grieving", 0.95), ("mournful", 0.8), ("mourning", 0.85),
        ("woeful", 0.75), ("lonely", 0.55), ("crestfallen", 0.7), ("despair", 0.95),
        ("hopeless", 0.8), ("upset", 0.6), ("somber", 0.5), ("sombre", 0.5), ("tearful", 0.75),
        ("teary", 0.65), ("heavy-hearted", 0.65), ("broken-hearted", 0.95)],
       opposite="happy"),
    # The jaw drops far (about D): the open, slack mouth is what tells surprise from fear's stretched one (20+26).
    # At 0.6 a surprised speaker's mouth opened little more than speech does, and FER read fear, sadness or
    # neutral on half the development portraits (benchmarks/RESULTS.md, Fidelity).
    _p("surprised", "basic", {"AU1": 0.8, "AU2": 0.8, "AU5": 0.5, "AU25": 0.5, "AU26": 0.85}, 0.1, 0.8,
       _EMFACS + ": 1+2+5B+26",
       [("surprised", 0.7), ("surprise", 0.7), ("astonished", 0.9), ("astounded", 0.9),
        ("stunned", 0.9), ("shocked", 0.9), ("shock", 0.9), ("dumbfounded", 0.9), ("flabbergasted", 1.0),
        ("taken aback", 0.6), ("caught off guard", 0.6), ("speechless", 0.8),
        ("agape", 0.8), ("gobsmacked", 1.0), ("jaw-dropping", 0.9)]),
    _p("fear", "basic",
       {"AU1": 0.7, "AU2": 0.6, "AU4": 0.5, "AU5": 0.7, "AU7": 0.3, "AU20": 0.6, "AU25": 0.4, "AU26": 0.4},
       -0.75, 0.85, _EMFACS + ": 1+2+4+5+7+20+26",
       [("afraid", 0.7), ("fear", 0.7), ("fearful", 0.7), ("scared", 0.75), ("frightened", 0.8),
        ("terrified", 1.0), ("petrified", 1.0), ("horrified", 0.95), ("panic", 0.95), ("panicked", 0.95),
        ("panicky", 0.85), ("alarmed", 0.7), ("spooked", 0.6), ("dread", 0.75), ("dreading", 0.7),
        ("fright", 0.8), ("terror", 1.0), ("horror", 0.95), ("apprehensive", 0.45), ("threatened", 0.6),
        ("intimidated", 0.5), ("shaken", 0.6), ("creeped out", 0.6), ("in a cold sweat", 0.8)]),
    _p("angry", "basic", {"AU4": 0.8, "AU5": 0.4, "AU7": 0.6, "AU23": 0.6, "AU24": 0.3}, -0.7, 0.8,
       _EMFACS + ": 4+5+7+23 (Du et al. 2014: 4, 7, 24)",
       [("angry", 0.7), ("anger", 0.7), ("mad", 0.7), ("furious", 1.0), ("fury", 1.0), ("enraged", 1.0),
        ("rage", 1.0), ("raging", 1.0), ("livid", 1.0), ("irate", 0.9), ("incensed", 0.95), ("fuming", 0.9),
        ("seething", 0.9), ("outraged", 0.95), ("infuriated", 1.0), ("wrathful", 1.0), ("hostile", 0.7),
        ("heated", 0.6), ("hot-headed", 0.7), ("pissed", 0.8), ("pissed off", 0.8),
        ("ticked off", 0.6), ("up in arms", 0.8), ("boiling", 0.85), ("indignant", 0.7), ("aggressive", 0.8),
        ("hateful", 0.85), ("vengeful", 0.85), ("glaring", 0.7), ("glare", 0.7), ("scowling", 0.6),
        ("scowl", 0.6), ("grumpy", 0.45), ("cranky", 0.45), ("bad-tempered", 0.55)],
       ),
    _p("disgusted", "basic", {"AU9": 0.8, "AU10": 0.5, "AU15": 0.3, "AU17": 0.3}, -0.65, 0.55,
       _EMFACS + ": 9+15+16 / 10+17; Du et al. 2014: 9, 10, 17",
       [("disgusted", 0.7), ("disgust", 0.7), ("disgusting", 0.7), ("grossed out", 0.7), ("gross", 0.6),
        ("revolted", 0.9), ("repulsed", 0.9), ("repelled", 0.8), ("nauseated", 0.8), ("sickened", 0.85),
        ("queasy", 0.5), ("yuck", 0.7), ("eww", 0.7), ("ew", 0.7), ("icky", 0.5), ("loathing", 0.9),
        ("revulsion", 0.9), ("distaste", 0.5), ("repugnance", 0.85), ("nasty", 0.6), ("vile", 0.8)]),
    _p("contempt", "basic", {"AU12R": 0.3, "AU14R": 0.6}, -0.5, 0.35,
       _EMFACS + ": R12A+R14A, one-sided (drawn on the subject's right)",
       [("contempt", 0.7), ("contemptuous", 0.7), ("disdain", 0.7), ("disdainful", 0.7), ("scorn", 0.75),
        ("scornful", 0.75), ("derisive", 0.7), ("derision", 0.7), ("condescending", 0.6),
        ("patronizing", 0.55), ("patronising", 0.55), ("dismissive", 0.5), 
        ("haughty", 0.6), ("snobbish", 0.55), ("snooty", 0.55), ("looking down on", 0.6),
        ("sneering", 0.75), ("sneer", 0.75), ("mocking", 0.6), ("scoffing", 0.65), ("scoff", 0.65),
        ("unimpressed", 0.45)]),

    # --- the 15 compound emotions of Du, Tao & Martinez (PNAS 2014) ---------------------
    _p("happily surprised", "compound", {"AU1": 0.7, "AU2": 0.7, "AU12": 0.8, "AU25": 0.6, "AU6": 0.4},
       0.8, 0.8, _DU + ": 1, 2, 12, 25",
       ["happily surprised", ("pleasantly surprised", 0.65), ("delightfully surprised", 0.8),
        ("happy surprise", 0.75), ("thrilled and surprised", 0.85)], genuine_smile=True),
    _p("happily disgusted", "compound", {"AU10": 0.6, "AU12": 0.6, "AU25": 0.5, "AU9": 0.2}, 0.2, 0.5,
       _DU + ": 10, 12, 25",
       ["happily disgusted", ("grossed out but amused", 0.7), ("gross but funny", 0.6)]),
    _p("sadly fearful", "compound", {"AU1": 0.7, "AU4": 0.6, "AU20": 0.5, "AU25": 0.4, "AU15": 0.2},
       -0.75, 0.6, _DU + ": 1, 4, 20, 25", ["sadly fearful", ("scared and sad", 0.7)]),
    _p("sadly angry", "compound", {"AU4": 0.7, "AU15": 0.6, "AU7": 0.2, "AU17": 0.2}, -0.75, 0.6,
       _DU + ": 4, 15", ["sadly angry", ("bitter", 0.6), ("aggrieved", 0.65), ("wounded", 0.6)]),
    _p("sadly surprised", "compound", {"AU1": 0.7, "AU4": 0.5, "AU25": 0.5, "AU26": 0.5}, -0.5, 0.6,
       _DU + ": 1, 4, 25, 26",
       ["sadly surprised", ("dismayed", 0.7), ("disheartened", 0.6), ("crushed", 0.85)]),
    _p("sadly disgusted", "compound", {"AU4": 0.6, "AU10": 0.6, "AU15": 0.2}, -0.7, 0.45,
       _DU + ": 4, 10", ["sadly disgusted", ("sickened and sad", 0.7)]),
    _p("fearfully angry", "compound", {"AU4": 0.7, "AU20": 0.6, "AU25": 0.5, "AU7": 0.2}, -0.75, 0.85,
       _DU + ": 4, 20, 25", ["fearfully angry", ("angry and afraid", 0.7), ("defensive", 0.55)]),
    _p("fearfully surprised", "compound",
       {"AU1": 0.8, "AU2": 0.7, "AU5": 0.7, "AU20": 0.5, "AU25": 0.6, "AU26": 0.3}, -0.5, 0.9,
       _DU + ": 1, 2, 5, 20, 25", ["fearfully surprised", ("aghast", 0.85), ("alarmed and surprised", 0.8)]),
    _p("fearfully disgusted", "compound", {"AU1": 0.6, "AU4": 0.6, "AU10": 0.6, "AU20": 0.5, "AU25": 0.4},
       -0.8, 0.75, _DU + ": 1, 4, 10, 20, 25", ["fearfully disgusted", ("creeped out and grossed out", 0.7)]),
    _p("angrily surprised", "compound", {"AU4": 0.7, "AU25": 0.6, "AU26": 0.6, "AU7": 0.2}, -0.5, 0.9,
       _DU + ": 4, 25, 26", ["angrily surprised", ("outraged and shocked", 0.85), ("affronted", 0.7)]),
    _p("angrily disgusted", "compound", {"AU4": 0.7, "AU10": 0.6, "AU17": 0.5, "AU9": 0.2}, -0.8, 0.7,
       _DU + ": 4, 10, 17", ["angrily disgusted"]),
    _p("disgustedly surprised", "compound", {"AU1": 0.6, "AU2": 0.6, "AU5": 0.4, "AU10": 0.6, "AU9": 0.2},
       -0.45, 0.75, _DU + ": 1, 2, 5, 10", ["disgustedly surprised", ("shocked and disgusted", 0.8)]),
    _p("appalled", "compound", {"AU4": 0.7, "AU9": 0.7, "AU10": 0.6}, -0.8, 0.75, _DU + ": 4, 9, 10",
       ["appalled", ("outraged and disgusted", 0.9), ("scandalized", 0.8), ("scandalised", 0.8),
        ("mortified", 0.75)]),
    _p("hatred", "compound", {"AU4": 0.8, "AU7": 0.7, "AU10": 0.6}, -0.9, 0.75, _DU + ": 4, 7, 10",
       [("hatred", 0.85), ("hate", 0.85), ("hating", 0.85), ("loathe", 0.85), ("detest", 0.8),
        ("despise", 0.8), ("animosity", 0.7), ("venomous", 0.9), ("spiteful", 0.7)]),
    _p("awed", "compound", {"AU1": 0.7, "AU2": 0.7, "AU5": 0.5, "AU25": 0.6, "AU26": 0.3}, 0.6, 0.7,
       _DU + ": 1, 2, 5, 25 (cf. Shiota, Campos & Keltner 2003: awe = 1+2+5+26)",
       [("awed", 0.7), ("awe", 0.75), ("in awe", 0.8), ("awestruck", 0.9), ("awe-struck", 0.9),
        ("wonder", 0.6), ("wonderstruck", 0.85), ("marveling", 0.7), ("marvelling", 0.7), ("mesmerized", 0.7),
        ("mesmerised", 0.7), ("spellbound", 0.75), ("breathtaking", 0.8), ("starstruck", 0.8),
        ("dazzled", 0.7), ("enchanted", 0.65)]),

    # --- nuanced states -------------------------------------------------------------------
    _p("amused", "nuanced", {"AU6": 0.7, "AU12": 0.8, "AU25": 0.5, "AU26": 0.3}, 0.75, 0.65,
       "Campos et al. 2013; Ambadar, Cohn & Reed 2009 (amused smiles: 6+12 with open mouth)",
       [("amused", 0.65), ("amusement", 0.65), ("entertained", 0.55), ("tickled", 0.7), ("funny", 0.6),
        ("hilarious", 0.9), ("in stitches", 1.0), ("giggly", 0.75), ("mirthful", 0.75), ("mirth", 0.75),
        ("droll", 0.4), ("witty", 0.45)], genuine_smile=True),
    _p("laughing", "action", {"AU6": 0.8, "AU12": 1.0, "AU25": 0.8, "AU26": 0.6}, 0.85, 0.85,
       "laughter: 6+12+25+26/27 (Ruch & Ekman 2001)",
       [("laugh", 0.85), ("laughing", 0.85), ("laughter", 0.85), ("giggle", 0.6), ("giggling", 0.6),
        ("chuckle", 0.5), ("chuckling", 0.5), ("guffaw", 1.0), ("cackle", 0.9), ("cackling", 0.9),
        ("snicker", 0.45), ("snickering", 0.45), ("chortle", 0.6), ("belly laugh", 1.0), ("crack up", 0.9),
        ("cracking up", 0.9), ("roaring with laughter", 1.0), ("lol", 0.7), ("haha", 0.7), ("hahaha", 0.9)],
       genuine_smile=True),
    _p("smug", "nuanced", {"AU12R": 0.5, "AU12L": 0.15, "AU14R": 0.4, "AU17": 0.2}, 0.3, 0.35,
       "rationale: a smug look is a contained, one-sided smile (contempt-like 12+14 on one side, Ekman 1992) "
       "with a raised chin",
       [("smug", 0.7), ("self-satisfied", 0.65), ("self-congratulatory", 0.65), ("complacent", 0.5),
        ("cocky", 0.65), ("conceited", 0.6), ("know-it-all", 0.6), ("gloating", 0.8), ("gloat", 0.8),
        ("arrogant", 0.6), ("pleased with himself", 0.7), ("pleased with herself", 0.7),
        ("pleased with themselves", 0.7), ("pleased with myself", 0.7)]),
    _p("smirk", "action", {"AU12R": 0.6, "AU14R": 0.4}, 0.2, 0.35,
       "smirk: unilateral 12 with 14 (FACS manual, asymmetric smile)",
       [("smirk", 0.7), ("smirking", 0.7), ("half smile", 0.55), ("half-smile", 0.55),
        ("lopsided smile", 0.6), ("lopsided grin", 0.7), ("crooked smile", 0.6), ("crooked grin", 0.7),
        ("one-sided smile", 0.6), ("wry smile", 0.55), ("wry", 0.5), ("wryly", 0.5)]),
    _p("embarrassed", "nuanced", {"AU12": 0.4, "AU24": 0.4, "AU14": 0.3, "AU45": 0.2}, -0.2, 0.55,
       "Keltner 1995: embarrassment = smile controls (24, 14) over a smile, gaze down, more blinking",
       [("embarrassed", 0.7), ("embarrassment", 0.7), ("awkward", 0.55), ("flustered", 0.65),
        ("red-faced", 0.7), ("blushing", 0.65), ("blush", 0.6), ("self-conscious", 0.55),
        ("cringe", 0.65), ("cringing", 0.65), ("cringey", 0.55), 
        ("abashed", 0.6), ("chagrined", 0.6), ("humiliated", 0.9)]),
    _p("shy", "nuanced", {"AU12": 0.3, "AU24": 0.25, "AU14": 0.15, "AU45": 0.15}, 0.1, 0.35,
       "Colonnesi et al. 2013 (coy/shy smile: small 12 with gaze aversion and lip press)",
       [("shy", 0.6), ("shyly", 0.6), ("timid", 0.55), ("bashful", 0.6), ("coy", 0.55), ("demure", 0.45),
        ("meek", 0.45), ("reserved", 0.35), ("introverted", 0.35)]),
    _p("bored", "nuanced", {"AU45": 0.35, "AU15": 0.15, "AU17": 0.15, "AU25": 0.1}, -0.3, 0.05,
       "rationale: boredom shows as low activation: heavy, drooping lids (partial lid closure, AU43 "
       "drawn as partial AU45) and a slack mouth (Craig et al. 2008)",
       [("bored", 0.7), ("boredom", 0.7), ("uninterested", 0.6), ("disinterested", 0.6), ("indifferent", 0.45),
        ("apathetic", 0.5), ("listless", 0.6), ("jaded", 0.5), ("weary of", 0.55), ("unenthused", 0.5),
        ("meh", 0.45), ("yawning", 0.7), ("yawn", 0.7), ("tedious", 0.6), ("monotonous", 0.5)]),
    _p("confused", "nuanced", {"AU4": 0.5, "AU7": 0.3, "AU23": 0.15, "AU1": 0.15}, -0.2, 0.45,
       "Rozin & Cohen 2003; Grafsgaard et al. 2013 (confusion = 4 + 7, brow lowered and eyes narrowed)",
       [("confused", 0.7), ("confusion", 0.7), ("puzzled", 0.7), ("perplexed", 0.75), ("baffled", 0.8),
        ("bewildered", 0.8), ("befuddled", 0.75), ("mystified", 0.7), ("uncertain", 0.45),
        ("unsure", 0.45), ("unclear", 0.4), ("stumped", 0.7), ("head-scratching", 0.65),
        ("doesn't understand", 0.6), ("does not understand", 0.6), ("not understanding", 0.6),
        ("quizzical", 0.6), ("huh", 0.6)]),
    _p("relieved", "nuanced", {"AU12": 0.4, "AU6": 0.2, "AU25": 0.3, "AU45": 0.25}, 0.55, 0.25,
       "rationale: relief follows released tension: a small smile, lips parting for an exhale, eyes "
       "briefly closing (Sauter et al. 2010 describe the relief sigh)",
       [("relieved", 0.7), ("relief", 0.7), ("phew", 0.7), ("reassured", 0.55), ("at ease", 0.45),
        ("unburdened", 0.6), ("off the hook", 0.6), ("sigh of relief", 0.8), ("thank god", 0.7),
        ("thank goodness", 0.7)]),
    _p("proud", "nuanced", {"AU12": 0.5, "AU6": 0.3, "AU24": 0.15, "AU17": 0.15}, 0.65, 0.5,
       "Tracy & Robins 2004 (pride: small smile, 12, head tilted slightly back)",
       [("proud", 0.7), ("pride", 0.7), ("accomplished", 0.6), ("dignified", 0.45), ("self-assured", 0.5),
        ("confident", 0.45), ("victorious", 0.8), ("puffed up", 0.6), ("honored", 0.55),
        ("honoured", 0.55)], genuine_smile=True),
    _p("triumphant", "nuanced", {"AU12": 0.8, "AU6": 0.6, "AU4": 0.2, "AU25": 0.5, "AU26": 0.4}, 0.8, 0.9,
       "Matsumoto & Hwang 2012 (triumph: open-mouthed smile, sometimes with lowered brows)",
       [("triumphant", 0.8), ("triumph", 0.8), ("exultant", 0.9), ("nailed it", 0.8),
        ("we won", 0.8)], genuine_smile=True),
    _p("nervous", "nuanced", {"AU1": 0.45, "AU4": 0.3, "AU5": 0.2, "AU20": 0.35, "AU24": 0.2, "AU45": 0.2},
       -0.45, 0.7,
       "rationale: anxiety is a weak fear display (1+4+20, Harrigan & O'Connell 1996) with lip press "
       "and frequent blinking",
       [("nervous", 0.7), ("nervously", 0.7), ("anxious", 0.7), ("anxiety", 0.7), ("jittery", 0.7),
        ("jumpy", 0.6), ("on edge", 0.7), ("edgy", 0.55), ("uneasy", 0.5), ("restless", 0.5),
        ("tense", 0.55), ("stressed", 0.65), ("stressed out", 0.7), ("worked up", 0.65), ("fidgety", 0.55),
        ("antsy", 0.5), ("butterflies", 0.5), ("jitters", 0.6), ("nerves", 0.6), ("uptight", 0.55),
        ("rattled", 0.65), ("frazzled", 0.7), ("insecure", 0.5), ("agitated", 0.7), ("stage fright", 0.75)],
       opposite="calm"),
    _p("worried", "nuanced", {"AU1": 0.55, "AU4": 0.45, "AU15": 0.2, "AU24": 0.2, "AU20": 0.15}, -0.55, 0.5,
       "rationale: worry draws the oblique 'grief muscle' brow of 1+4 (Darwin 1872; Ekman 2003) with a "
       "tight mouth",
       [("worried", 0.7), ("worry", 0.7), ("worrying", 0.7), ("concerned", 0.55), ("troubled", 0.65),
        ("distressed", 0.8), ("fretful", 0.7), ("fretting", 0.7), ("bothered", 0.5), ("disturbed", 0.65),
        ("uneasy feeling", 0.5), ("preoccupied", 0.45), ("distraught", 0.9)]),
    _p("amazed", "nuanced", {"AU1": 0.7, "AU2": 0.7, "AU5": 0.4, "AU12": 0.4, "AU25": 0.5, "AU26": 0.4},
       0.6, 0.8, "rationale: surprise (1+2+5+26) warmed by a smile (12), cf. Du et al. happily surprised",
       [("wowed", 0.75), ("wow", 0.7), ("impressed", 0.55), ("blown away", 0.9)]),
    _p("tired", "nuanced", {"AU45": 0.45, "AU1": 0.15, "AU15": 0.1, "AU25": 0.15, "AU26": 0.1}, -0.25, 0.05,
       "rationale: fatigue lowers the upper lids (AU43, drawn as partial AU45), slackens the jaw and "
       "flattens the brows (Sundelin et al. 2013: hanging eyelids, droopy mouth corners)",
       [("tired", 0.7), ("exhausted", 0.95), ("sleepy", 0.75), ("drowsy", 0.75), ("weary", 0.7),
        ("fatigued", 0.8), ("worn out", 0.85), ("drained", 0.8), ("lethargic", 0.7),
        ("sluggish", 0.6), ("groggy", 0.7), ("knackered", 0.9), ("burned out", 0.85),
        ("burnt out", 0.85), ("heavy-lidded", 0.7), ("half asleep", 0.8), ("dozy", 0.7)]),
    _p("determined", "nuanced", {"AU4": 0.4, "AU7": 0.3, "AU17": 0.35, "AU23": 0.3, "AU24": 0.35}, 0.2, 0.65,
       "rationale: resolve shows as focus (4+7) and a set jaw: chin raised and lips pressed (17+24)",
       [("determined", 0.7), ("determination", 0.7), ("resolute", 0.7), ("resolved", 0.6),
        ("steely", 0.75), ("steadfast", 0.6), ("gritty", 0.6), ("unyielding", 0.7),
        ("focused", 0.55), ("set jaw", 0.6), ("gritted teeth", 0.7),
        ("gritting teeth", 0.7), ("clenched jaw", 0.7), ("clenching jaw", 0.7), ("purposeful", 0.55),
        ("ready to fight", 0.75), ("fierce", 0.75), ("tenacious", 0.6)]),
    _p("bittersweet", "nuanced", {"AU1": 0.45, "AU4": 0.2, "AU12": 0.35, "AU6": 0.15}, 0.1, 0.3,
       "rationale: a blend of sadness in the brows (1+4) and a soft smile (12) in the mouth, the "
       "upper/lower face split described for blends by Ekman & Friesen 1975",
       [("bittersweet", 0.7), ("sweet sorrow", 0.7), ("happy tears", 0.7), ("tears of joy", 0.8),
        ("touched", 0.6), ("deeply moved", 0.7), ("poignant", 0.6), ("misty-eyed", 0.6), ("choked up", 0.7)]),
    _p("nostalgic", "nuanced", {"AU1": 0.3, "AU12": 0.3, "AU6": 0.1, "AU45": 0.15}, 0.2, 0.2,
       "rationale: wistful remembering: soft smile (12), slight inner-brow raise (1), lowered lids",
       [("nostalgic", 0.7), ("nostalgia", 0.7), ("wistful", 0.65), ("wistfully", 0.65), ("reminiscent", 0.6),
        ("reminiscing", 0.6), ("sentimental", 0.6), ("longing", 0.6), ("yearning", 0.65), ("homesick", 0.6),
        ("remembering", 0.45), ("fond memories", 0.6), ("fondly", 0.55)]),
    _p("content", "nuanced", {"AU12": 0.4, "AU6": 0.2}, 0.55, 0.15,
       "Campos et al. 2013 (contentment: slight smile, relaxed face)",
       [("content", 0.6), ("contented", 0.6), ("contentment", 0.6), ("satisfied", 0.55), ("fulfilled", 0.6),
        ("pleasant", 0.45), ("comfortable", 0.4), ("cozy", 0.45), ("cosy", 0.45), 
        ("mellow", 0.4)], genuine_smile=True),
    _p("calm", "nuanced", {"AU12": 0.1}, 0.25, 0.05,
       "rationale: calm is a relaxed face with no tension; a trace of 12 keeps it from reading as blank",
       [("calm", 0.7), ("calmly", 0.7), ("relaxed", 0.6), ("peaceful", 0.7), ("serene", 0.75),
        ("tranquil", 0.75), ("placid", 0.65), ("composed", 0.6), ("collected", 0.55), ("zen", 0.7),
        ("chill", 0.55), ("chilled", 0.55), ("unbothered", 0.6), ("untroubled", 0.6), ("easygoing", 0.5),
        ("laid-back", 0.55), ("laid back", 0.55), ("at peace", 0.7), 
        ("soothed", 0.6)], opposite="nervous"),
    _p("excited", "nuanced",
       {"AU1": 0.3, "AU2": 0.4, "AU5": 0.4, "AU6": 0.5, "AU12": 0.8, "AU25": 0.5, "AU26": 0.3}, 0.8, 0.95,
       "rationale: high-arousal joy: Duchenne smile (6+12) with raised brows and widened eyes (1+2+5)",
       [("excited", 0.75), ("excitement", 0.75), ("exciting", 0.7), ("eager", 0.6), ("enthusiastic", 0.7),
        ("pumped", 0.85), ("hyped", 0.85), ("stoked", 0.8), ("giddy", 0.8), ("exhilarated", 0.9),
        ("animated", 0.6), ("bubbly", 0.65), ("energetic", 0.6), ("can't wait", 0.75),
        ("cannot wait", 0.75), ("psyched", 0.8), ("fired up", 0.8)], genuine_smile=True),
    _p("hopeful", "nuanced", {"AU1": 0.3, "AU2": 0.2, "AU12": 0.35, "AU6": 0.1}, 0.45, 0.4,
       "rationale: hope pairs raised inner brows (1, upward attention) with a tentative smile (12)",
       [("hopeful", 0.7), ("hope", 0.65), ("hoping", 0.65), ("optimistic", 0.6), ("expectant", 0.55),
        ("looking forward", 0.6), ("anticipation", 0.6), ("anticipating", 0.6), ("encouraged", 0.55),
        ("wishful", 0.5)]),
    _p("grateful", "nuanced", {"AU1": 0.3, "AU6": 0.35, "AU12": 0.5}, 0.7, 0.35,
       "rationale: gratitude is a warm Duchenne smile (6+12) with softened, slightly raised inner brows",
       [("grateful", 0.7), ("gratitude", 0.7), ("thankful", 0.7), ("appreciative", 0.6), ("indebted", 0.5),
        ("thank you", 0.6), ("thanks", 0.5)], genuine_smile=True),
    _p("loving", "nuanced", {"AU6": 0.35, "AU12": 0.5, "AU1": 0.1, "AU45": 0.1}, 0.8, 0.35,
       "Campos et al. 2013 (love: Duchenne smile 6+12, head tilt, soft gaze)",
       [("loving", 0.7), ("love", 0.7), ("in love", 0.8), ("affectionate", 0.65), ("tender", 0.6),
        ("adoring", 0.75), ("adoration", 0.75), ("fond", 0.55), ("caring", 0.55), ("warm-hearted", 0.6),
        ("smitten", 0.8), ("infatuated", 0.8), ("doting", 0.65), ("lovestruck", 0.8), ("romantic", 0.6)],
       genuine_smile=True),
    _p("playful", "nuanced", {"AU6": 0.4, "AU12R": 0.65, "AU12L": 0.5, "AU25": 0.25, "AU14R": 0.1}, 0.65, 0.65,
       "rationale: play face: an open, slightly asymmetric smile (6+12+25) (van Hooff 1972 on play faces)",
       [("playful", 0.7), ("mischievous", 0.7), ("cheeky", 0.65), ("impish", 0.65), ("teasing", 0.6),
        ("naughty", 0.6), ("silly", 0.55), ("goofy", 0.6), ("flirty", 0.6), ("flirtatious", 0.6),
        ("flirting", 0.6), ("coquettish", 0.6), ("sly", 0.55), ("devilish", 0.65), ("roguish", 0.6),
        ("tongue-in-cheek", 0.5), ("joking", 0.55), ("jokey", 0.55), ("kidding", 0.5)]),
    _p("skeptical", "nuanced", {"AU2": 0.3, "AU4": 0.3, "AU7": 0.3, "AU14R": 0.3, "AU12R": 0.1}, -0.25, 0.4,
       "rationale: doubt narrows the eyes (7), lowers one brow while the other lifts (4 with 2) and "
       "tucks one lip corner (unilateral 14), close to contempt",
       [("skeptical", 0.7), ("sceptical", 0.7), ("skepticism", 0.7), ("doubtful", 0.65), ("dubious", 0.65),
        ("unconvinced", 0.6), ("distrustful", 0.65), ("mistrustful", 0.65),
        ("wary", 0.55), ("incredulous", 0.65), ("cynical", 0.6), ("raised eyebrow", 0.6),
        ("one eyebrow raised", 0.6), ("side-eye", 0.6), ("side eye", 0.6), ("leery", 0.55),
        ("questioning", 0.5), ("doubt", 0.6)]),
    _p("disbelief", "nuanced", {"AU1": 0.5, "AU2": 0.55, "AU4": 0.2, "AU5": 0.2, "AU25": 0.35, "AU26": 0.25},
       -0.2, 0.6,
       "rationale: disbelief is surprise that will not settle (1+2+5+25/26) with a hint of frowning (4)",
       [("disbelief", 0.7), ("disbelieving", 0.7), ("in disbelief", 0.75), ("can't believe", 0.7),
        ("cannot believe", 0.7), ("unbelievable", 0.7), ("no way", 0.65), ("stupefied", 0.8)]),
    _p("frustrated", "nuanced", {"AU4": 0.55, "AU7": 0.35, "AU24": 0.4, "AU17": 0.3, "AU14": 0.15}, -0.55, 0.7,
       "Grafsgaard et al. 2013; D'Mello & Graesser 2010 (frustration: 4, 7, lip press/tightening)",
       [("frustrated", 0.7), ("frustration", 0.7), ("exasperated", 0.8), 
        ("aggravated", 0.65), ("fed up", 0.7),
        ("at the end of his rope", 0.8), ("at the end of her rope", 0.8), ("at wits' end", 0.8),
        ("impatient", 0.5), ("grumbling", 0.5), ("disgruntled", 0.55), 
        ("put out", 0.45), ("huffy", 0.5), ("testy", 0.5), ("sulky", 0.5),
        ("sulking", 0.5)]),
    _p("disappointed", "nuanced", {"AU1": 0.35, "AU4": 0.3, "AU15": 0.45, "AU17": 0.35, "AU24": 0.1},
       -0.5, 0.3,
       "rationale: a mild sadness (1+4+15) with the chin raised (17), the 'pout' of a let-down",
       [("disappointed", 0.7), ("disappointment", 0.7), ("let down", 0.65), ("letdown", 0.65),
        ("deflated", 0.65), ("discouraged", 0.6), ("disillusioned", 0.6), ("dissatisfied", 0.55),
        ("bummed", 0.55), ("bummed out", 0.6), ("underwhelmed", 0.5), ("pouting", 0.6), ("pout", 0.6)]),
    _p("guilty", "nuanced", {"AU1": 0.35, "AU4": 0.3, "AU15": 0.3, "AU24": 0.3, "AU17": 0.2, "AU45": 0.15},
       -0.55, 0.35,
       "Keltner & Buswell 1996 (guilt/shame: gaze down, lip press and lip-corner depression)",
       [("guilty", 0.7), ("guilt", 0.7), ("remorseful", 0.75), ("remorse", 0.75), ("regretful", 0.65),
        ("regret", 0.65), ("contrite", 0.65), ("sorry", 0.5), ("penitent", 0.65),
        ("conscience-stricken", 0.75)]),
    _p("ashamed", "nuanced", {"AU4": 0.3, "AU15": 0.35, "AU17": 0.35, "AU24": 0.3, "AU45": 0.25}, -0.65, 0.35,
       "Keltner 1995; Tracy & Matsumoto 2008 (shame: head and gaze down, 15+17+24)",
       [("ashamed", 0.7), ("shame", 0.7), ("shameful", 0.7), ("disgraced", 0.8), ("dishonored", 0.75),
        ("dishonoured", 0.75), ("humbled", 0.5)]),
    _p("jealous", "nuanced", {"AU4": 0.45, "AU7": 0.4, "AU14R": 0.25, "AU15": 0.2, "AU17": 0.2}, -0.6, 0.55,
       "rationale: envy mixes anger (4+7) with a one-sided, contemptuous lip (14) and resentment (15+17)",
       [("jealous", 0.7), ("jealousy", 0.7), ("envious", 0.7), ("envy", 0.7), ("resentful", 0.7),
        ("resentment", 0.7), ("covetous", 0.6), ("green with envy", 0.8), ("begrudging", 0.55),
        ("grudging", 0.5), ("possessive", 0.55)]),
    _p("curious", "nuanced", {"AU1": 0.35, "AU2": 0.35, "AU5": 0.25, "AU25": 0.15}, 0.3, 0.5,
       "Reeve 1993; Mortillaro et al. 2011 (interest: raised brows 1+2, widened eyes, parted lips)",
       [("curious", 0.7), ("curiosity", 0.7), ("interested", 0.6), ("intrigued", 0.7), ("fascinated", 0.8),
        ("inquisitive", 0.65), ("attentive", 0.5), ("captivated", 0.75),
        ("keen", 0.55), ("nosy", 0.55), ("wondering", 0.5)]),
    _p("thoughtful", "nuanced", {"AU4": 0.25, "AU17": 0.2, "AU24": 0.2, "AU14": 0.1, "AU7": 0.15}, 0.0, 0.25,
       "rationale: concentration knits the brows (4) and narrows the eyes (7); lips gather (17+24)",
       [("thoughtful", 0.7), ("pensive", 0.7), ("contemplative", 0.7), ("reflective", 0.6),
        ("pondering", 0.65), ("musing", 0.6), ("deep in thought", 0.8), ("lost in thought", 0.75),
        ("concentrating", 0.65), ("concentrated", 0.6), ("thinking", 0.5), ("considering", 0.45),
        ("absorbed", 0.6), ("studious", 0.5), ("serious", 0.5), ("solemn", 0.55), 
        ("stern", 0.65), ("earnest", 0.45)]),
    _p("sarcastic", "nuanced", {"AU2": 0.3, "AU12R": 0.35, "AU14R": 0.4, "AU7": 0.15}, -0.2, 0.45,
       "rationale: mock amusement: a one-sided, contempt-like smile (12+14 on one side) under a lifted brow",
       [("sarcastic", 0.7), ("sarcasm", 0.7), ("sardonic", 0.7), ("ironic", 0.6), ("snarky", 0.65),
        ("facetious", 0.55), ("eye roll", 0.6), ("eye-roll", 0.6), ("rolling her eyes", 0.6),
        ("rolling his eyes", 0.6), ("rolls her eyes", 0.6), ("rolls his eyes", 0.6), ("rolled her eyes", 0.6),
        ("rolled his eyes", 0.6), ("rolling their eyes", 0.6), ("rolls eyes", 0.6)]),
    _p("awkward smile", "nuanced", {"AU12": 0.35, "AU20": 0.35, "AU24": 0.2, "AU14": 0.15}, -0.15, 0.45,
       "rationale: an uncomfortable, social smile stretches the lips sideways (12+20) without AU6 "
       "(Ambadar, Cohn & Reed 2009 on embarrassed and polite smiles)",
       [("awkward smile", 0.7), ("uncomfortable smile", 0.7), ("nervous smile", 0.7), ("nervous laugh", 0.7),
        ("grimacing smile", 0.7), ("uncomfortable", 0.55), ("forced laugh", 0.6)]),
    _p("pained", "nuanced", {"AU4": 0.6, "AU6": 0.5, "AU7": 0.6, "AU9": 0.4, "AU10": 0.4, "AU45": 0.3,
                             "AU25": 0.2, "AU20": 0.2},
       -0.8, 0.75, "Prkachin 1992; Prkachin & Solomon 2008 (pain: 4, 6/7, 9/10, 43)",
       [("pained", 0.7), ("pain", 0.75), ("in pain", 0.8), ("painful", 0.75), ("hurting", 0.7),
        ("agony", 1.0), ("agonized", 1.0), ("agonised", 1.0), ("aching", 0.6), ("suffering", 0.8),
        ("wince", 0.65), ("wincing", 0.65), ("ouch", 0.7), ("ow", 0.6), ("tormented", 0.9),
        ("anguish", 0.9), ("anguished", 0.9)]),
    _p("crying", "action", {"AU1": 0.75, "AU4": 0.6, "AU6": 0.4, "AU7": 0.3, "AU15": 0.7, "AU17": 0.5,
                            "AU25": 0.35, "AU20": 0.2},
       -0.85, 0.7, "rationale: the crying face (Darwin 1872; Provine et al.): 1+4 grief brows, 6+7 squeezed "
       "eyes, 15+17 trembling mouth",
       [("crying", 0.8), ("cry", 0.8), ("cries", 0.8), ("sobbing", 0.95), ("sob", 0.95), ("weeping", 0.9),
        ("weep", 0.9), ("in tears", 0.85), ("bawling", 1.0), ("tears", 0.75), ("tearing up", 0.6),
        ("welling up", 0.6), ("whimpering", 0.7), ("blubbering", 0.95), ("lip trembling", 0.6),
        ("trembling lip", 0.6), ("quivering lip", 0.6)]),
    _p("overwhelmed", "nuanced", {"AU1": 0.5, "AU4": 0.4, "AU7": 0.2, "AU20": 0.25, "AU25": 0.25}, -0.45, 0.7,
       "rationale: overload combines distress brows (1+4) with fear's lip stretch (20)",
       [("overwhelmed", 0.75), ("swamped", 0.6), ("overloaded", 0.65), ("in over his head", 0.7),
        ("in over her head", 0.7), ("frantic", 0.85), ("harried", 0.65), 
        ("helpless", 0.7), ("desperate", 0.8), ("powerless", 0.65), ("pleading", 0.7), ("begging", 0.75)]),
    _p("sympathetic", "nuanced", {"AU1": 0.45, "AU4": 0.2, "AU12": 0.15, "AU24": 0.1}, 0.2, 0.3,
       "Eisenberg et al. 1989 (sympathy/concern: oblique brows 1+4, soft mouth)",
       [("sympathetic", 0.7), ("sympathy", 0.7), ("compassionate", 0.7), ("compassion", 0.7),
        ("empathetic", 0.65), ("empathic", 0.65), ("pity", 0.65), ("pitying", 0.65),
        ("understanding", 0.5), ("consoling", 0.6), ("comforting", 0.55), 
        ("soft-hearted", 0.55)]),
    _p("dreamy", "nuanced", {"AU12": 0.25, "AU45": 0.3, "AU1": 0.1}, 0.4, 0.1,
       "rationale: daydreaming relaxes the face: half-lowered lids and a faint smile",
       [("dreamy", 0.7), ("daydreaming", 0.7), ("spaced out", 0.6), ("absent-minded", 0.5), ("far away", 0.55),
        ("faraway", 0.55), ("zoned out", 0.6), ("blissed out", 0.75)]),
    _p("startled", "nuanced", {"AU1": 0.5, "AU2": 0.45, "AU5": 0.7, "AU7": 0.2, "AU20": 0.45, "AU25": 0.4,
                               "AU26": 0.3},
       -0.2, 0.95, "Ekman, Friesen & Simons 1985 (startle: eye closure then widening, lip stretch 20)",
       [("startled", 0.8), ("jumped", 0.7), ("jolted", 0.8), ("jump scare", 0.9), 
        ("flinching", 0.7), ("flinch", 0.7)]),
    _p("grimace", "action", {"AU4": 0.45, "AU6": 0.3, "AU7": 0.45, "AU10": 0.3, "AU20": 0.55, "AU25": 0.35},
       -0.55, 0.6, "grimace: 20 with 4+7 and an upper-lip raise (FACS manual)",
       [("grimace", 0.7), ("grimacing", 0.7), ("yikes", 0.65), ("eek", 0.65), ("clenched teeth", 0.65),
        ("baring teeth", 0.75), ("bared teeth", 0.75)]),
    _p("annoyed", "nuanced", {"AU4": 0.45, "AU7": 0.35, "AU23": 0.3, "AU14": 0.1}, -0.45, 0.5,
       "rationale: annoyance is a low-intensity anger (4+7+23, EMFACS anger at A-B)",
       [("annoyed", 0.7), ("annoyance", 0.7), ("annoying", 0.65), ("irritated", 0.7), ("irritation", 0.7),
        ("irked", 0.65), ("peeved", 0.65), ("vexed", 0.65), ("miffed", 0.6), ("bugged", 0.55),
        ("displeased", 0.6), ("grouchy", 0.6), ("irritable", 0.6)]),
    _p("apologetic", "nuanced", {"AU1": 0.4, "AU4": 0.2, "AU12": 0.25, "AU24": 0.25}, -0.1, 0.35,
       "rationale: an apology softens the face: raised inner brows (1) with a small, pressed smile (12+24)",
       [("apologetic", 0.7), ("apologizing", 0.7), ("apologising", 0.7), ("sheepish", 0.6),
        ("pardon me", 0.5), ("my bad", 0.55), ("excuse me", 0.45)]),
    _p("suspicious", "nuanced", {"AU4": 0.35, "AU7": 0.5, "AU23": 0.2, "AU14R": 0.1}, -0.35, 0.45,
       "rationale: suspicion narrows the eyes (7, the 'squint' of scrutiny) under a lowered brow (4)",
       [("suspicious", 0.7), ("suspicion", 0.7), ("narrowing eyes", 0.6),
        ("squinting", 0.55), ("squint", 0.55), ("shifty", 0.55), ("guarded", 0.5), ("cagey", 0.5),
        ("paranoid", 0.7), ("watchful", 0.45)]),
    _p("in a hurry", "nuanced", {"AU4": 0.2, "AU24": 0.2, "AU5": 0.15}, -0.1, 0.7,
       "rationale: rushed, slightly tense face with pressed lips; low confidence mapping",
       [("in a hurry", 0.6), ("rushed", 0.6), ("hurried", 0.6)]),

    # --- facial actions named directly ----------------------------------------------------
    _p("smile", "action", {"AU6": 0.4, "AU12": 0.75}, 0.6, 0.45,
       "smile: 12, with 6 when felt (Ekman, Davidson & Friesen 1990)",
       [("smile", 0.65), ("smiling", 0.65), ("grin", 0.8), ("grinning", 0.8), ("beam", 0.9),
        ("smiley", 0.65), ("toothy grin", 0.9), ("ear to ear", 1.0), ("ear-to-ear", 1.0),
        ("big smile", 0.9), ("broad smile", 0.9)], genuine_smile=True),
    _p("frown", "action", {"AU4": 0.6, "AU15": 0.3, "AU17": 0.2}, -0.45, 0.4,
       "frown: 4 (brow lowerer), with 15 when the mouth turns down",
       [("frown", 0.65), ("frowning", 0.65), ("furrowed brow", 0.6), ("furrowed brows", 0.6),
        ("furrowing", 0.6), ("knitted brows", 0.6), ("knit brows", 0.6), ("brow furrowed", 0.6),
        ("brows furrowed", 0.6), ("brows knitted", 0.6), ("scrunched brow", 0.6), ("glower", 0.75),
        ("glowering", 0.75), ("sullen", 0.5), ("moody", 0.45), ("sulk", 0.5), ("pursed lips", 0.5)]),
    _p("raised eyebrows", "action", {"AU1": 0.6, "AU2": 0.6}, 0.05, 0.5, "1+2: both brows raised (FACS manual)",
       [("raised eyebrows", 0.65), ("raises eyebrows", 0.65), ("raise eyebrows", 0.65),
        ("raising eyebrows", 0.65), ("eyebrows raised", 0.65), ("eyebrows up", 0.6), ("raised brows", 0.6),
        ("brows raised", 0.6), ("arched eyebrows", 0.55), ("eyebrows shot up", 0.9)]),
    _p("wide eyes", "action", {"AU5": 0.7, "AU1": 0.2, "AU2": 0.2}, 0.0, 0.7, "5: upper lid raiser (FACS manual)",
       [("wide eyes", 0.7), ("wide-eyed", 0.7), ("eyes wide", 0.7), ("eyes widen", 0.7), ("widened eyes", 0.7),
        ("eyes widening", 0.7), ("staring", 0.5), ("stare", 0.5), ("bulging eyes", 0.9)]),
    _p("jaw drop", "action", {"AU25": 0.6, "AU26": 0.7}, 0.0, 0.7, "25+26: lips part, jaw drops (FACS manual)",
       [("jaw drop", 0.8), ("jaw dropped", 0.8), ("jaw drops", 0.8), ("dropped jaw", 0.8), ("mouth open", 0.6),
        ("open mouth", 0.6), ("open-mouthed", 0.7), ("gaping", 0.75), ("gasp", 0.7), ("gasping", 0.7),
        ("gasps", 0.7)]),
    _p("lip bite", "action", {"AU24": 0.3, "AU17": 0.2, "AU12": 0.1}, -0.1, 0.5,
       "lip bite (AU32 in FACS, not a channel here): drawn as lip press 24 with a chin raise 17",
       [("biting lip", 0.6), ("bites lip", 0.6), ("bit lip", 0.6), ("bite lip", 0.6), ("lip bite", 0.6),
        ("chewing lip", 0.6), ("pressed lips", 0.6), ("lips pressed", 0.6), ("tight-lipped", 0.6),
        ("tight lipped", 0.6), ("thin-lipped", 0.55), ("pursing lips", 0.55)]),
    _p("pucker", "action", {"AU18": 0.7, "AU22": 0.2}, 0.2, 0.4, "18: lip pucker (FACS manual)",
       [("pucker", 0.7), ("puckered", 0.7), ("kiss", 0.7), ("kissy", 0.7), ("blowing a kiss", 0.8),
        ("whistling", 0.6), ("duck face", 0.7), ("pouty lips", 0.6)]),
    _p("lip curl", "action", {"AU9": 0.4, "AU10": 0.6, "AU14R": 0.3}, -0.6, 0.55,
       "sneer: upper-lip raise 10 with nose wrinkle 9, often one-sided",
       [("curled lip", 0.65), ("lip curled", 0.65), ("curling lip", 0.65), ("wrinkled nose", 0.6),
        ("nose wrinkled", 0.6), ("scrunched nose", 0.6), ("nose scrunched", 0.6), ("turned up nose", 0.55)]),
    _p("squinting eyes", "action", {"AU6": 0.3, "AU7": 0.6}, -0.05, 0.45, "7: lid tightener (FACS manual)",
       [("squinting eyes", 0.6), ("squinted", 0.6), ("narrowed eyes", 0.6), ("eyes narrowed", 0.6)]),
    _p("closed eyes", "action", {"AU45": 0.9}, 0.0, 0.1, "43/45: eyes closed (FACS manual)",
       [("closed eyes", 0.9), ("eyes closed", 0.9), ("eyes shut", 0.9), ("shut eyes", 0.9),
        ("eyes shut tight", 1.0), ("heavy eyelids", 0.6), ("drooping eyelids", 0.6)]),
)

PROTOTYPES: Mapping[str, Prototype] = MappingProxyType({p.name: p for p in _PROTOTYPES})
"""Prototype name -> Prototype."""

MEAD_EMOTIONS: Mapping[str, str] = MappingProxyType({
    "angry": "angry", "disgusted": "disgusted", "contempt": "contempt", "fear": "fear",
    "happy": "happy", "sad": "sad", "surprised": "surprised", "neutral": "neutral",
})
"""The eight MEAD dataset emotion labels and the prototype each maps to."""


def prototype(name: str) -> Prototype:
    """The prototype called ``name``."""
    try:
        return PROTOTYPES[name]
    except KeyError:
        raise KeyError(f"unknown emotion prototype {name!r}") from None


def families() -> dict[str, list[str]]:
    """Prototype names grouped by family."""
    out: dict[str, list[str]] = {}
    for p in _PROTOTYPES:
        out.setdefault(p.family, []).append(p.name)
    return out
