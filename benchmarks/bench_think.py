"""Latency of tbd.think (rules backend) per phrase, with and without the sentence encoder.

    python benchmarks/bench_think.py [--repeats 5]

Rows: "lexical" (rules, listed words only: the baseline) and "rules + MiniLM (warm)" (unlisted
phrases are embedded with all-MiniLM-L6-v2; the encoder and its phrase bank are loaded by an
untimed warm-up first). Each phrase is planned ``--repeats`` times; the table shows the median
over phrases of each phrase's median, for all phrases and for the phrases that actually
consulted the encoder, and the ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

PHRASES = [
    "nervous but hopeful", "a polite smile that slowly turns into disbelief", "calm at first, then furious",
    "hiding his anger behind a smile", "not happy at all", "slightly annoyed", "trying not to laugh",
    "a smug smirk", "bittersweet", "happy, then sad, then suddenly terrified", "grinning from ear to ear",
    "on top of the world", "with a heavy heart", "shaking like a leaf", "a bundle of nerves",
    "hot under the collar", "in seventh heaven", "down in the mouth", "completely gutted about losing",
    "she couldn't hide her excitement", "a forced smile that fades", "embarrassed and a little proud",
    "skeptical, with one eyebrow raised", "exhausted after a long day", "pleasantly surprised",
    "quietly furious, lips pressed together", "her heart sank when she read the letter",
    "tickled pink by the compliment", "worried sick about the results", "mildly amused, then bored",
]


def _median_ms(fn, text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _consulted_encoder(plan) -> bool:
    """The phrase had words outside the lexicon, so the encoder embedded them (matched or not)."""
    return "by meaning" in " ".join(plan.steps) or any("no emotion recognised" in w for w in plan.warnings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from tbd.emotion import think
    from tbd.text_encoder import minilm_available

    lexical = {t: _median_ms(lambda s: think(s, backend="lexical"), t, args.repeats) for t in PHRASES}
    rows = [("lexical (baseline)", lexical, PHRASES)]
    load_s = None
    if minilm_available():
        from tbd.emotion.semantic import default_matcher

        t0 = time.perf_counter()
        default_matcher().match(["warm up"])  # loads torch, MiniLM and the phrase bank
        load_s = time.perf_counter() - t0
        encoder_used = [t for t in PHRASES if _consulted_encoder(think(t, backend="rules"))]
        warm = {t: _median_ms(lambda s: think(s, backend="rules"), t, args.repeats) for t in PHRASES}
        rows.append(("rules + MiniLM (warm)", warm, encoder_used))
    base_all = statistics.median(lexical.values())

    print(f"tbd.think latency per phrase ({len(PHRASES)} phrases, median of {args.repeats} runs each)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    if load_s is not None:
        print(f"encoder cold start (torch + MiniLM + phrase bank, untimed in the rows): {load_s:.2f} s")
    print()
    print(f"{'backend':<24} {'median ms (all)':>16} {'ratio':>7} {'median ms (encoder used)':>25} {'n':>4}")
    for name, times, used in rows:
        med_all = statistics.median(times.values())
        med_used = statistics.median(times[t] for t in used) if used else float("nan")
        print(f"{name:<24} {med_all:>16.2f} {med_all / base_all:>7.2f} {med_used:>25.2f} {len(used):>4}")
    if not minilm_available():
        print("(MiniLM not installed: only the lexical row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
