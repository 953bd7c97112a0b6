"""Settlement use cases as the LedgerService RPCs call them: reads open a unit of work, writes run once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.operations import Clock, RunsOnce, UowFactory
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import Collection
from services.payments.settlement.domain.fees import FeeSchedule
from services.shared.clock import utcnow
from services.shared.idempotency import Request
from services.shared.money import Money

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class SettlementOperations(RunsOnce):
    uow_factory: UowFactory
    clock: Clock = utcnow

    def record_collection(
        self, request: Request, command: sh.RecordCollection, render: Callable[[Collection], M], out: type[M]
    ) -> M:
        sh.validate_record(command)
        return self._write(request, lambda uow, now: sh.record_collection(uow, command, now), render, out)

    def get_collection(self, code: str) -> Collection:
        with self.uow_factory() as uow:
            return sh.get_collection(uow, code)

    def collection_owner(self, code: str) -> str | None:
        with self.uow_factory() as uow:
            return sh.collection_owner(uow, code)

    def confirm_settlement(self, request: Request, code: str, render: Callable[[Collection], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.confirm_settlement(uow, code, now), render, out)

    def refund(self, request: Request, code: str, amount: Money, render: Callable[[sh.Refund], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.refund_collection(uow, code, amount, now), render, out)

    def set_tier(self, request: Request, merchant: str, tier: str, render: Callable[[str], M], out: type[M]) -> M:
        return self._write(request, lambda uow, now: sh.set_merchant_tier(uow, merchant, tier, now), render, out)

    def fee_schedules(self, tier: str | None) -> list[FeeSchedule]:
        with self.uow_factory() as uow:
            return uow.settlements.schedules(tier)
