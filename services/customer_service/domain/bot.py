"""The bot: which language a question is in, which intent it asks, whether the bot is sure enough to
answer, the answer with live context, and the hand-off packet a human starts from.

Matching itself is a library behind `IntentMatcher` (adapters/intent_matcher.py); this module decides
what to do with its ranking.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from services.customer_service.domain.knowledge_base import ContextKind, ContextState, Intent, KnowledgeBase
from services.customer_service.domain.tickets import Link

PACKET_LAYOUT = "xborder.bot.handoff/1"


def detect_language(text: str, languages: Sequence[str]) -> str:
    """zh-CN when at least a fifth of the letters are Han ideographs, else en (when both are supported).

    The knowledge base speaks zh-CN and en, whose scripts do not overlap, so the script decides; a
    statistical detector would add a model to misjudge two-word questions ("转人工", "refund?").
    Mixed questions ("我的 parcel 到哪了") count as Chinese: the Han part carries the meaning.
    """
    letters = [c for c in text if c.isalpha()]
    han = sum(1 for c in letters if unicodedata.name(c, "").startswith("CJK UNIFIED IDEOGRAPH"))
    chinese = bool(letters) and han * 5 >= len(letters)
    if chinese and "zh-CN" in languages:
        return "zh-CN"
    if not chinese and "en" in languages:
        return "en"
    return languages[0]


@dataclass(frozen=True)
class Match:
    intent_id: str
    confidence: float  # 0..1: similarity of the question to the intent's closest example


class IntentMatcher(Protocol):
    def rank(self, question: str) -> list[Match]:
        """Every intent, most likely first."""
        ...


class HandOffReason(Enum):
    ASKED = "ASKED"  # the customer asked for a human
    LOW_CONFIDENCE = "LOW_CONFIDENCE"  # the bot was not sure enough what was asked


@dataclass(frozen=True)
class LiveContext:
    """What the owning service said about a linked code."""

    kind: ContextKind
    code: str
    state: ContextState
    status: str = ""  # the service's status key (IN_TRANSIT, SETTLED, ...)
    detail: str = ""  # sub-status, location or amounts, as the service words them
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, str]:
        found = {"kind": self.kind.value, "code": self.code, "state": self.state.value, "status": self.status}
        if self.detail:
            found["detail"] = self.detail
        if self.updated_at is not None:
            found["updated_at"] = self.updated_at.isoformat()
        return found


@dataclass(frozen=True)
class Decision:
    intent: Intent | None  # None: nothing matched well enough
    confidence: float
    hand_off: HandOffReason | None
    best_guess: str  # the top-ranked intent even when below the threshold (for the agent)


def decide(kb: KnowledgeBase, ranking: Sequence[Match], threshold: float) -> Decision:
    top = ranking[0] if ranking else Match("", 0.0)
    if top.confidence < threshold:
        return Decision(None, top.confidence, HandOffReason.LOW_CONFIDENCE, top.intent_id)
    intent = kb.intent(top.intent_id)
    return Decision(intent, top.confidence, HandOffReason.ASKED if intent.hand_off else None, top.intent_id)


def context_link(intent: Intent, links: Sequence[Link]) -> Link | None:
    """The first linked code of the kind the intent's live context needs."""
    if intent.context is ContextKind.NONE:
        return None
    return next((link for link in links if link.kind.value == intent.context.name), None)


def compose(kb: KnowledgeBase, decision: Decision, language: str, context: LiveContext | None) -> str:
    if decision.intent is None:
        return kb.fallback[language]
    if context is None:
        return decision.intent.answer(language, ContextState.DEFAULT, {})
    vocabulary = "tracking_status" if context.kind is ContextKind.SHIPMENT else "collection_status"
    fields = {
        "code": context.code,
        "status": kb.term(vocabulary, context.status, language),
        "detail": f" ({context.detail})" if context.detail else "",
        "updated": context.updated_at.strftime("%Y-%m-%d %H:%M UTC") if context.updated_at else "-",
    }
    return decision.intent.answer(language, context.state, fields)


@dataclass(frozen=True)
class Turn:
    sequence: int
    asked_at: datetime
    question: str
    language: str
    intent: str
    confidence: float
    answer: str
    context: LiveContext | None = None
    handed_off: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "asked_at": self.asked_at.isoformat(),
            "question": self.question,
            "language": self.language,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "answer": self.answer,
            "context": self.context.as_json() if self.context else {},
        }


@dataclass(frozen=True)
class HandOff:
    at: datetime
    reason: HandOffReason
    intent: str  # the recognised intent, or the best guess below the threshold
    confidence: float
    language: str
    links: tuple[Link, ...]
    summary: str
    transcript: tuple[Turn, ...] = field(default=())
    suggested_type: str = ""  # the ticket type the intent suggests (the knowledge base's ticket_type)

    def packet(self, ticket_code: str) -> str:
        """Canonical JSON: what the agent starts from, stored with the ticket."""
        body = {
            "layout": PACKET_LAYOUT,
            "ticket": ticket_code,
            "handed_off_at": self.at.isoformat(),
            "reason": self.reason.value,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "language": self.language,
            "linked_codes": [{"kind": link.kind.value, "code": link.code} for link in self.links],
            "summary": self.summary,
            "suggested_ticket_type": self.suggested_type,
            "transcript": [turn.as_json() for turn in self.transcript],
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def summarise(reason: HandOffReason, intent: str, confidence: float, transcript: Sequence[Turn]) -> str:
    """One paragraph for the agent, in English (the team's working language); the transcript keeps the
    customer's own words."""
    last = transcript[-1]
    recognised = [t.intent for t in transcript if t.intent]
    why = (
        "the customer asked for a human"
        if reason is HandOffReason.ASKED
        else f"the bot was not sure what was asked (best guess {intent or 'none'}, confidence {confidence:.2f})"
    )
    parts = [
        f"Handed off because {why}.",
        f"{len(transcript)} question(s) in {last.language}; last: {last.question!r}.",
    ]
    if recognised:
        parts.append("Topics: " + ", ".join(dict.fromkeys(recognised)) + ".")
    contexts = [t.context for t in transcript if t.context is not None]
    if contexts:
        c = contexts[-1]
        parts.append(f"Last lookup: {c.kind.value} {c.code} {c.state.value.lower()} {c.status}".rstrip() + ".")
    return " ".join(parts)
