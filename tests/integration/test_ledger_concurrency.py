"""Concurrent writers on one account keep the invariants: threads against PostgreSQL (and SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PostTransaction, TransactionResult, Transfer
from services.payments.ledger.errors import InsufficientFunds
from services.shared.context import ServiceContext
from services.shared.money import Money
from services.shared.settings import Settings
from tests.ledger_support import balance, fund, key, payments_context, wallets

THREADS = 8


@pytest.fixture
def context(any_settings: Settings) -> Iterator[ServiceContext]:
    with payments_context(any_settings) as context:
        yield context


def run_threads(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def body(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as error:  # collected and asserted on by the test
            errors.append(error)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_eight_writers_on_one_account_never_overdraw_it(context: ServiceContext) -> None:
    w = wallets(context)
    fund(context, w, "100.00")  # room for exactly 100 debits of 1.00; 8 x 20 = 160 are attempted
    accepted: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for _ in range(20):
            command = PostTransaction(
                key(f"t{n}"), (Transfer(w.available.code, w.in_flight.code, Money.of("1.00", "USD")),), "payout"
            )
            try:
                result = lh.post_transaction(context.uow, command)
            except InsufficientFunds:
                with lock:
                    refused.append(command.idempotency_key)
                continue
            with lock:
                accepted.append(result.code)

    assert run_threads(work) == []
    assert (len(accepted), len(refused)) == (100, 60)
    assert balance(context, w.available.code).available == Money.of("0.00", "USD")
    assert balance(context, w.in_flight.code).posted == Money.of("100.00", "USD")
    report = lh.verify_ledger(context.uow)
    assert report.ok, report.problems


def test_opposite_transfers_between_two_accounts_do_not_deadlock(context: ServiceContext) -> None:
    a, b = wallets(context), wallets(context)
    fund(context, a, "50.00")
    fund(context, b, "50.00")

    def work(n: int) -> None:
        source, target = (a, b) if n % 2 else (b, a)
        for _ in range(15):
            lh.post_transaction(
                context.uow,
                PostTransaction(
                    key(f"x{n}"),
                    (
                        Transfer(source.available.code, target.available.code, Money.of("0.10", "USD")),
                        Transfer(source.clearing.code, target.pending.code, Money.of("0.01", "USD")),
                    ),
                    "adjustment",
                ),
            )

    assert run_threads(work) == []
    # Four threads each way move the same amounts: both wallets end where they started.
    assert balance(context, a.available.code).available == Money.of("50.00", "USD")
    assert balance(context, b.available.code).available == Money.of("50.00", "USD")
    assert lh.verify_ledger(context.uow).ok


def test_the_same_key_posted_concurrently_posts_once(context: ServiceContext) -> None:
    w = wallets(context)
    command = PostTransaction(key("same"), (Transfer(w.clearing.code, w.available.code, Money.of("3.00", "USD")),), "x")
    results: list[TransactionResult] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        result = lh.post_transaction(context.uow, command)
        with lock:
            results.append(result)

    assert run_threads(work) == []
    assert len({r.code for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert balance(context, w.available.code).available == Money.of("3.00", "USD")
