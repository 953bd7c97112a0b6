"""Decisions on holds, on the unit of work's connection: added and read, never changed or removed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.identity.adapters.tables import hold_decisions
from services.identity.domain.holds import Decision, Entity, HoldDecision
from services.identity.domain.merchants import MerchantStatus


class HoldDecisionRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, decided: HoldDecision) -> None:
        self.connection.execute(
            hold_decisions.insert().values(
                entity=decided.entity.value,
                code=decided.code,
                decision=decided.decision.value,
                previous_status=decided.previous_status.value,
                status=decided.status.value,
                reason=decided.reason,
                decided_by=decided.decided_by,
                decided_at=decided.decided_at,
            )
        )

    def of(self, entity: Entity, code: str) -> list[HoldDecision]:
        """The entity's decisions, oldest first."""
        t = hold_decisions
        rows = self.connection.execute(
            sa.select(t).where(t.c.entity == entity.value, t.c.code == code).order_by(t.c.id)
        )
        return [
            HoldDecision(
                Entity(row.entity),
                row.code,
                Decision(row.decision),
                MerchantStatus(row.previous_status),
                MerchantStatus(row.status),
                row.reason,
                row.decided_by,
                row.decided_at,
            )
            for row in rows
        ]
