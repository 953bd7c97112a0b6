"""Helpers for ledger tests: a payments service context and a few accounts to move money between."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.adapters.tables import ledger_transfers
from services.payments.ledger.domain import PLATFORM, Account, AccountKind, PostTransaction, Transfer
from services.payments.payouts.domain import Party, Payee, ScreeningDecision, ScreeningOutcome, ScreeningUnavailable
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.money import Money
from services.shared.settings import Settings
from tests.fakes import RecordingBus

_keys = itertools.count()


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}-{codes.generate('PY')}"


def merchant() -> str:
    return codes.generate("MC")


@contextlib.contextmanager
def payments_context(settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(settings, RecordingBus())
    try:
        yield context
    finally:
        context.close()


class FakeClock:
    """A clock tests move by hand (pending timeouts, payout expiry)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Wallets:
    """A merchant's wallets in one currency and a partner clearing account to fund them from."""

    merchant: str
    currency: str
    clearing: Account
    pending: Account
    available: Account
    in_flight: Account


def wallets(
    context: ServiceContext, currency: str = "USD", partner: str = "TESTPSP", owner: str | None = None
) -> Wallets:
    owner = owner or merchant()

    def open_(owner_: str, kind: AccountKind) -> Account:
        return lh.open_account(context.uow, lh.OpenAccount(owner_, kind, currency))

    return Wallets(
        owner,
        currency,
        open_(partner, AccountKind.CLEARING),
        open_(owner, AccountKind.MERCHANT_PENDING),
        open_(owner, AccountKind.MERCHANT_AVAILABLE),
        open_(PLATFORM, AccountKind.PAYOUTS_IN_FLIGHT),
    )


def fund(context: ServiceContext, w: Wallets, amount: str) -> None:
    """Credit `amount` to the merchant's AVAILABLE wallet from the partner's clearing account."""
    lh.post_transaction(
        context.uow,
        PostTransaction(
            key("fund"),
            (Transfer(w.clearing.code, w.available.code, Money.of(amount, w.currency), "funding"),),
            "adjustment",
        ),
    )


def balance(context: ServiceContext, code: str) -> Account:
    return lh.get_account(context.uow, code)


def transfer_count(context: ServiceContext) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(ledger_transfers)).scalar_one())


def outbox_types(context: ServiceContext) -> list[str]:
    with context.engine.connect() as connection:
        return list(connection.execute(sa.select(context.outbox.c.event_type).order_by(context.outbox.c.id)).scalars())


class FakeScreeningGate:
    """A ScreeningGate that answers with a set decision, or fails like an unreachable compliance service."""

    def __init__(self, decision: str = "CLEAR") -> None:
        self.decision: ScreeningDecision | None = ScreeningDecision(decision)
        self.calls: list[tuple[str, Party]] = []

    def screen(self, request_id: str, party: Party) -> ScreeningOutcome:
        self.calls.append((request_id, party))
        if self.decision is None:
            raise ScreeningUnavailable("connection refused")
        return ScreeningOutcome(self.decision, f"SCR-{len(self.calls)}")


class FakePayees:
    """A PayeeDirectory over a dict: (merchant, bank account code) -> Payee."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], Payee] = {}

    def add(self, merchant_code: str, code: str, holder: str, country: str, currency: str) -> None:
        self.accounts[(merchant_code, code)] = Payee(code, holder, country, currency)

    def payee(self, merchant_code: str, bank_account_code: str) -> Payee | None:
        return self.accounts.get((merchant_code, bank_account_code))


def in_uow(context: ServiceContext, work, clock=None):  # type: ignore[no-untyped-def]
    """Run `work(uow, now)` in one committed unit of work (what run_idempotent does for the RPCs)."""
    from services.shared.clock import utcnow

    with context.uow() as uow:
        result = work(uow, (clock or utcnow)())
        uow.commit()
    return result


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")
