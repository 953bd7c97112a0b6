"""AskBot and GetBotConversation: the CustomerService servicer's bot methods and their proto mapping."""

from __future__ import annotations

import json
from collections.abc import Callable

import grpc
from xborder.customer_service.v1 import customer_service_pb2 as pb

from services.customer_service.domain.bot import HandOffReason, LiveContext, Turn
from services.customer_service.domain.knowledge_base import ContextState
from services.customer_service.service_layer import bot as handlers
from services.customer_service.service_layer.tickets import TicketView, UowFactory
from services.shared import request_fields
from services.shared.errors import Violations
from services.shared.idempotency import Request, fingerprint

QUESTION_MAX = 2000

_STATES = {
    ContextState.LIVE: pb.BOT_CONTEXT_STATE_LIVE,
    ContextState.UNKNOWN: pb.BOT_CONTEXT_STATE_UNKNOWN,
    ContextState.UNAVAILABLE: pb.BOT_CONTEXT_STATE_UNAVAILABLE,
}
_REASONS = {
    HandOffReason.ASKED.value: pb.BOT_HAND_OFF_REASON_ASKED,
    HandOffReason.LOW_CONFIDENCE.value: pb.BOT_HAND_OFF_REASON_LOW_CONFIDENCE,
}


def context_to_proto(context: LiveContext) -> pb.BotContext:
    return pb.BotContext(
        kind=context.kind.value,
        code=context.code,
        state=_STATES.get(context.state, pb.BOT_CONTEXT_STATE_UNSPECIFIED),
        status=context.status,
        detail=context.detail,
    )


def turn_to_proto(turn: Turn) -> pb.BotTurn:
    message = pb.BotTurn(
        sequence=turn.sequence,
        question=turn.question,
        language=turn.language,
        intent=turn.intent,
        confidence=round(turn.confidence, 4),
        answer=turn.answer,
        handed_off=turn.handed_off,
    )
    message.asked_at.FromDatetime(turn.asked_at)
    if turn.context is not None:
        message.context.CopyFrom(context_to_proto(turn.context))
    return message


def conversation_to_proto(conversation: handlers.Conversation, kb_version: str) -> pb.BotConversation:
    ticket = conversation.ticket
    message = pb.BotConversation(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        active=conversation.active,
        turns=[turn_to_proto(t) for t in conversation.turns],
        hand_off_packet_json=conversation.packet or "",
        knowledge_base_version=kb_version,
    )
    if ticket.handed_off_at is not None:
        message.handed_off_at.FromDatetime(ticket.handed_off_at)
    if conversation.packet:
        message.hand_off_reason = _REASONS[json.loads(conversation.packet)["reason"]]
    return message


class BotMethods:
    """Mixed into CustomerServicer; `bot` is None when the service runs without one (AskBot is then
    refused as UNIMPLEMENTED)."""

    uow_factory: UowFactory
    book: handlers.SlaBook
    bot: handlers.Bot | None
    ticket_to_proto: Callable[[TicketView], pb.Ticket]

    def AskBot(self, request: pb.AskBotRequest, context: grpc.ServicerContext) -> pb.AskBotResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        question = request.question.strip()
        if not question or len(question) > QUESTION_MAX:
            violations.add("question", f"must be 1..{QUESTION_MAX} characters")
        bot = self.bot
        if bot is not None and request.language and request.language not in bot.kb.languages:
            violations.add("language", f"must be one of {', '.join(bot.kb.languages)} or empty")
        violations.raise_if_any()
        if bot is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "the bot is not configured")
        assert bot is not None
        command = handlers.Ask(
            Request(f"customer_service.ask_bot:{code}", request.request_id, fingerprint(request)),
            code,
            question,
            request.language,
        )
        to_ticket = type(self).ticket_to_proto

        def render(turn: Turn, conversation: handlers.Conversation, view: TicketView) -> pb.AskBotResponse:
            return pb.AskBotResponse(
                turn=turn_to_proto(turn),
                conversation=conversation_to_proto(conversation, bot.kb.version),
                ticket=to_ticket(view),
            )

        return handlers.ask(self.uow_factory, self.book, bot, command, pb.AskBotResponse, render)

    def GetBotConversation(
        self, request: pb.GetBotConversationRequest, context: grpc.ServicerContext
    ) -> pb.GetBotConversationResponse:
        violations = Violations()
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        violations.raise_if_any()
        found = handlers.conversation(self.uow_factory, code)
        version = self.bot.kb.version if self.bot is not None else ""
        return pb.GetBotConversationResponse(conversation=conversation_to_proto(found, version))
