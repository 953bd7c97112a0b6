"""Read access to the payments reference tables."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.reference_data.adapters.tables import currencies, ecb_rates
from services.shared.iso4217 import CurrencyInfo


class CurrencyRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _to_domain(row: sa.Row) -> CurrencyInfo:
        return CurrencyInfo(
            row.code, row.numeric_code, row.name, row.minor_unit, json.loads(row.entities), row.withdrawn
        )

    def list(self, include_withdrawn: bool) -> list[CurrencyInfo]:
        query = sa.select(currencies).order_by(currencies.c.code)
        if not include_withdrawn:
            query = query.where(currencies.c.withdrawn == "")
        return [self._to_domain(row) for row in self.connection.execute(query)]


class ReferenceRateRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def publication_days(self) -> list[date]:
        return list(
            self.connection.execute(
                sa.select(ecb_rates.c.rate_date).distinct().order_by(ecb_rates.c.rate_date)
            ).scalars()
        )

    def rates_on(self, day: date, codes: set[str]) -> dict[str, Decimal]:
        rows = self.connection.execute(
            sa.select(ecb_rates.c.currency, ecb_rates.c.units_per_eur).where(
                ecb_rates.c.rate_date == day, ecb_rates.c.currency.in_(sorted(codes))
            )
        )
        return {row.currency: Decimal(row.units_per_eur) for row in rows}
