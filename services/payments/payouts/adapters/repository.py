"""SQL access to payouts (never commits)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.payouts.adapters.tables import payouts
from services.payments.payouts.domain import Payout, PayoutStatus
from services.payments.sensitive_fields import PAYEE_NAME
from services.shared.crypto.fields import FieldCrypto
from services.shared.money import Money

_P = payouts.c


class PayoutRepository:
    """The payee name is sealed on insert and opened on read (bound to merchant, payout code, field)."""

    def __init__(self, connection: Connection, crypto: Callable[[], FieldCrypto]) -> None:
        self.connection = connection
        self._crypto = crypto

    def _payout(self, row: Any) -> Payout:
        return Payout(
            code=row.code,
            merchant=row.merchant,
            amount=Money.from_minor(row.amount_minor, row.currency),
            bank_account_code=row.bank_account_id,
            partner=row.partner,
            payee_name=self._crypto().open(row.payee_name_enc, PAYEE_NAME.binding(row)),
            payee_country=row.payee_country,
            status=PayoutStatus(row.status),
            hold_reason=row.hold_reason,
            screening_decision=row.screening_decision,
            pending_transfer_id=row.pending_transfer_id,
            posted=None if row.posted_minor is None else Money.from_minor(row.posted_minor, row.currency),
            timeout=timedelta(seconds=row.timeout_s),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def insert(self, p: Payout) -> None:
        self.connection.execute(
            payouts.insert().values(
                code=p.code,
                merchant=p.merchant,
                currency=p.amount.currency,
                amount_minor=p.amount.minor,
                bank_account_id=p.bank_account_code,
                partner=p.partner,
                payee_name_enc=self._crypto().seal(p.payee_name, PAYEE_NAME.bound(p.merchant, p.code)),
                payee_country=p.payee_country,
                status=p.status.value,
                hold_reason=p.hold_reason,
                screening_decision=p.screening_decision,
                pending_transfer_id=p.pending_transfer_id,
                posted_minor=None,
                timeout_s=int(p.timeout.total_seconds()),
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
        )

    def get(self, code: str, *, lock: bool = False) -> Payout | None:
        query = sa.select(payouts).where(_P.code == code)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return self._payout(row) if row else None

    def merchant_of(self, code: str) -> str | None:
        """The merchant a payout belongs to (None: no such payout), without opening the payee name."""
        return self.connection.execute(sa.select(_P.merchant).where(_P.code == code)).scalar()

    def by_pending_transfer(self, transfer_id: int) -> Payout | None:
        row = self.connection.execute(sa.select(payouts).where(_P.pending_transfer_id == transfer_id)).first()
        return self._payout(row) if row else None

    def list_for_merchant(
        self, merchant: str, statuses: tuple[PayoutStatus, ...] = (), before_id: int | None = None, limit: int = 50
    ) -> list[Payout]:
        query = sa.select(payouts).where(_P.merchant == merchant).order_by(_P.id.desc()).limit(limit)
        if statuses:
            query = query.where(_P.status.in_([s.value for s in statuses]))
        if before_id is not None:
            query = query.where(_P.id < before_id)
        return [self._payout(row) for row in self.connection.execute(query)]

    def transition(
        self,
        code: str,
        from_statuses: tuple[PayoutStatus, ...],
        to: PayoutStatus,
        at: datetime,
        *,
        hold_reason: str | None = None,
        screening_decision: str | None = None,
        posted_minor: int | None = None,
    ) -> bool:
        """Move a payout between statuses; False if it was no longer in one of `from_statuses`."""
        values: dict[str, Any] = {"status": to.value, "updated_at": at}
        if hold_reason is not None:
            values["hold_reason"] = hold_reason
        if screening_decision is not None:
            values["screening_decision"] = screening_decision
        if posted_minor is not None:
            values["posted_minor"] = posted_minor
        result = self.connection.execute(
            payouts.update().where(_P.code == code, _P.status.in_([s.value for s in from_statuses])).values(**values)
        )
        return result.rowcount == 1
