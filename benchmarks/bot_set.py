"""The bot's labelled question set (benchmarks/data/bot_questions.yaml) and how an answer is scored.

A question is answered right when the bot picks its intent with confidence at or above the threshold, or,
for an out-of-scope question (intent "none"), when it hands off for low confidence. A correct intent below
the threshold counts as wrong: the customer got a hand-off, not the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.customer_service.domain.bot import Match

PATH = Path(__file__).parent / "data" / "bot_questions.yaml"
HALVES = ("tune", "held_out")


@dataclass(frozen=True)
class Question:
    half: str
    language: str
    intent: str  # "none": out of scope
    text: str


def load(path: Path = PATH) -> list[Question]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Question(half, q["lang"], q["intent"], q["q"]) for half in HALVES for q in raw[half]]


def correct(question: Question, ranking: Sequence[Match], threshold: float) -> bool:
    top = ranking[0]
    if question.intent == "none":
        return top.confidence < threshold
    return top.intent_id == question.intent and top.confidence >= threshold


def accuracy(questions: Sequence[Question], rank: Callable[[str], Sequence[Match]], threshold: float) -> float:
    return sum(correct(q, rank(q.text), threshold) for q in questions) / len(questions)
