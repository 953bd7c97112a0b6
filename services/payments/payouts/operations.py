"""Payout use cases as the LedgerService RPCs call them. Screening (a network call) runs before a write's
unit of work opens; a retry answered from the stored response is not screened again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.operations import Clock, RunsOnce, UowFactory
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayeeDirectory, Payout, ScreeningGate
from services.shared.clock import utcnow
from services.shared.idempotency import Request

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class PayoutOperations(RunsOnce):
    uow_factory: UowFactory
    screening: ScreeningGate
    payees: PayeeDirectory
    clock: Clock = utcnow

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

    def payout_owner(self, code: str) -> str | None:
        with self.uow_factory() as uow:
            return ph.payout_owner(uow, code)

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
