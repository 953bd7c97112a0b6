"""The ledger's use cases as the LedgerService RPCs call them: reads open a unit of work, writes run once.

Each mutating operation takes the request's idempotency `Request` and a `render` function (domain result ->
proto response) and runs through the kernel's `run_idempotent`, so the first response is stored with the
state change and replayed byte for byte (services/payments/operations.py). Settlement and payouts have
operations of their own beside these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import AccountKind, InvariantReport, TransactionResult
from services.payments.operations import Clock, RunsOnce, UowFactory
from services.shared.clock import utcnow
from services.shared.errors import NotFound
from services.shared.idempotency import Request

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class LedgerOperations(RunsOnce):
    uow_factory: UowFactory
    clock: Clock = utcnow

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
