"""What sharing the gateway's state between replicas costs, per call, against keeping it in the process.

1. Rate limits: `take` on the in-process buckets (gateway/rate_limits.py) against the Redis script
   (gateway/redis_rate_limits.py), one thread, callers spread over 1,000 buckets; p50/p99 in microseconds.
   The REST door calls `take` on its event loop, so the Redis figure is what a call holds the loop for.
2. Audit: how many calls a second one writer stores, as batches of 50 (a busy gateway's 50 ms linger),
   into the SQLite file against the PostgreSQL table (advisory lock, head read, insert, commit).
3. Person counters: `add` of an answer carrying three persons not seen before, SQLite (write-behind) against
   PostgreSQL (one statement on the request path); p50/p99 in microseconds.

Needs Redis and PostgreSQL (XB_TEST_REDIS_URL, XB_TEST_POSTGRES_URL or the local defaults). It reports; it
never fails on a timing.

    .venv/bin/python -m benchmarks.bench_gateway_state [--calls 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
import sqlalchemy as sa

from gateway.audit_chain import Call
from gateway.audit_store import AuditStore
from gateway.audit_store_pg import PostgresAuditStore
from gateway.rate_limits import RateLimiter
from gateway.redis_rate_limits import RedisRateLimiter
from gateway.transfer_counters import PersonCounters
from gateway.transfer_counters_pg import PostgresPersonCounters
from services.shared.settings import Settings

REDIS_URL = os.environ.get("XB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("XB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1e6:8.1f} us   p99 {p99 * 1e6:8.1f} us"


def timed(calls: int, step: Callable[[int], object]) -> list[float]:
    samples = []
    for n in range(calls):
        start = time.perf_counter()
        step(n)
        samples.append(time.perf_counter() - start)
    return samples


def call(n: int) -> Call:
    return Call(
        at="2026-12-06T09:00:00.000000+00:00",
        door="http",
        rpc="/xborder.identity.v1.MerchantService/GetMerchant",
        outcome="200",
        key_id="key-1",
        merchant_code="MC1",
        request_classes=("BUSINESS",),
        response_classes=("BUSINESS", "PERSONAL"),
        caller_country="DE",
        service="identity",
        correlation_id=f"req-{n}",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    calls = args.calls
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    settings = Settings(database_url=POSTGRES_URL, db_schema_prefix=prefix, log_json=False)
    client = redis.Redis.from_url(REDIS_URL)
    key_prefix = f"xb-bench:{uuid.uuid4().hex}:"
    try:
        client.ping()
        probe = sa.create_engine(POSTGRES_URL)
        with probe.connect():
            pass
        probe.dispose()
    except (redis.RedisError, sa.exc.OperationalError) as error:
        print(f"Redis or PostgreSQL not reachable ({type(error).__name__}); skipped")
        return
    try:
        with tempfile.TemporaryDirectory() as work:
            local = RateLimiter(per_second=1e6, burst=10**6)
            shared = RedisRateLimiter(client, per_second=1e6, burst=10**6, prefix=key_prefix)
            shared.take("warm", "/m")
            print("rate limit take, in-process:", percentiles(timed(calls, lambda n: local.take(f"c{n % 1000}", "/m"))))
            print(
                "rate limit take, Redis:     ", percentiles(timed(calls, lambda n: shared.take(f"c{n % 1000}", "/m")))
            )

            batches = max(1, calls // 50)
            for name, store in (
                ("SQLite file", AuditStore(Path(work) / "audit.sqlite3")),
                ("PostgreSQL ", PostgresAuditStore(settings)),
            ):
                start = time.perf_counter()
                for b in range(batches):
                    store.append([call(b * 50 + i) for i in range(50)])
                elapsed = time.perf_counter() - start
                print(f"audit, batches of 50, {name}: {batches * 50 / elapsed:9.0f} calls/s stored")
                store.close()

            counters_file = PersonCounters(Path(work) / "persons.sqlite3")
            counters_pg = PostgresPersonCounters(settings)
            n_add = max(1, calls // 10)
            for name, counters in (("SQLite file", counters_file), ("PostgreSQL ", counters_pg)):

                def add(n: int, c: PersonCounters | PostgresPersonCounters = counters) -> None:
                    c.add(2026, "MC1", "PERSONAL", [f"{n}a", f"{n}b", f"{n}c"])

                samples = timed(n_add, add)
                print(f"person counters add (3 new), {name}:", percentiles(samples))
                counters.close()
    finally:
        for key in client.scan_iter(match=f"{key_prefix}*"):
            client.delete(key)
        client.close()
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{prefix}gateway" CASCADE')
        engine.dispose()


if __name__ == "__main__":
    main()
