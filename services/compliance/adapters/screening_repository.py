"""Stored screenings: the answer as first given (serialised proto), the party, and the entries hit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.screening_tables import screenings
from services.compliance.domain.matching import Query
from services.compliance.domain.sanctions import Identifier, PartyType
from services.compliance.domain.screening import Decision, Screening
from services.compliance.sensitive_fields import SCREENED_PARTY, SCREENING_ANSWER
from services.shared.crypto.fields import FieldCrypto


@dataclass(frozen=True)
class StoredScreening:
    code: str
    merchant_code: str
    decision: Decision
    query: Query
    hit_entries: tuple[str, ...]  # "list_name:entry_id"
    response: bytes


def query_to_json(query: Query) -> dict[str, Any]:
    """The party's PERSONAL fields, stored as they are (its sensitive ones go to `sensitive_to_json`)."""
    return {"name": query.name, "party_type": query.party_type.value, "country": query.country}


def sensitive_to_json(query: Query) -> dict[str, Any]:
    return {"date_of_birth": query.date_of_birth, "identifiers": [[i.type, i.value] for i in query.identifiers]}


def query_from_json(data: dict[str, Any], sensitive: dict[str, Any]) -> Query:
    return Query(
        data["name"],
        PartyType(data["party_type"]),
        data["country"],
        sensitive["date_of_birth"],
        tuple(Identifier(t, v) for t, v in sensitive["identifiers"]),
    )


class ScreeningRepository:
    """The party's date of birth and identifiers, and the stored answer that echoes them, are sealed per
    row (merchant, screening code, field) with the kernel's FieldCrypto (sensitive_fields.py)."""

    def __init__(self, connection: Connection, crypto: Callable[[], FieldCrypto]) -> None:
        self.connection = connection
        self._crypto = crypto

    def add(self, screening: Screening, query: Query, response: bytes) -> None:
        self.connection.execute(
            screenings.insert().values(
                code=screening.code,
                merchant_code=screening.merchant_code,
                request_id=screening.request_id,
                decision=screening.decision.value,
                screened_at=screening.screened_at,
                party=query_to_json(query),
                party_sensitive_enc=self._crypto().seal_json(
                    sensitive_to_json(query), SCREENED_PARTY.bound(screening.merchant_code, screening.code)
                ),
                hit_entries=[f"{h.entry.list_name}:{h.entry.entry_id}" for h in screening.hits],
                response_enc=self._crypto().seal_bytes(
                    response, SCREENING_ANSWER.bound(screening.merchant_code, screening.code)
                ),
            )
        )

    def _to_stored(self, row: sa.Row) -> StoredScreening:
        crypto = self._crypto()
        return StoredScreening(
            row.code,
            row.merchant_code,
            Decision(row.decision),
            query_from_json(row.party, crypto.open_json(row.party_sensitive_enc, SCREENED_PARTY.binding(row))),
            tuple(row.hit_entries),
            crypto.open_bytes(row.response_enc, SCREENING_ANSWER.binding(row)),
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
