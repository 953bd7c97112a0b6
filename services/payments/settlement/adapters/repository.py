"""SQL access to collections, fee schedules and merchant tiers (never commits)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.settlement.adapters.tables import collections, fee_schedules, merchant_tiers
from services.payments.settlement.domain.collections import Collection, CollectionMethod, CollectionStatus
from services.payments.settlement.domain.fees import ANY_CURRENCY, DEFAULT_TIER, FeeSchedule
from services.shared.money import Money

_C = collections.c


class SettlementRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _collection(row: Any) -> Collection:
        money = lambda minor: Money.from_minor(minor, row.currency)  # noqa: E731
        return Collection(
            code=row.code,
            merchant=row.merchant,
            partner=row.partner,
            partner_ref=row.partner_ref,
            method=CollectionMethod(row.method),
            gross=money(row.gross_minor),
            partner_fee=money(row.partner_fee_minor),
            platform_fee=None if row.platform_fee_minor is None else money(row.platform_fee_minor),
            pending=money(row.pending_minor),
            refunded=money(row.refunded_minor),
            status=CollectionStatus(row.status),
            collected_txn=row.collected_txn,
            settled_txn=row.settled_txn,
            created_at=row.created_at,
            settled_at=row.settled_at,
        )

    def insert_collection(self, c: Collection) -> None:
        self.connection.execute(
            collections.insert().values(
                code=c.code,
                merchant=c.merchant,
                partner=c.partner,
                partner_ref=c.partner_ref,
                method=c.method.value,
                currency=c.gross.currency,
                gross_minor=c.gross.minor,
                partner_fee_minor=c.partner_fee.minor,
                platform_fee_minor=None,
                pending_minor=c.pending.minor,
                refunded_minor=0,
                status=c.status.value,
                collected_txn=c.collected_txn,
                settled_txn=None,
                created_at=c.created_at,
                settled_at=None,
            )
        )

    def get(self, code: str, *, lock: bool = False) -> Collection | None:
        query = sa.select(collections).where(_C.code == code)
        if lock:
            query = query.with_for_update()  # PostgreSQL row lock; SQLite holds its write lock already
        row = self.connection.execute(query).first()
        return self._collection(row) if row else None

    def merchant_of(self, code: str) -> str | None:
        """The merchant a collection belongs to (None: no such collection), reading only that column."""
        return self.connection.execute(sa.select(_C.merchant).where(_C.code == code)).scalar()

    def by_partner_ref(self, partner: str, partner_ref: str) -> Collection | None:
        row = self.connection.execute(
            sa.select(collections).where(_C.partner == partner, _C.partner_ref == partner_ref)
        ).first()
        return self._collection(row) if row else None

    def mark_settled(self, code: str, fee_minor: int, settled_txn: str | None, at: datetime) -> bool:
        result = self.connection.execute(
            collections.update()
            .where(_C.code == code, _C.status == CollectionStatus.PENDING.value)
            .values(
                status=CollectionStatus.SETTLED.value,
                platform_fee_minor=fee_minor,
                pending_minor=0,
                settled_txn=settled_txn,
                settled_at=at,
            )
        )
        return result.rowcount == 1

    def add_refund(self, code: str, amount_minor: int, from_pending_minor: int) -> bool:
        """Count a refund; False if it would exceed the gross (a concurrent refund got there first)."""
        result = self.connection.execute(
            collections.update()
            .where(
                _C.code == code,
                _C.refunded_minor + amount_minor <= _C.gross_minor,
                _C.pending_minor >= from_pending_minor,
            )
            .values(
                refunded_minor=_C.refunded_minor + amount_minor,
                pending_minor=_C.pending_minor - from_pending_minor,
            )
        )
        return result.rowcount == 1

    # -- fees ---------------------------------------------------------------------------------------------

    def tier_of(self, merchant: str) -> str:
        tier = self.connection.execute(
            sa.select(merchant_tiers.c.tier).where(merchant_tiers.c.merchant == merchant)
        ).scalar_one_or_none()
        return tier or DEFAULT_TIER

    def set_tier(self, merchant: str, tier: str, at: datetime) -> None:
        updated = self.connection.execute(
            merchant_tiers.update().where(merchant_tiers.c.merchant == merchant).values(tier=tier, updated_at=at)
        )
        if updated.rowcount == 0:
            self.connection.execute(merchant_tiers.insert().values(merchant=merchant, tier=tier, updated_at=at))

    def tiers(self) -> list[str]:
        return list(self.connection.execute(sa.select(fee_schedules.c.tier).distinct().order_by("tier")).scalars())

    def schedule(self, tier: str, currency: str) -> FeeSchedule | None:
        rows = self.connection.execute(
            sa.select(fee_schedules).where(
                fee_schedules.c.tier == tier, fee_schedules.c.currency.in_([currency, ANY_CURRENCY])
            )
        ).all()
        exact = [r for r in rows if r.currency == currency] or rows
        if not exact:
            return None
        row = exact[0]
        return FeeSchedule(row.tier, row.currency, Decimal(row.percent), int(row.fixed_minor))

    def schedules(self, tier: str | None = None) -> list[FeeSchedule]:
        query = sa.select(fee_schedules).order_by(fee_schedules.c.tier, fee_schedules.c.currency)
        if tier is not None:
            query = query.where(fee_schedules.c.tier == tier)
        return [
            FeeSchedule(r.tier, r.currency, Decimal(r.percent), int(r.fixed_minor))
            for r in self.connection.execute(query)
        ]


class SettledHistoryRepository:
    """Settled collections with a settlement time in a window (`uow.settled_history`).

    Volume is gross collected minus refunded (what the merchant's sales were really worth).
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def settled_volume(
        self, merchant_code: str, currency: str, since: datetime, until: datetime
    ) -> tuple[Decimal, int]:
        row = self.connection.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(collections.c.gross_minor - collections.c.refunded_minor), 0),
                sa.func.count(),
            ).where(
                collections.c.merchant == merchant_code,
                collections.c.currency == currency,
                collections.c.settled_at.is_not(None),
                collections.c.settled_at >= since,
                collections.c.settled_at < until,
            )
        ).one()
        return Money.from_minor(int(row[0]), currency).amount, int(row[1])
