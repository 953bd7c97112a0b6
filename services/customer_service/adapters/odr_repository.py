"""ODR storage: a case with its status history and outcome, its versioned case files and their deliveries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.customer_service.adapters.tables import (
    odr_case_files,
    odr_cases,
    odr_deliveries,
    odr_status_history,
    tickets,
)
from services.customer_service.domain.odr import OdrCase, OdrStatus, OdrStatusChange, Outcome


def canonical(body: dict[str, Any]) -> str:
    """Sorted keys, no spaces: the same case file is always the same bytes (and SHA-256)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Delivery:
    ticket_code: str
    version: int
    provider: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    provider_reference: str
    last_error: str


class OdrRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._for_update = connection.dialect.name == "postgresql"

    # -- writes --

    def add(self, case: OdrCase, body: dict[str, Any], first_attempt_at: datetime) -> None:
        """The case, its first status, case file version `case.version` and that file's pending delivery."""
        self.connection.execute(
            odr_cases.insert().values(
                ticket_code=case.ticket_code,
                merchant_code=case.merchant_code,
                provider=case.provider,
                version=case.version,
                status=case.status.value,
                escalated_at=case.escalated_at,
                reason=case.reason,
                outcome="",
            )
        )
        for change in case.history:
            self.add_status(case.ticket_code, change)
        text = canonical(body)
        self.connection.execute(
            odr_case_files.insert().values(
                ticket_code=case.ticket_code,
                version=case.version,
                body=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                created_at=case.escalated_at,
            )
        )
        self.connection.execute(
            odr_deliveries.insert().values(
                ticket_code=case.ticket_code,
                version=case.version,
                provider=case.provider,
                attempts=0,
                next_attempt_at=first_attempt_at,
                delivered_at=None,
                provider_reference="",
                last_error="",
            )
        )

    def add_status(self, code: str, change: OdrStatusChange) -> None:
        self.connection.execute(
            odr_status_history.insert().values(
                ticket_code=code,
                sequence=change.sequence,
                status=change.status.value,
                recorded_at=change.recorded_at,
                note=change.note,
                provider_reference=change.provider_reference,
            )
        )
        self.connection.execute(
            odr_cases.update().where(odr_cases.c.ticket_code == code).values(status=change.status.value)
        )

    def set_outcome(self, code: str, outcome: Outcome) -> None:
        value = {
            "summary": outcome.summary,
            "refund_amount": None if outcome.refund_amount is None else str(outcome.refund_amount),
            "refund_currency": outcome.refund_currency,
            "refund_collection": outcome.refund_collection,
        }
        self.connection.execute(
            odr_cases.update().where(odr_cases.c.ticket_code == code).values(outcome=json.dumps(value, sort_keys=True))
        )

    def record_attempt(
        self, code: str, version: int, *, at: datetime, next_attempt_at: datetime, reference: str, error: str
    ) -> None:
        """One more attempt: delivered (reference, no error) or failed (error, the next try)."""
        self.connection.execute(
            odr_deliveries.update()
            .where(odr_deliveries.c.ticket_code == code, odr_deliveries.c.version == version)
            .values(
                attempts=odr_deliveries.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                delivered_at=None if error else at,
                provider_reference=reference,
                last_error=error,
            )
        )

    # -- reads --

    def get(self, code: str, *, for_update: bool = False) -> OdrCase | None:
        query = sa.select(odr_cases).where(odr_cases.c.ticket_code == code)
        if for_update and self._for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        history = tuple(
            OdrStatusChange(OdrStatus(h.status), h.recorded_at, h.sequence, h.note, h.provider_reference)
            for h in self.connection.execute(
                sa.select(odr_status_history)
                .where(odr_status_history.c.ticket_code == code)
                .order_by(odr_status_history.c.sequence)
            )
        )
        outcome = None
        if row.outcome:
            data = json.loads(row.outcome)
            amount = data["refund_amount"]
            outcome = Outcome(
                data["summary"],
                None if amount is None else Decimal(amount),
                data["refund_currency"],
                data["refund_collection"],
            )
        return OdrCase(
            row.ticket_code,
            row.merchant_code,
            row.provider,
            row.version,
            row.escalated_at,
            row.reason,
            history,
            outcome,
        )

    def case_file(self, code: str, version: int) -> tuple[dict[str, Any], str] | None:
        """(body, sha256) of one stored version."""
        row = self.connection.execute(
            sa.select(odr_case_files).where(odr_case_files.c.ticket_code == code, odr_case_files.c.version == version)
        ).first()
        return None if row is None else (json.loads(row.body), row.sha256)

    def delivery(self, code: str, version: int, *, for_update: bool = False) -> Delivery | None:
        query = sa.select(odr_deliveries).where(
            odr_deliveries.c.ticket_code == code, odr_deliveries.c.version == version
        )
        if for_update and self._for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else Delivery(**row._mapping)

    def due_deliveries(self, now: datetime) -> list[tuple[str, int]]:
        """Undelivered case files whose next attempt is due, oldest first."""
        query = (
            sa.select(odr_deliveries.c.ticket_code, odr_deliveries.c.version)
            .where(odr_deliveries.c.delivered_at.is_(None), odr_deliveries.c.next_attempt_at <= now)
            .order_by(odr_deliveries.c.next_attempt_at)
        )
        return [(row.ticket_code, row.version) for row in self.connection.execute(query)]

    def page(
        self, status: str | None, merchant_code: str, undelivered_only: bool, offset: int, limit: int
    ) -> list[str]:
        """Ticket codes of cases, newest escalation first (ticket code breaks ties, so pages are stable)."""
        query = sa.select(odr_cases.c.ticket_code)
        if status is not None:
            query = query.where(odr_cases.c.status == status)
        if merchant_code:
            query = query.where(odr_cases.c.merchant_code == merchant_code)
        if undelivered_only:
            query = query.where(
                sa.exists().where(
                    odr_deliveries.c.ticket_code == odr_cases.c.ticket_code,
                    odr_deliveries.c.version == odr_cases.c.version,
                    odr_deliveries.c.delivered_at.is_(None),
                )
            )
        query = query.order_by(odr_cases.c.escalated_at.desc(), odr_cases.c.ticket_code).offset(offset).limit(limit)
        return list(self.connection.execute(query).scalars())

    def escalation_candidates(self, types: list[str], statuses: list[str], opened_by: datetime) -> list[str]:
        """Tickets of `types` in `statuses`, opened at or before `opened_by`, with no ODR case; oldest first."""
        query = (
            sa.select(tickets.c.code)
            .where(
                tickets.c.type.in_(types),
                tickets.c.status.in_(statuses),
                tickets.c.created_at <= opened_by,
                ~sa.exists().where(odr_cases.c.ticket_code == tickets.c.code),
            )
            .order_by(tickets.c.created_at)
        )
        return [row.code for row in self.connection.execute(query)]
