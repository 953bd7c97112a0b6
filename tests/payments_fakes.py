"""In-memory fakes of the payments unit of work and its FX repositories, for service-layer tests.

`FakePayments` is the database: every `FakePaymentsUnitOfWork` it makes works on a copy of its state,
which replaces the state on `commit` and is dropped otherwise, so a use case that fails half-way leaves
nothing behind, as a rolled-back transaction does.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from google.protobuf.message import Message

from services.payments.fx.adapters.repositories import QuoteRecord
from services.payments.fx.domain.spreads import DEFAULT_SPREADS, SpreadRule
from services.payments.fx.service_layer.desk import LedgerLeg, PostedConversion
from services.payments.ledger.errors import InsufficientFunds
from services.shared.errors import ConflictingWrite
from services.shared.money import Money
from tests.fakes import InMemoryIdempotency


@dataclass
class State:
    remembered: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    spreads: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tiers: dict[str, str] = field(default_factory=dict)
    quotes: dict[str, QuoteRecord] = field(default_factory=dict)
    events: list[Message] = field(default_factory=list)
    postings: list[tuple[str, str, Money]] = field(default_factory=list)  # (reference, purpose, amount)


class FakeSpreads:
    def __init__(self, state: State) -> None:
        self.state = state

    def rules(self) -> list[SpreadRule]:
        return [SpreadRule(sell, buy, tier, bps) for (sell, buy, tier), bps in self.state.spreads.items()]

    def set(self, rule: SpreadRule, now: datetime) -> None:
        self.state.spreads[(rule.sell, rule.buy, rule.tier)] = rule.bps

    def tier_of(self, merchant_code: str) -> str | None:
        return self.state.tiers.get(merchant_code)


class FakeQuotes:
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, record: QuoteRecord) -> None:
        if record.code in self.state.quotes:
            raise ConflictingWrite(f"quote {record.code} exists")
        self.state.quotes[record.code] = record

    def get(self, code: str, *, for_update: bool = False) -> QuoteRecord | None:
        return self.state.quotes.get(code)

    def mark_converted(self, code: str, conversion_code: str, now: datetime) -> bool:
        record = self.state.quotes.get(code)
        if record is None or record.status != "OPEN":
            return False
        self.state.quotes[code] = dataclasses.replace(
            record, status="CONVERTED", conversion_code=conversion_code, converted_at=now
        )
        return True

    def record_ledger_transaction(self, code: str, transaction: str) -> None:
        self.state.quotes[code] = dataclasses.replace(self.state.quotes[code], ledger_reference=transaction)


class FakePaymentsUnitOfWork:
    """The parts of PaymentsUnitOfWork the FX use cases use, over a copy of the fake database's state."""

    def __init__(self, database: FakePayments) -> None:
        self.database = database
        self.committed = False

    def __enter__(self) -> FakePaymentsUnitOfWork:
        self.state = copy.deepcopy(self.database.state)
        self.idempotency = InMemoryIdempotency(self.state.remembered)
        self.fx_spreads = FakeSpreads(self.state)
        self.fx_quotes = FakeQuotes(self.state)
        self.locked = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.state = State()  # whatever was not committed is gone

    def lock_for_write(self) -> None:
        self.locked = True
        self.database.locks += 1

    def emit(self, message: Message) -> Any:
        self.state.events.append(message)

    def commit(self) -> None:
        self.state.remembered.update(self.idempotency.pending)
        self.database.state = copy.deepcopy(self.state)
        self.database.commits += 1


class FakePayments:
    """The fake database; call it for a new unit of work (it is the use cases' `uow_factory`)."""

    def __init__(self, spreads: tuple[SpreadRule, ...] = DEFAULT_SPREADS) -> None:
        self.state = State(spreads={(r.sell, r.buy, r.tier): r.bps for r in spreads})
        self.commits = 0
        self.locks = 0

    def __call__(self) -> FakePaymentsUnitOfWork:
        return FakePaymentsUnitOfWork(self)


class FakeConversionLedger:
    """Posts a conversion's legs into the unit of work's state; `short` refuses one like an empty wallet."""

    def __init__(self) -> None:
        self.short: str | None = None

    def post_conversion(
        self,
        uow: FakePaymentsUnitOfWork,
        *,
        reference: str,
        merchant_code: str,
        sell: Money,
        buy: Money,
        spread: Money,
        metadata: Any,
    ) -> PostedConversion:
        if self.short == merchant_code:
            raise InsufficientFunds(f"{merchant_code}/{sell.currency}", "debits_must_not_exceed_credits")
        legs = [
            LedgerLeg(f"{merchant_code}:{sell.currency}", f"PLATFORM:{sell.currency}", sell, "sell"),
            LedgerLeg(f"PLATFORM:{buy.currency}", f"{merchant_code}:{buy.currency}", buy, "buy"),
        ]
        if spread.minor:
            legs.append(LedgerLeg(f"PLATFORM:{buy.currency}", f"FEES:{buy.currency}", spread, "spread"))
        uow.state.postings.extend((reference, leg.purpose, leg.amount) for leg in legs)
        return PostedConversion(f"TX-{reference}", tuple(legs))
