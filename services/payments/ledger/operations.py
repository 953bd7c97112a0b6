"""The ledger's use cases as the RPCs call them: reads open a unit of work, writes run idempotently.

Each mutating operation takes the request's id and fingerprint and a `render` function (domain result ->
proto response) and runs through the kernel's `run_idempotent`, so the first response is stored with the
state change and replayed byte for byte.
Screening (a network call) runs before a write's unit of work opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import AccountKind, InvariantReport, TransactionResult
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayeeDirectory, Payout, ScreeningGate
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import Collection
from services.payments.settlement.domain.fees import FeeSchedule
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import idempotency
from services.shared.clock import utcnow
from services.shared.errors import NotFound
from services.shared.idempotency import Request
from services.shared.money import Money

T = TypeVar("T")
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class LedgerOperations:
    uow_factory: Callable[[], PaymentsUnitOfWork]
    screening: ScreeningGate
    payees: PayeeDirectory
    clock: Callable[[], datetime] = utcnow

    def _write(
        self,
        request: Request,
        work: Callable[[PaymentsUnitOfWork, datetime], T],
        render: Callable[[T], M],
        out: type[M],
    ) -> M:
        return idempotency.run_idempotent(self.uow_factory, request, out, lambda uow: render(work(uow, self.clock())))

    def _replayed(self, request: Request, out: type[M]) -> M | None:
        return idempotency.replayed(self.uow_factory, request, out)

    # -- accounts --------------------------------------------------------------------------------------

    def open_account(
        self, request: Request, command: lh.OpenAccount, render: Callable[[lh.Account], M], out: type[M]
    ) -> M:
        lh.validate_open(command)
        return self._write(request, lambda uow, now: lh.ensure_account(uow, command, now=now), render, out)

    def get_account(self, code: str) -> lh.Account:
        return lh.get_account(self.uow_factory, code)

    def list_accounts(
        self,
        *,
        owner: str | None = None,
        kind: AccountKind | None = None,
        currency: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[lh.Account]:
        return lh.list_accounts(
            self.uow_factory, owner=owner, kind=kind, currency=currency, after_id=after_id, limit=limit
        )

    def balances(self, merchant: str, currency: str | None) -> list[lh.WalletBalance]:
        return lh.get_balances(self.uow_factory, merchant, currency)

    def transactions(
        self, account_code: str, owner: str, before_id: int | None, limit: int
    ) -> list[tuple[int, TransactionResult]]:
        with self.uow_factory() as uow:
            repo = uow.ledger
            account_id = None
            if account_code:
                account = repo.get_account(account_code)
                if account is None:
                    raise NotFound(f"no ledger account {account_code!r}", field="account_code")
                account_id = account.id
            return repo.list_transactions(account_id=account_id, owner=owner or None, before_id=before_id, limit=limit)

    def verify(self) -> InvariantReport:
        return lh.verify_ledger(self.uow_factory)

    # -- collections -------------------------------------------------------------------------------------

    def record_collection(
        self, request: Request, command: sh.RecordCollection, render: Callable[[Collection], M], out: type[M]
    ) -> M:
        sh.validate_record(command)
        return self._write(request, lambda uow, now: sh.record_collection(uow, command, now), render, out)

    def get_collection(self, code: str) -> Collection:
        with self.uow_factory() as uow:
            return sh.get_collection(uow, code)

    def confirm_settlement(self, request: Request, code: str, render: Callable[[Collection], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.confirm_settlement(uow, code, now), render, out)

    def refund(self, request: Request, code: str, amount: Money, render: Callable[[sh.Refund], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.refund_collection(uow, code, amount, now), render, out)

    def set_tier(self, request: Request, merchant: str, tier: str, render: Callable[[str], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.set_merchant_tier(uow, merchant, tier, now), render, out)

    def fee_schedules(self, tier: str | None) -> list[FeeSchedule]:
        with self.uow_factory() as uow:
            return uow.settlements.schedules(tier)

    # -- payouts -----------------------------------------------------------------------------------------

    def create_payout(
        self, request: Request, command: ph.CreatePayout, render: Callable[[Payout], M], out: type[M]
    ) -> M:
        ph.validate_create(command)
        earlier = self._replayed(request, out)
        if earlier is not None:
            return earlier
        screened = ph.screen_payee(self.payees, self.screening, command)
        return self._write(request, lambda uow, now: ph.create_payout(uow, command, screened, now), render, out)

    def get_payout(self, code: str) -> Payout:
        with self.uow_factory() as uow:
            return ph.get_payout(uow, code)

    def post_payout(self, request: Request, code: str, render: Callable[[Payout], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: ph.post_payout(uow, code, now), render, out)

    def void_payout(self, request: Request, code: str, reason: str, render: Callable[[Payout], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: ph.void_payout(uow, code, reason, now), render, out)

    def release_payout(self, request: Request, code: str, render: Callable[[Payout], M], out: type[M]) -> M:
        earlier = self._replayed(request, out)
        if earlier is not None:
            return earlier
        payout = self.get_payout(code)
        command = ph.CreatePayout(request.key, payout.merchant, payout.bank_account_code, payout.amount, payout.partner)
        screened = ph.screen_payee(self.payees, self.screening, command, request_id=f"release:{request.key}")
        return self._write(request, lambda uow, now: ph.release_payout(uow, code, screened, now), render, out)

    # -- timers and events ---------------------------------------------------------------------------------

    def expire(self, limit: int = 100) -> int:
        """The sweep the timer calls: expired reservations void, their payouts become EXPIRED."""
        return lh.expire_pending(self.uow_factory, clock=self.clock, limit=limit, hooks=[ph.expire_payout])

    def on_risk_alert(self, payload: dict[str, object]) -> list[str]:
        return ph.on_risk_alert_raised(self.uow_factory, dict(payload), self.clock())
