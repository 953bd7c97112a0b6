"""The bot's domain and matcher: language by script, the knowledge base's checks, answers with context,
the hand-off packet, SLA clocks that start at the hand-off, and accuracy on the held-out questions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import bot_set
from services.customer_service.adapters import knowledge_base_file
from services.customer_service.adapters.intent_matcher import TfidfIntentMatcher
from services.customer_service.bootstrap import sla_book
from services.customer_service.domain import bot
from services.customer_service.domain.bot import HandOff, HandOffReason, LiveContext, Match, Turn
from services.customer_service.domain.knowledge_base import ContextKind, ContextState, KnowledgeBase
from services.customer_service.domain.sla import SlaBook
from services.customer_service.domain.tickets import (
    BOT_SOURCE,
    Link,
    LinkKind,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
)
from services.customer_service.settings import CustomerServiceSettings
from services.shared.errors import ConfigurationError

DATA = Path(__file__).resolve().parents[2] / "data"
HELD_OUT_FLOOR = 0.70
"""Held-out accuracy measured when the threshold was fixed: 75.9% (44/58, docs/benchmarks.md). The floor
leaves room for a few questions to flip when examples are added, not for the bot to get much worse."""


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return knowledge_base_file.load(DATA)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> TfidfIntentMatcher:
    return TfidfIntentMatcher(kb)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我的包裹到哪了", "zh-CN"),
        ("where is my parcel", "en"),
        ("我的 parcel 到哪了", "zh-CN"),
        ("\uff32\uff25\uff26\uff35\uff2e\uff24?", "en"),  # full-width REFUND
        ("", "en"),
    ],
)
def test_the_language_is_the_script(text: str, language: str) -> None:
    assert bot.detect_language(text, ("zh-CN", "en")) == language


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_every_text_gets_a_supported_language(text: str) -> None:
    assert bot.detect_language(text, ("zh-CN", "en")) in ("zh-CN", "en")


def test_the_knowledge_base_speaks_every_language_for_every_intent(kb: KnowledgeBase) -> None:
    assert kb.languages == ("zh-CN", "en") and len(kb.intents) >= 12
    broken = replace(kb.intents[0], answers={"en": kb.intents[0].answers["en"]})
    with pytest.raises(ConfigurationError, match="no default answer in zh-CN"):
        replace(kb, intents=(broken, *kb.intents[1:]))


@given(st.text(max_size=60))
def test_the_matcher_ranks_every_intent_with_a_confidence_between_0_and_1(text: str) -> None:
    matcher = _MATCHER
    ranking = matcher.rank(text)
    assert len(ranking) == len(_KB.intents)
    assert all(0.0 <= m.confidence <= 1.0 + 1e-9 for m in ranking)
    assert [m.confidence for m in ranking] == sorted((m.confidence for m in ranking), reverse=True)


_KB = knowledge_base_file.load(DATA)
_MATCHER = TfidfIntentMatcher(_KB)


def test_answers_fill_the_live_context_in_the_customer_s_language(kb: KnowledgeBase) -> None:
    decision = bot.decide(kb, [Match("where_is_my_parcel", 0.9)], 0.3)
    at = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
    live = LiveContext(ContextKind.SHIPMENT, "YDX", ContextState.LIVE, "OUT_FOR_DELIVERY", "", at)
    assert bot.compose(kb, decision, "en", live).startswith("Shipment YDX is out for delivery (last update 2026-12-05")
    assert "派送中" in bot.compose(kb, decision, "zh-CN", live)
    unknown = LiveContext(ContextKind.SHIPMENT, "YDX", ContextState.UNKNOWN)
    assert "could not find shipment YDX" in bot.compose(kb, decision, "en", unknown)
    assert bot.decide(kb, [Match("talk_to_human", 0.8)], 0.3).hand_off is HandOffReason.ASKED
    low = bot.decide(kb, [Match("refund_status", 0.1)], 0.3)
    assert (low.intent, low.hand_off, low.best_guess) == (None, HandOffReason.LOW_CONFIDENCE, "refund_status")
    assert bot.compose(kb, low, "en", None) == kb.fallback["en"]


def test_the_hand_off_packet_carries_intent_confidence_links_summary_and_transcript() -> None:
    at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    turns = (
        Turn(
            1,
            at,
            "where is my parcel",
            "en",
            "where_is_my_parcel",
            0.91,
            "...",
            LiveContext(ContextKind.SHIPMENT, "YDX", ContextState.UNAVAILABLE),
        ),
        Turn(2, at, "human please", "en", "talk_to_human", 0.8, "...", None, True),
    )
    summary = bot.summarise(HandOffReason.ASKED, "talk_to_human", 0.8, turns)
    assert "asked for a human" in summary and "shipment YDX unavailable" in summary
    links = (Link(LinkKind.SHIPMENT, "YDX"),)
    packet = json.loads(
        HandOff(at, HandOffReason.ASKED, "talk_to_human", 0.8, "en", links, summary, turns).packet("TK1")
    )
    assert packet["layout"] == bot.PACKET_LAYOUT and packet["ticket"] == "TK1"
    assert packet["linked_codes"] == [{"kind": "SHIPMENT", "code": "YDX"}]
    assert [t["sequence"] for t in packet["transcript"]] == [1, 2] and packet["confidence"] == 0.8


def _book() -> SlaBook:
    return sla_book(SimpleNamespace(settings=SimpleNamespace(data_dir=DATA)))  # type: ignore[arg-type]


def test_a_bot_conversation_s_clocks_start_at_the_hand_off() -> None:
    book = _book()
    opened = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    ticket = Ticket(
        "TK1",
        "MC1",
        TicketType.CONSULTATION,
        "chat",
        Priority.NORMAL,
        opened,
        (StatusChange(Status.NEW, opened, opened, 1),),
        source=BOT_SOURCE,
    )
    assert book.clocks(ticket, opened + timedelta(days=3)) == []
    handed = replace(ticket, handed_off_at=opened + timedelta(hours=1))  # 11:00; 12:00-13:00 is lunch
    first = book.clocks(handed, opened + timedelta(hours=3))[0]
    assert first.started_at == handed.handed_off_at and first.elapsed_minutes == 60
    plain = replace(ticket, source="api")
    assert book.clocks(plain, opened + timedelta(hours=3))[0].elapsed_minutes == 120


def test_held_out_accuracy_stays_above_the_floor(matcher: TfidfIntentMatcher) -> None:
    held = [q for q in bot_set.load() if q.half == "held_out"]
    threshold = CustomerServiceSettings().bot_confidence_threshold
    assert len(held) >= 50 and {q.language for q in held} == {"zh-CN", "en"}
    assert bot_set.accuracy(held, matcher.rank, threshold) >= HELD_OUT_FLOOR
