"""The customer-service bot's intent matching: accuracy on the labelled question set's tuning and held-out
halves (benchmarks/data/bot_questions.yaml, zh-CN and en), and latency per question, against a peer
measured in the same run.

- bot: scikit-learn TF-IDF over character 2-4-grams, nearest example (adapters/intent_matcher.py), with
  the configured hand-off threshold (chosen on the tuning half only).
- peer: rapidfuzz WRatio against every example, nearest example, a fuzzy-string baseline; its threshold
  is chosen on the tuning half the same way (best accuracy over 0..1 in steps of 0.025).

Latency is per question, in process (language detection + ranking), after a warm-up. It reports; it never
fails on a timing.

    .venv/bin/python -m benchmarks.bench_bot [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rapidfuzz import fuzz, process

from benchmarks import bot_set
from services.customer_service.adapters import knowledge_base_file
from services.customer_service.adapters.intent_matcher import TfidfIntentMatcher, normalise
from services.customer_service.domain.bot import Match, detect_language
from services.customer_service.domain.knowledge_base import KnowledgeBase
from services.customer_service.settings import CustomerServiceSettings

DATA = Path(__file__).resolve().parent.parent / "data"


class FuzzyPeer:
    """Nearest example by rapidfuzz WRatio (0..100 scaled to 0..1)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._examples = [
            (normalise(text), intent.id)
            for intent in kb.intents
            for texts in intent.examples.values()
            for text in texts
        ]
        self._choices = [text for text, _ in self._examples]

    def rank(self, question: str) -> list[Match]:
        best: dict[str, float] = {}
        for _, score, index in process.extract(normalise(question), self._choices, scorer=fuzz.WRatio, limit=None):
            intent = self._examples[index][1]
            best[intent] = max(best.get(intent, 0.0), score / 100)
        return [Match(i, s) for i, s in sorted(best.items(), key=lambda item: -item[1])]


def tuned_threshold(questions: Sequence[bot_set.Question], rank: Callable[[str], Sequence[Match]]) -> float:
    rankings = [(q, rank(q.text)) for q in questions]
    candidates = [i / 40 for i in range(41)]
    return max(candidates, key=lambda t: (sum(bot_set.correct(q, r, t) for q, r in rankings), -abs(t - 0.5)))


def latencies(
    questions: Sequence[bot_set.Question], rank: Callable[[str], Sequence[Match]], repeat: int
) -> list[float]:
    for q in questions[:10]:
        rank(q.text)
    found = []
    for _ in range(repeat):
        for q in questions:
            start = time.perf_counter()
            detect_language(q.text, ("zh-CN", "en"))
            rank(q.text)
            found.append((time.perf_counter() - start) * 1000)
    return found


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-p * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    kb = knowledge_base_file.load(DATA)
    questions = bot_set.load()
    tune = [q for q in questions if q.half == "tune"]
    held = [q for q in questions if q.half == "held_out"]
    bot = TfidfIntentMatcher(kb)
    peer = FuzzyPeer(kb)
    matchers = {
        "bot (TF-IDF char 2-4)": (bot.rank, CustomerServiceSettings().bot_confidence_threshold),
        "peer (rapidfuzz WRatio)": (peer.rank, tuned_threshold(tune, peer.rank)),
    }
    print(f"{len(kb.intents)} intents, {len(tune)} tuning and {len(held)} held-out questions (zh-CN and en)")
    columns: tuple[tuple[str, int], ...] = (
        ("threshold", 9),
        ("tune", 6),
        ("held-out", 9),
        ("held zh", 8),
        ("held en", 8),
    )
    columns += (("p50 ms", 7), ("p99 ms", 7))
    print(f"{'matcher':26} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for name, (rank, threshold) in matchers.items():
        by_lang = {
            lang: bot_set.accuracy([q for q in held if q.language == lang], rank, threshold) for lang in ("zh-CN", "en")
        }
        times = latencies(questions, rank, args.repeat)
        print(
            f"{name:26} {threshold:9.3f} {bot_set.accuracy(tune, rank, threshold):6.1%} "
            f"{bot_set.accuracy(held, rank, threshold):9.1%} {by_lang['zh-CN']:8.1%} {by_lang['en']:8.1%} "
            f"{statistics.median(times):7.3f} {percentile(times, 99):7.3f}"
        )


if __name__ == "__main__":
    main()
