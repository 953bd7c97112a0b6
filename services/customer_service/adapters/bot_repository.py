"""Bot conversations: turns in order and the one hand-off packet, stored beside their ticket."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.customer_service.adapters.tables import bot_handoffs, bot_turns, tickets
from services.customer_service.domain.bot import HandOffReason, LiveContext, Turn
from services.customer_service.domain.knowledge_base import ContextKind, ContextState


class BotRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add_turn(self, ticket_code: str, turn: Turn) -> None:
        self.connection.execute(
            bot_turns.insert().values(
                ticket_code=ticket_code,
                sequence=turn.sequence,
                asked_at=turn.asked_at,
                question=turn.question,
                language=turn.language,
                intent=turn.intent,
                confidence=turn.confidence,
                answer=turn.answer,
                context=json.dumps(turn.context.as_json() if turn.context else {}, ensure_ascii=False),
                handed_off=turn.handed_off,
            )
        )

    def turns(self, ticket_code: str) -> list[Turn]:
        rows = self.connection.execute(
            sa.select(bot_turns).where(bot_turns.c.ticket_code == ticket_code).order_by(bot_turns.c.sequence)
        )
        return [
            Turn(
                r.sequence,
                r.asked_at,
                r.question,
                r.language,
                r.intent,
                r.confidence,
                r.answer,
                _context(json.loads(r.context)),
                r.handed_off,
            )
            for r in rows
        ]

    def record_hand_off(self, ticket_code: str, at: datetime, reason: HandOffReason, packet: str) -> None:
        self.connection.execute(
            bot_handoffs.insert().values(ticket_code=ticket_code, handed_off_at=at, reason=reason.value, packet=packet)
        )
        self.connection.execute(tickets.update().where(tickets.c.code == ticket_code).values(handed_off_at=at))

    def packet(self, ticket_code: str) -> str | None:
        row = self.connection.execute(
            sa.select(bot_handoffs.c.packet).where(bot_handoffs.c.ticket_code == ticket_code)
        ).first()
        return None if row is None else row.packet


def _context(found: dict[str, str]) -> LiveContext | None:
    if not found:
        return None
    updated = found.get("updated_at")
    return LiveContext(
        ContextKind(found["kind"]),
        found["code"],
        ContextState(found["state"]),
        found.get("status", ""),
        found.get("detail", ""),
        datetime.fromisoformat(updated) if updated else None,
    )
