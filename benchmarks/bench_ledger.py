"""Ledger throughput: transfers/s through post_transaction vs a plain INSERT of the same rows (the ceiling).

Cells, on SQLite (a file under a temp dir) and on PostgreSQL (when reachable, its own schema prefix):
  baseline-single   one plain INSERT of a transfer row per transaction (no checks, no balances, no event)
  baseline-batch    100 plain INSERTs per transaction (executemany)
  ledger-single     post_transaction with 1 transfer (idempotency row, balance-limit UPDATEs, outbox event)
  ledger-batch      post_transaction with 100 linked transfers
each with 1 and with 8 concurrent writer threads (the 8 writers use disjoint accounts, so the figure is the
database's, not one hot row's), then the invariant check over everything written (its time and result).
Prints transfers/s and the ratio to the baseline of the same shape; the target is >= 5,000 transfers/s
batched on PostgreSQL. It reports and never fails on a timing.

    .venv/bin/python benchmarks/bench_ledger.py [--seconds 3] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import AccountKind, PostTransaction, Transfer
from services.shared import codes
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.money import Money
from services.shared.settings import Settings

POSTGRES_URL = os.environ.get("XB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGET = 5_000
BATCH = 100
ACCOUNTS_PER_WRITER = 20

baseline = sa.Table(
    "bench_plain_transfers",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("transaction_id", sa.Integer, nullable=False),
    sa.Column("debit_account_id", sa.Integer, nullable=False),
    sa.Column("credit_account_id", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
)


@dataclass
class Writer:
    clearing: str
    wallets: list[str]


def open_writers(context: ServiceContext, count: int) -> list[Writer]:
    writers = []
    for n in range(count):
        partner = f"BENCH{n}-{uuid.uuid4().hex[:6].upper()}"
        clearing = lh.open_account(context.uow, lh.OpenAccount(partner, AccountKind.CLEARING, "USD")).code
        wallets = [
            lh.open_account(
                context.uow, lh.OpenAccount(codes.generate("MC"), AccountKind.MERCHANT_AVAILABLE, "USD")
            ).code
            for _ in range(ACCOUNTS_PER_WRITER)
        ]
        writers.append(Writer(clearing, wallets))
    return writers


def run_for(seconds: float, threads: int, step: Callable[[int, int], int]) -> tuple[int, float]:
    """Call step(thread, i) in `threads` threads until `seconds` pass; (transfers written, elapsed)."""
    done = [0] * threads
    stop = time.monotonic() + seconds
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def body(t: int) -> None:
        start.wait()
        try:
            for i in itertools.count():
                if time.monotonic() >= stop:
                    return
                done[t] += step(t, i)
        except BaseException as error:  # reported below; a benchmark that breaks says so
            errors.append(error)

    workers = [threading.Thread(target=body, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    began = time.monotonic()
    start.wait()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return sum(done), time.monotonic() - began


def bench_database(label: str, settings: Settings, seconds: float) -> list[tuple[str, int, float, float]]:
    context = bootstrap.bootstrap(settings, InProcessBus())
    rows: list[tuple[str, int, float, float]] = []
    try:
        baseline.create(context.engine, checkfirst=True)
        writers = open_writers(context, 8)
        one = Money.of("0.01", "USD")
        keys = itertools.count()

        def plain(batch: int) -> Callable[[int, int], int]:
            def step(t: int, i: int) -> int:
                values = [
                    {
                        "transaction_id": i,
                        "debit_account_id": t,
                        "credit_account_id": k,
                        "currency": "USD",
                        "amount_minor": 1,
                        "code": "bench",
                        "state": "POSTED",
                    }
                    for k in range(batch)
                ]
                with context.engine.begin() as connection:
                    connection.execute(baseline.insert(), values)
                return batch

            return step

        def ledger(batch: int) -> Callable[[int, int], int]:
            def step(t: int, i: int) -> int:
                w = writers[t]
                transfers = tuple(
                    Transfer(w.clearing, w.wallets[(i + k) % ACCOUNTS_PER_WRITER], one, "bench") for k in range(batch)
                )
                lh.post_transaction(context.uow, PostTransaction(f"bench-{next(keys)}", transfers, "bench"))
                return batch

            return step

        for threads in (1, 8):
            for batch in (1, BATCH):
                shape = "batch" if batch > 1 else "single"
                base_n, base_s = run_for(seconds, threads, plain(batch))
                led_n, led_s = run_for(seconds, threads, ledger(batch))
                base_rate, led_rate = base_n / base_s, led_n / led_s
                rows.append((f"{label} {shape:6} x{threads}", led_n, led_rate, led_rate / base_rate))
                print(
                    f"{label:10} {shape:6} writers={threads}  ledger {led_rate:9,.0f} transfers/s  "
                    f"plain INSERT {base_rate:9,.0f}/s  ratio {led_rate / base_rate:5.2f}",
                    flush=True,
                )
        began = time.monotonic()
        report = lh.verify_ledger(context.uow)
        took = time.monotonic() - began
        print(
            f"{label:10} verify: ok={report.ok} over {report.transfers:,} transfers, {report.accounts} accounts "
            f"in {took:.2f} s{'' if report.ok else ' PROBLEMS: ' + '; '.join(report.problems[:3])}",
            flush=True,
        )
    finally:
        with context.engine.begin() as connection:
            baseline.drop(connection, checkfirst=True)
        context.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each cell (default 3)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "sqlite"):
            results += bench_database("sqlite", Settings(var_dir=Path(tmp), log_json=False), args.seconds)
        if args.only in (None, "postgresql"):
            try:
                sa.create_engine(POSTGRES_URL).connect().close()
            except Exception as error:  # no server: say so, keep the SQLite figures
                print(f"postgresql: not reachable ({type(error).__name__}); skipped")
            else:
                prefix = f"bench{uuid.uuid4().hex[:6]}_"
                settings = Settings(
                    var_dir=Path(tmp), database_url=POSTGRES_URL, db_schema_prefix=prefix, log_json=False
                )
                try:
                    results += bench_database("postgresql", settings, args.seconds)
                finally:
                    engine = sa.create_engine(POSTGRES_URL)
                    with engine.begin() as connection:
                        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{prefix}payments" CASCADE'))
                    engine.dispose()
    batched_pg = [r for r in results if r[0].startswith("postgresql batch")]
    for name, _, rate, _ in batched_pg:
        verdict = "meets" if rate >= TARGET else "misses"
        print(f"target: {name.strip()} {rate:,.0f} transfers/s {verdict} the {TARGET:,}/s target")
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
