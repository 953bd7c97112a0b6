"""SQL access for FX rates, spreads, quotes and rate snapshots (payments schema; tables in tables.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.fx.adapters.tables import (
    ops_rates,
    quotes,
    rate_snapshots,
    spreads,
)
from services.payments.fx.domain.rates import Rate
from services.payments.fx.domain.spreads import SpreadRule
from services.payments.settlement.adapters.tables import merchant_tiers


class OpsRateRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, base: str, quote: str, rate: Decimal, valid_from: datetime, valid_until: datetime, by: str) -> None:
        self.connection.execute(
            ops_rates.insert().values(
                base=base,
                quote=quote,
                rate=format(rate, "f"),
                valid_from=valid_from,
                valid_until=valid_until,
                entered_by=by,
            )
        )

    def latest(self, base: str, quote: str) -> Rate | None:
        row = self.connection.execute(
            sa.select(ops_rates)
            .where(ops_rates.c.base == base, ops_rates.c.quote == quote)
            .order_by(ops_rates.c.valid_from.desc(), ops_rates.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return Rate(
            base,
            quote,
            Decimal(row.rate),
            "ops",
            row.valid_from,
            row.valid_from,
            row.valid_until - row.valid_from,
            f"entered by {row.entered_by}",
        )

    def listed(self) -> list[sa.Row]:
        return list(self.connection.execute(sa.select(ops_rates).order_by(ops_rates.c.id.desc())))


class SpreadRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rules(self) -> list[SpreadRule]:
        return [SpreadRule(r.sell, r.buy, r.tier, r.bps) for r in self.connection.execute(sa.select(spreads))]

    def set(self, rule: SpreadRule, now: datetime) -> None:
        key = (spreads.c.sell == rule.sell, spreads.c.buy == rule.buy, spreads.c.tier == rule.tier)
        updated = self.connection.execute(spreads.update().where(*key).values(bps=rule.bps, updated_at=now))
        if updated.rowcount == 0:
            self.connection.execute(
                spreads.insert().values(sell=rule.sell, buy=rule.buy, tier=rule.tier, bps=rule.bps, updated_at=now)
            )

    # One tier per merchant for the whole service: the ledger's fee schedules and these spreads read the
    # same `merchant_tiers` table (payments_0002); settlement_handlers.set_merchant_tier writes it.
    def tier_of(self, merchant_code: str) -> str | None:
        return self.connection.execute(
            sa.select(merchant_tiers.c.tier).where(merchant_tiers.c.merchant == merchant_code)
        ).scalar()


@dataclass(frozen=True)
class QuoteRecord:
    code: str
    merchant_code: str
    tier: str
    sell_currency: str
    buy_currency: str
    sell_minor: int
    buy_minor: int
    spread_minor: int
    fixed_side: str
    reference_rate: Decimal
    spread_bps: int
    rate: Decimal
    rate_source: str
    rate_as_of: datetime
    rate_fresh_until: datetime
    rate_derivation: str
    lock_premium_bps: int
    lock_seconds: int
    created_at: datetime
    expires_at: datetime
    status: str
    conversion_code: str | None = None
    ledger_reference: str | None = None
    converted_at: datetime | None = None


class QuoteRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, record: QuoteRecord) -> None:
        values = dict(record.__dict__)
        for name in ("reference_rate", "rate"):
            values[name] = format(values[name], "f")
        self.connection.execute(quotes.insert().values(**values))

    def get(self, code: str, *, for_update: bool = False) -> QuoteRecord | None:
        query = sa.select(quotes).where(quotes.c.code == code)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        data: dict[str, Any] = dict(row._mapping)
        data["reference_rate"] = Decimal(data["reference_rate"])
        data["rate"] = Decimal(data["rate"])
        return QuoteRecord(**data)

    def mark_converted(self, code: str, conversion_code: str, now: datetime) -> bool:
        """OPEN -> CONVERTED, once: False when another request got there first."""
        result = self.connection.execute(
            quotes.update()
            .where(quotes.c.code == code, quotes.c.status == "OPEN")
            .values(status="CONVERTED", conversion_code=conversion_code, converted_at=now)
        )
        return result.rowcount == 1

    def record_ledger_transaction(self, code: str, transaction: str) -> None:
        self.connection.execute(quotes.update().where(quotes.c.code == code).values(ledger_reference=transaction))


class SnapshotRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def put(self, rate: Rate) -> None:
        key = (rate_snapshots.c.base == rate.base, rate_snapshots.c.quote == rate.quote)
        values = {
            "rate": format(rate.rate, "f"),
            "source": rate.source,
            "as_of": rate.as_of,
            "fetched_at": rate.fetched_at,
            "expires_at": rate.expires_at,
        }
        if self.connection.execute(rate_snapshots.update().where(*key).values(**values)).rowcount == 0:
            self.connection.execute(rate_snapshots.insert().values(base=rate.base, quote=rate.quote, **values))

    def get(self, base: str, quote: str) -> Rate | None:
        row = self.connection.execute(
            sa.select(rate_snapshots).where(rate_snapshots.c.base == base, rate_snapshots.c.quote == quote)
        ).first()
        if row is None:
            return None
        return Rate(
            base,
            quote,
            Decimal(row.rate),
            row.source,
            row.as_of,
            row.fetched_at,
            row.expires_at - row.as_of,
            "snapshot",
        )

    def all(self) -> list[sa.Row]:
        return list(
            self.connection.execute(sa.select(rate_snapshots).order_by(rate_snapshots.c.base, rate_snapshots.c.quote))
        )
