"""Stock reservations: concurrent reservations/s on one hot SKU on PostgreSQL (or SQLite), zero oversell.

Boots the logistics service in-process on a fresh PostgreSQL schema (XB_TEST_POSTGRES_URL, default the local
server), pushes U units of one SKU into a warehouse, then makes A > U reservations of one unit each through
the service layer (`stock.reserve`, with its request id, idempotency record, row lock and outbox event) from
C threads. The same run measures, against fresh merchants:

- `row locks`: the shipped design, the stock row read FOR UPDATE (C threads);
- `service lock`: the same use case under the service-wide advisory lock rate-sheet imports take (C threads);
- `serial`: one thread, row locks (the baseline without contention);
- `row locks, 8 SKUs` and `service lock, 8 SKUs`: the same load spread over 8 SKUs, where row locks let
  reservations of different SKUs commit side by side.

After each variant it checks that exactly U reservations succeeded, the rest were refused
INSUFFICIENT_STOCK, the stored reserved units equal the sum of the active reservations and on hand =
available + reserved with nothing negative. Reports only; never fails on a timing.

    .venv/bin/python benchmarks/bench_reservations.py [--units 400] [--attempts 500] [--clients 8] [--sqlite]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from xborder.logistics.v1 import warehouses_service_pb2 as pb

from services.logistics import bootstrap
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.stock import Counts, Line, StockRefused
from services.logistics.service_layer import stock
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.logs import configure
from services.shared.settings import Settings
from tests.conftest import postgres_schemas
from tests.fakes import RecordingBus

WAREHOUSE = "SAMPLE-WH-US-LAX"
ids = itertools.count()


class ServiceLockUnitOfWork(LogisticsUnitOfWork):
    """The comparison: every stock change takes the service-wide write lock instead of row locks."""

    def lock_stock_for_write(self) -> None:
        self.lock_for_write()


def factory(context: ServiceContext, service_lock: bool):
    if not service_lock:
        return context.uow
    return lambda: ServiceLockUnitOfWork(
        context.engine, context.name, context.outbox, context.processed, context.idempotency_keys
    )


def variant(context: ServiceContext, name: str, args: argparse.Namespace, clients: int, skus: int, lock: bool) -> None:
    merchant = codes.generate("MC")
    names = [f"HOT-{i}" for i in range(skus)]
    per_sku = args.units // skus
    units = per_sku * skus
    push = stock.PushInventory(
        f"bench-{next(ids)}",
        "f",
        WAREHOUSE,
        merchant,
        True,
        tuple(Counts(s, per_sku, 0) for s in names),
        None,
    )
    stock.push_inventory(context.uow, push, pb.PushInventoryResponse, lambda *_: pb.PushInventoryResponse())
    uow = factory(context, lock)

    def attempt(i: int) -> bool:
        command = stock.Reserve(
            f"r-{next(ids)}",
            "f",
            merchant,
            f"order-{i}",
            (Line(names[i % skus], 1),),
            "",
            "",
            timedelta(minutes=30),
        )
        try:
            stock.reserve(uow, command, pb.ReserveStockResponse, lambda _: pb.ReserveStockResponse())
            return True
        except StockRefused:
            return False

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        won = sum(pool.map(attempt, range(args.attempts)))
    elapsed = time.perf_counter() - started
    with context.uow() as check:
        levels = check.stock.levels(merchant)
    reserved = sum(x.reserved for x in levels)
    assert won == min(units, args.attempts), (name, won, units)
    assert reserved == won and all(x.conserved() for x in levels), (name, reserved, won)
    assert sum(x.on_hand for x in levels) == units
    print(
        f"| {name} | {clients} | {skus} | {args.attempts} | {won} | {args.attempts - won} | "
        f"{args.attempts / elapsed:,.0f} | {elapsed * 1000 / args.attempts:.2f} | 0 |"
    )


def run(settings: Settings, args: argparse.Namespace) -> None:
    context = bootstrap.bootstrap(settings, RecordingBus())
    try:
        context.import_reference_data(only="iso3166_countries")
        context.import_reference_data(only="logistics_sample_warehouses")
        print(f"python {platform.python_version()}, {'SQLite' if args.sqlite else 'PostgreSQL'}")
        print("| variant | threads | SKUs | attempts | reserved | refused | attempts/s | ms per attempt | oversold |")
        print("|---|---|---|---|---|---|---|---|---|")
        variant(context, "serial (baseline)", args, 1, 1, False)
        variant(context, "row locks", args, args.clients, 1, False)
        variant(context, "service lock", args, args.clients, 1, True)
        variant(context, "row locks, 8 SKUs", args, args.clients, 8, False)
        variant(context, "service lock, 8 SKUs", args, args.clients, 8, True)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--attempts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    configure("WARNING", json=False)
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        if args.sqlite:
            run(Settings(var_dir=var, log_json=False, log_level="WARNING"), args)
            return
        with postgres_schemas(var) as settings:
            run(replace(settings, log_level="WARNING", log_json=False), args)


if __name__ == "__main__":
    main()
