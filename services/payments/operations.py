"""What every payments capability's operations share: a write runs once per request id, a replay is read
before slow work.

The ledger, settlement and payout operations mix `RunsOnce` in; each is a frozen dataclass holding its
`uow_factory` and `clock`. A write renders its domain result into the proto response inside the kernel's
`run_idempotent`, so the first response is stored with the state change and replayed byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import idempotency
from services.shared.idempotency import Request

T = TypeVar("T")
M = TypeVar("M", bound=Message)
UowFactory = Callable[[], PaymentsUnitOfWork]
Clock = Callable[[], datetime]


def run_once(
    uow_factory: UowFactory,
    clock: Clock,
    request: Request,
    work: Callable[[PaymentsUnitOfWork, datetime], T],
    render: Callable[[T], M],
    out: type[M],
) -> M:
    """`work` and its rendered response, once per request (the kernel's run_idempotent)."""
    return idempotency.run_idempotent(uow_factory, request, out, lambda uow: render(work(uow, clock())))


class RunsOnce:
    """Mixed into an operations dataclass that has `uow_factory` and `clock` fields."""

    uow_factory: UowFactory
    clock: Clock

    def _write(
        self,
        request: Request,
        work: Callable[[PaymentsUnitOfWork, datetime], T],
        render: Callable[[T], M],
        out: type[M],
    ) -> M:
        return run_once(self.uow_factory, self.clock, request, work, render, out)

    def _replayed(self, request: Request, out: type[M]) -> M | None:
        return idempotency.replayed(self.uow_factory, request, out)
