"""Quote + convert round trip through the gateway (REST), against a GetReferenceRate round trip in the same run.

One spawned child process runs payments (SQLite) and the gateway (the "embedded" role of servers.py). This
process enters an ops rate and funds merchant wallets in the same SQLite files, then, at 1 and 4 clients:
  reference      GET  /v1/fx/reference-rates?base=USD&quote=CNY&date=2024-03-15   (read, the baseline)
  quote          POST /v1/fx/quotes                                                 (chain + spread + insert)
  quote+convert  POST /v1/fx/quotes, then POST /v1/fx/quotes/{code}:convert        (adds the ledger posting)
Prints req/s, p50/p99 in ms and each path's p50 as a multiple of the baseline. It reports; it never fails on
a timing.

    .venv/bin/python -m benchmarks.bench_fx_quotes [--duration 4] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import httpx

from benchmarks.loadgen import Call, Result, run_closed_loop
from benchmarks.servers import bench_settings, spawn

_ids = itertools.count()


def prepare(work_dir: Path, merchants: int) -> list[str]:
    """An ops USD/CNY rate for the whole run and `merchants` USD wallets with plenty in them."""
    from services.payments import bootstrap
    from services.payments.fx.service_layer import desk as fx
    from services.payments.ledger import service_layer as lh
    from services.payments.ledger.domain import AccountKind, PostTransaction, Transfer
    from services.shared import codes
    from services.shared.bus import InProcessBus
    from services.shared.money import Money

    context = bootstrap.bootstrap(bench_settings(work_dir), InProcessBus())
    try:
        fx.set_ops_rate(bootstrap.fx_desk(context), "USD", "CNY", Decimal("7.1234"), 120, "bench")
        clearing = lh.open_account(context.uow, lh.OpenAccount("BENCHPSP", AccountKind.CLEARING, "USD"))
        owners = []
        for _ in range(merchants):
            owner = codes.generate("MC")
            wallet = lh.open_account(context.uow, lh.OpenAccount(owner, AccountKind.MERCHANT_AVAILABLE, "USD"))
            funding = Transfer(clearing.code, wallet.code, Money.of("100000000.00", "USD"), "funding")
            lh.post_transaction(context.uow, PostTransaction(f"bench-fund-{owner}", (funding,), "adjustment"))
            owners.append(owner)
        return owners
    finally:
        context.close()


def client(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)


def expect(response: httpx.Response) -> dict:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


def reference_call(port: int) -> Call:
    session = client(port)

    def call() -> None:
        expect(session.get("/v1/fx/reference-rates", params={"base": "USD", "quote": "CNY", "date": "2024-03-15"}))

    return call


def quote(session: httpx.Client, merchant: str) -> dict:
    body = {
        "merchantCode": merchant,
        "sellCurrency": "USD",
        "buyCurrency": "CNY",
        "sellAmount": {"currencyCode": "USD", "units": "100"},
        "lockSeconds": 60,
    }
    return expect(
        session.post("/v1/fx/quotes", json=body, headers={"Idempotency-Key": f"bq-{os.getpid()}-{next(_ids)}"})
    )


def quote_call(port: int, merchants: list[str]) -> Call:
    session, merchant = client(port), merchants.pop()

    def call() -> None:
        quote(session, merchant)

    return call


def round_trip_call(port: int, merchants: list[str]) -> Call:
    session, merchant = client(port), merchants.pop()

    def call() -> None:
        code = quote(session, merchant)["code"]
        expect(
            session.post(
                f"/v1/fx/quotes/{code}:convert",
                json={"merchantCode": merchant},
                headers={"Idempotency-Key": f"bc-{os.getpid()}-{next(_ids)}"},
            )
        )

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per cell")
    parser.add_argument("--quick", action="store_true", help="1 s cells")
    args = parser.parse_args()
    duration, warmup = (1.0, 0.3) if args.quick else (args.duration, 1.0)
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory(prefix="bench-fx-") as tmp:
        work_dir = Path(tmp) / "embedded"
        server = spawn("embedded", work_dir)
        try:
            port = server.ports["gateway_http"]
            merchants = prepare(work_dir, merchants=16)
            rows: list[tuple[str, int, Result]] = []
            for concurrency in (1, 4):
                for label, make in (
                    ("reference", lambda: reference_call(port)),
                    ("quote", lambda: quote_call(port, merchants)),
                    ("quote+convert", lambda: round_trip_call(port, merchants)),
                ):
                    result = run_closed_loop(label, make, concurrency=concurrency, warmup_s=warmup, duration_s=duration)
                    rows.append((label, concurrency, result))
                    if result.first_error:
                        print(f"  {label} x{concurrency}: first error: {result.first_error}")
        finally:
            server.stop()
    print(f"\n{'path':<15}{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'p50 / reference':>18}")
    baseline = {c: r.p50_ms for label, c, r in rows if label == "reference"}
    for label, concurrency, result in rows:
        ratio = result.p50_ms / baseline[concurrency] if baseline.get(concurrency) else float("nan")
        print(
            f"{label:<15}{concurrency:>8}{result.rps:>10.0f}{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}{ratio:>17.2f}x"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
