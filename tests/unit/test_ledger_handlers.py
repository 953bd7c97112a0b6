"""Ledger handlers on the SQLite unit of work: posting, limits, idempotency, pending transfers, verify."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from services.payments.ledger import service_layer as lh
from services.payments.ledger.adapters.tables import ledger_accounts
from services.payments.ledger.domain import (
    PLATFORM,
    AccountKind,
    BalanceLimit,
    PendingStatus,
    PostTransaction,
    Transfer,
    TransferState,
)
from services.payments.ledger.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    PendingTransferExpired,
    PendingTransferResolved,
)
from services.shared.context import ServiceContext
from services.shared.errors import IdempotencyConflict, NotFound, UnknownCurrency, ValidationError
from services.shared.money import Money
from tests.ledger_support import (
    FakeClock,
    balance,
    fund,
    key,
    merchant,
    outbox_types,
    transfer_count,
    usd,
    wallets,
)


@pytest.fixture
def context(payments: ServiceContext) -> ServiceContext:
    return payments


def test_open_account_is_idempotent_by_owner_kind_and_currency(context: ServiceContext) -> None:
    owner = merchant()
    first = lh.open_account(context.uow, lh.OpenAccount(owner, AccountKind.MERCHANT_AVAILABLE, "EUR"))
    again = lh.open_account(context.uow, lh.OpenAccount(owner, AccountKind.MERCHANT_AVAILABLE, "EUR"))
    other = lh.open_account(context.uow, lh.OpenAccount(owner, AccountKind.MERCHANT_AVAILABLE, "JPY"))
    assert first.code == again.code != other.code
    assert first.code.startswith("AC") and first.limit is BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS
    with pytest.raises(ValidationError) as error:
        lh.open_account(context.uow, lh.OpenAccount(owner, AccountKind.MERCHANT_AVAILABLE, "EUR", BalanceLimit.NONE))
    assert error.value.violations[0].field == "limit"


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lh.OpenAccount("not-a-merchant", AccountKind.MERCHANT_PENDING, "USD"), "owner"),
        (lh.OpenAccount("SOMEONE", AccountKind.FEES, "USD"), "owner"),
        (lh.OpenAccount(PLATFORM, AccountKind.FEES, "XYZ"), "currency"),
        (lh.OpenAccount("", AccountKind.CLEARING, "USD"), "owner"),
    ],
)
def test_open_account_refuses_bad_input_naming_the_field(
    context: ServiceContext, command: lh.OpenAccount, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        lh.open_account(context.uow, command)
    assert [v.field for v in error.value.violations] == [field]


def test_post_moves_money_and_writes_its_event_in_the_same_transaction(context: ServiceContext) -> None:
    w = wallets(context)
    result = lh.post_transaction(
        context.uow,
        PostTransaction(
            key(),
            (Transfer(w.clearing.code, w.pending.code, usd("100.25"), "collection"),),
            "collection",
            external_ref="psp-1",
            metadata={"method": "card"},
        ),
    )
    assert result.code.startswith("PY") and not result.replayed
    assert [t.state for t in result.transfers] == [TransferState.POSTED]
    assert balance(context, w.pending.code).available == usd("100.25")
    assert balance(context, w.clearing.code).posted == usd("-100.25")  # the partner owes it: allow_negative
    assert outbox_types(context)[-1] == "ledger_transaction_posted"
    with context.engine.connect() as connection:
        payload = json.loads(connection.execute(sa.select(context.outbox.c.payload)).scalars().all()[-1])
    assert payload["transaction_code"] == result.code
    assert payload["transfers"][0]["amount"] == {"currency_code": "USD", "units": "100", "nanos": 250000000}


def test_insufficient_funds_names_the_account_and_leaves_the_ledger_untouched(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "10.00")
    transfers_before, events_before = transfer_count(context), len(outbox_types(context))
    command = PostTransaction(
        key(),
        (
            Transfer(w.clearing.code, w.pending.code, usd("5.00")),  # would succeed on its own
            Transfer(w.available.code, w.in_flight.code, usd("10.01")),
        ),
        "payout",
    )
    with pytest.raises(InsufficientFunds) as error:
        lh.post_transaction(context.uow, command)
    assert error.value.account == w.available.code
    assert error.value.metadata["account"] == w.available.code
    assert error.value.violations[0].field == "transfers[1].debit_account"
    assert balance(context, w.available.code).available == usd("10.00")
    assert balance(context, w.pending.code).available == usd("0.00")  # the linked first transfer rolled back
    assert (transfer_count(context), len(outbox_types(context))) == (transfers_before, events_before)


def test_mismatched_currency_unknown_account_and_bad_amounts_are_refused(context: ServiceContext) -> None:
    w = wallets(context)
    jpy = lh.open_account(context.uow, lh.OpenAccount(w.merchant, AccountKind.MERCHANT_AVAILABLE, "JPY"))
    before = transfer_count(context)
    with pytest.raises(CurrencyMismatch) as mismatch:
        lh.post_transaction(
            context.uow, PostTransaction(key(), (Transfer(w.clearing.code, jpy.code, usd("1.00")),), "adjustment")
        )
    assert mismatch.value.violations[0].field == "transfers[0].amount.currency_code"
    with pytest.raises(NotFound) as unknown:
        lh.post_transaction(
            context.uow, PostTransaction(key(), (Transfer(w.clearing.code, "ACNOPE", usd("1.00")),), "adjustment")
        )
    assert unknown.value.field == "transfers[0].credit_account"
    bad = [
        Money(Decimal("0"), "USD"),
        Money(Decimal("-1.00"), "USD"),
        Money(Decimal("1.001"), "USD"),
        Money(Decimal("1.5"), "JPY"),
    ]
    for amount in bad:
        with pytest.raises(ValidationError) as invalid:
            lh.post_transaction(
                context.uow, PostTransaction(key(), (Transfer(w.clearing.code, w.pending.code, amount),), "adjustment")
            )
        assert invalid.value.violations[0].field == "transfers[0].amount"
    with pytest.raises(UnknownCurrency):
        lh.post_transaction(
            context.uow,
            PostTransaction(
                key(), (Transfer(w.clearing.code, w.pending.code, Money(Decimal("1"), "ABC")),), "adjustment"
            ),
        )
    assert transfer_count(context) == before


def test_replay_returns_the_first_result_and_a_changed_payload_is_refused(context: ServiceContext) -> None:
    w = wallets(context)
    command = PostTransaction(key(), (Transfer(w.clearing.code, w.available.code, usd("7.00")),), "adjustment")
    first = lh.post_transaction(context.uow, command)
    events = len(outbox_types(context))
    replay = lh.post_transaction(context.uow, command)
    assert replay.replayed and replay.code == first.code and replay.transfers == first.transfers
    assert balance(context, w.available.code).available == usd("7.00")
    assert len(outbox_types(context)) == events
    changed = PostTransaction(
        command.idempotency_key, (Transfer(w.clearing.code, w.available.code, usd("7.01")),), "adjustment"
    )
    with pytest.raises(IdempotencyConflict) as error:
        lh.post_transaction(context.uow, changed)
    assert error.value.violations[0].field == "idempotency_key"


def test_pending_transfer_reserves_then_posts_part_and_releases_the_rest(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "50.00")
    hold = lh.post_transaction(
        context.uow,
        PostTransaction(
            key(),
            (Transfer(w.available.code, w.in_flight.code, usd("30.00"), "payout", timedelta(hours=1)),),
            "payout",
        ),
    )
    pending = hold.transfers[0]
    assert pending.state is TransferState.PENDING and pending.expires_at is not None
    reserved = balance(context, w.available.code)
    assert (reserved.available, reserved.reserved) == (usd("20.00"), usd("30.00"))
    with pytest.raises(InsufficientFunds):  # the reservation counts against the limit
        lh.post_transaction(
            context.uow,
            PostTransaction(key(), (Transfer(w.available.code, w.in_flight.code, usd("20.01")),), "payout"),
        )
    posted = lh.post_pending(context.uow, lh.ResolvePending(key(), pending.id, usd("25.00")))
    assert posted.transfers[0].pending_id == pending.id and posted.transfers[0].amount == usd("25.00")
    after = balance(context, w.available.code)
    assert (after.available, after.reserved) == (usd("25.00"), usd("0.00"))
    assert balance(context, w.in_flight.code).posted == usd("25.00")
    with pytest.raises(PendingTransferResolved):
        lh.void_pending(context.uow, lh.ResolvePending(key(), pending.id))
    assert lh.verify_ledger(context.uow).ok


def test_post_more_than_reserved_or_void_twice_is_refused(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "10.00")
    hold = lh.post_transaction(
        context.uow,
        PostTransaction(
            key(), (Transfer(w.available.code, w.in_flight.code, usd("4.00"), "", timedelta(minutes=5)),), "payout"
        ),
    )
    pending_id = hold.transfers[0].id
    with pytest.raises(ValidationError) as error:
        lh.post_pending(context.uow, lh.ResolvePending(key(), pending_id, usd("4.01")))
    assert error.value.violations[0].field == "amount"
    with pytest.raises(NotFound):
        lh.post_pending(context.uow, lh.ResolvePending(key(), 999_999))
    voided = lh.void_pending(context.uow, lh.ResolvePending(key(), pending_id))
    assert voided.transfers[0].state is TransferState.VOIDED
    assert balance(context, w.available.code).available == usd("10.00")
    with pytest.raises(PendingTransferResolved) as twice:
        lh.void_pending(context.uow, lh.ResolvePending(key(), pending_id))
    assert twice.value.metadata["status"] == PendingStatus.VOIDED.value


def test_pending_transfers_expire_after_their_timeout(context: ServiceContext) -> None:
    clock = FakeClock()
    w = wallets(context)
    fund(context, w, "10.00")
    hold = lh.post_transaction(
        context.uow,
        PostTransaction(
            key(), (Transfer(w.available.code, w.in_flight.code, usd("6.00"), "", timedelta(minutes=10)),), "payout"
        ),
        clock=clock,
    )
    pending_id = hold.transfers[0].id
    clock.advance(minutes=9)
    assert lh.expire_pending(context.uow, clock=clock) == 0
    assert balance(context, w.available.code).available == usd("4.00")
    clock.advance(minutes=1)
    with pytest.raises(PendingTransferExpired):
        lh.post_pending(context.uow, lh.ResolvePending(key(), pending_id), clock=clock)
    seen: list[int] = []
    assert lh.expire_pending(context.uow, clock=clock, hooks=[lambda uow, pid, now: seen.append(pid)]) == 1
    assert seen == [pending_id]
    assert balance(context, w.available.code).available == usd("10.00")
    assert lh.expire_pending(context.uow, clock=clock) == 0  # nothing voids twice
    assert lh.verify_ledger(context.uow).ok


def test_verify_finds_a_tampered_balance(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "3.00")
    assert lh.verify_ledger(context.uow).ok
    with context.engine.begin() as connection:
        connection.execute(
            ledger_accounts.update().where(ledger_accounts.c.code == w.available.code).values(credits_posted=999)
        )
    report = lh.verify_ledger(context.uow)
    assert not report.ok
    assert any(w.available.code in problem for problem in report.problems)
    assert any(problem.startswith("USD: posted debits") for problem in report.problems)


def test_balances_per_currency_show_pending_available_and_reserved(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "12.00")
    lh.post_transaction(
        context.uow, PostTransaction(key(), (Transfer(w.clearing.code, w.pending.code, usd("5.00")),), "collection")
    )
    lh.post_transaction(
        context.uow,
        PostTransaction(
            key(), (Transfer(w.available.code, w.in_flight.code, usd("2.00"), "", timedelta(hours=1)),), "payout"
        ),
    )
    (usd_wallet,) = lh.get_balances(context.uow, w.merchant)
    assert (usd_wallet.pending, usd_wallet.available, usd_wallet.reserved) == (usd("5.00"), usd("10.00"), usd("2.00"))
    assert usd_wallet.total == usd("17.00")
