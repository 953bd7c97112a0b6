"""Stored screenings: the answer as first given (serialised proto), the party, and the entries hit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.screening_tables import screenings
from services.compliance.domain.matching import Query
from services.compliance.domain.sanctions import Identifier, PartyType
from services.compliance.domain.screening import Decision, Screening


@dataclass(frozen=True)
class StoredScreening:
    code: str
    merchant_code: str
    decision: Decision
    query: Query
    hit_entries: tuple[str, ...]  # "list_name:entry_id"
    response: bytes


def query_to_json(query: Query) -> dict[str, Any]:
    return {
        "name": query.name,
        "party_type": query.party_type.value,
        "country": query.country,
        "date_of_birth": query.date_of_birth,
        "identifiers": [[i.type, i.value] for i in query.identifiers],
    }


def query_from_json(data: dict[str, Any]) -> Query:
    return Query(
        data["name"],
        PartyType(data["party_type"]),
        data["country"],
        data["date_of_birth"],
        tuple(Identifier(t, v) for t, v in data["identifiers"]),
    )


class ScreeningRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, screening: Screening, query: Query, response: bytes) -> None:
        self.connection.execute(
            screenings.insert().values(
                code=screening.code,
                merchant_code=screening.merchant_code,
                request_id=screening.request_id,
                decision=screening.decision.value,
                screened_at=screening.screened_at,
                party=query_to_json(query),
                hit_entries=[f"{h.entry.list_name}:{h.entry.entry_id}" for h in screening.hits],
                response=response,
            )
        )

    @staticmethod
    def _to_stored(row: sa.Row) -> StoredScreening:
        return StoredScreening(
            row.code,
            row.merchant_code,
            Decision(row.decision),
            query_from_json(row.party),
            tuple(row.hit_entries),
            bytes(row.response),
        )

    def get(self, code: str) -> StoredScreening | None:
        row = self.connection.execute(sa.select(screenings).where(screenings.c.code == code)).first()
        return self._to_stored(row) if row else None

    def for_merchant(self, merchant_code: str, offset: int, limit: int) -> list[StoredScreening]:
        t = screenings
        rows = self.connection.execute(
            sa.select(t)
            .where(t.c.merchant_code == merchant_code)
            .order_by(t.c.screened_at.desc(), t.c.code.desc())
            .offset(offset)
            .limit(limit)
        )
        return [self._to_stored(row) for row in rows]

    def all_parties(self) -> list[StoredScreening]:
        rows = self.connection.execute(sa.select(screenings).order_by(screenings.c.code))
        return [self._to_stored(row) for row in rows]

    def update_decision(self, code: str, decision: Decision, hit_entries: list[str]) -> None:
        """The decision and hits of a re-screening (the stored response stays the answer first given), so
        the next list change compares against what the lists said last, not at the first screening."""
        self.connection.execute(
            screenings.update()
            .where(screenings.c.code == code)
            .values(decision=decision.value, hit_entries=hit_entries)
        )
