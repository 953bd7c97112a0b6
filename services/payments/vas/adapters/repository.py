"""SQL access for value-added offers (insurance, financing) and the country regions that price them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.vas.adapters.tables import vas_countries, vas_offers
from services.payments.vas.domain import Place


@dataclass(frozen=True)
class OfferRecord:
    code: str
    kind: str
    merchant_code: str
    currency: str
    amount_minor: int
    basis_minor: int
    details: str  # JSON list of [name, value]
    created_at: datetime
    expires_at: datetime
    status: str
    accepted_at: datetime | None = None

    def components(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in json.loads(self.details)]


class OfferRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, record: OfferRecord) -> None:
        self.connection.execute(vas_offers.insert().values(**record.__dict__))

    def get(self, code: str) -> OfferRecord | None:
        row = self.connection.execute(sa.select(vas_offers).where(vas_offers.c.code == code)).first()
        return None if row is None else OfferRecord(**dict(row._mapping))

    def mark_accepted(self, code: str, now: datetime) -> bool:
        result = self.connection.execute(
            vas_offers.update()
            .where(vas_offers.c.code == code, vas_offers.c.status == "OPEN")
            .values(status="ACCEPTED", accepted_at=now)
        )
        return result.rowcount == 1

    def place(self, alpha2: str) -> Place | None:
        row = self.connection.execute(sa.select(vas_countries).where(vas_countries.c.alpha2 == alpha2)).first()
        return None if row is None else Place(row.alpha2, row.region, row.subregion)
