"""The bot's use cases: answer a question on a bot conversation, hand off to a human.

Matching and the live-context lookups run before the transaction (a slow logistics or payments call never
holds a ticket lock); the turn, the hand-off packet, the agent's note and `bot_handed_off` are then written
together, once per request id. A retry gets the first answer, without asking the other services again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from google.protobuf.message import Message as ProtoMessage
from xborder.customer_service.v1 import events_pb2

from services.customer_service.domain import bot as domain
from services.customer_service.domain.bot import HandOff, IntentMatcher, LiveContext, Turn
from services.customer_service.domain.errors import BotInactive
from services.customer_service.domain.knowledge_base import ContextKind, Intent, KnowledgeBase
from services.customer_service.domain.sla import SlaBook
from services.customer_service.domain.tickets import FINAL, AuthorKind, Message, Ticket, Visibility
from services.customer_service.service_layer.tickets import TicketView, UowFactory, _once
from services.shared.clock import utcnow
from services.shared.errors import NotFound
from services.shared.idempotency import Request, replayed

M = TypeVar("M", bound=ProtoMessage)


class TrackingLookup(Protocol):
    def tracking(self, shipment_code: str, merchant_code: str) -> LiveContext: ...


class CollectionLookup(Protocol):
    def collection(self, collection_code: str, merchant_code: str) -> LiveContext: ...


@dataclass(frozen=True)
class Bot:
    kb: KnowledgeBase
    matcher: IntentMatcher
    tracking: TrackingLookup
    collections: CollectionLookup
    threshold: float  # below it the bot hands off rather than guess


@dataclass(frozen=True)
class Ask:
    request: Request
    code: str
    question: str
    language: str  # "" : the question's own


@dataclass(frozen=True)
class Conversation:
    ticket: Ticket
    turns: list[Turn]
    packet: str | None

    @property
    def active(self) -> bool:
        return self.ticket.handed_off_at is None and self.ticket.status not in FINAL


def _require_active(ticket: Ticket) -> None:
    if not ticket.is_bot_conversation:
        raise BotInactive(ticket.code, "it was not opened as a bot conversation")
    if ticket.handed_off_at is not None:
        raise BotInactive(ticket.code, "it was handed off to a human")
    ticket.require_changeable()


def _lookup(bot: Bot, ticket: Ticket, decision: domain.Decision) -> LiveContext | None:
    if decision.intent is None or decision.hand_off is not None:
        return None
    link = domain.context_link(decision.intent, ticket.links)
    if link is None:
        return None
    if decision.intent.context is ContextKind.SHIPMENT:
        return bot.tracking.tracking(link.code, ticket.merchant_code)
    return bot.collections.collection(link.code, ticket.merchant_code)


def ask(
    uow_factory: UowFactory,
    book: SlaBook,
    bot: Bot,
    command: Ask,
    response_type: type[M],
    render: Callable[[Turn, Conversation, TicketView], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    earlier = replayed(uow_factory, command.request, response_type)
    if earlier is not None:
        return earlier
    with uow_factory() as uow:
        ticket = uow.tickets.get(command.code, messages=False)
    if ticket is None:
        raise NotFound(f"no ticket {command.code}", field="code")
    _require_active(ticket)
    language = command.language or domain.detect_language(command.question, bot.kb.languages)
    decision = domain.decide(bot.kb, bot.matcher.rank(command.question), bot.threshold)
    context = _lookup(bot, ticket, decision)
    answer = domain.compose(bot.kb, decision, language, context)

    def work(uow) -> M:  # type: ignore[no-untyped-def]  # CustomerServiceUnitOfWork, as _once gives it
        at = now()
        current = uow.tickets.get(command.code, for_update=True)
        if current is None:
            raise NotFound(f"no ticket {command.code}", field="code")
        _require_active(current)
        turns = uow.bot.turns(current.code)
        turn = Turn(
            len(turns) + 1,
            at,
            command.question,
            language,
            decision.intent.id if decision.intent else "",
            decision.confidence,
            answer,
            context,
            decision.hand_off is not None,
        )
        uow.bot.add_turn(current.code, turn)
        turns.append(turn)
        packet = None
        if decision.hand_off is not None:
            packet, current = _hand_off(uow, bot.kb.intents, current, decision, turns, at)
        conversation = Conversation(current, turns, packet)
        return render(turn, conversation, TicketView(current, book.clocks(current, at)))

    return _once(uow_factory, command.request, response_type, work)


def _hand_off(  # type: ignore[no-untyped-def]
    uow, bot_intents: Sequence[Intent], ticket: Ticket, decision: domain.Decision, turns: list[Turn], at: datetime
) -> tuple[str, Ticket]:
    reason = decision.hand_off
    assert reason is not None
    intent = decision.intent.id if decision.intent else decision.best_guess
    summary = domain.summarise(reason, intent, decision.confidence, turns)
    suggested = next((i.ticket_type for i in bot_intents if i.id == intent), "")
    hand_off = HandOff(
        at, reason, intent, decision.confidence, turns[-1].language, ticket.links, summary, tuple(turns), suggested
    )
    packet = hand_off.packet(ticket.code)
    uow.bot.record_hand_off(ticket.code, at, reason, packet)
    # The agent sees why the conversation is theirs without opening the packet.
    sequence = max((m.sequence for m in ticket.messages), default=0) + 1
    note = Message(sequence, AuthorKind.SYSTEM, "bot", Visibility.INTERNAL, summary, at)
    uow.tickets.add_message(ticket.code, note)
    event = events_pb2.BotHandedOff(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        reason=reason.value,
        intent=intent,
        confidence=decision.confidence,
        language=hand_off.language,
    )
    event.occurred_at.FromDatetime(at)
    uow.emit(event)
    return packet, replace(ticket, handed_off_at=at, messages=(*ticket.messages, note))


def conversation(uow_factory: UowFactory, code: str) -> Conversation:
    with uow_factory() as uow:
        ticket = uow.tickets.get(code, messages=False)
        if ticket is None or not ticket.is_bot_conversation:
            raise NotFound(f"no bot conversation on ticket {code}", field="code")
        return Conversation(ticket, uow.bot.turns(code), uow.bot.packet(code))
