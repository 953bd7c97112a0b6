"""What the cross-border transfer rules cost (gateway/transfer_guard.py, gateway/transfer_policy.py).

1. In-process, no network: one call's transfer step on a GetMerchant answer with three contacts, per
   scenario (no transfer; EEA -> CN masked; EEA -> CN allowed with SCCs on file; CN -> US with the person
   counters on), with the decision table cached as the gateway keeps it, against deciding every class on
   every call (no table) in the same run. p50/p99 in microseconds.
2. Through REST (unless --no-http): the platform with two gateways over the same in-process services, one
   with the transfer rules and one without (`TransferSettings(enabled=False)`), both authenticating. The
   route is `GET /v1/merchants/{code}` with `X-Transfer-Destination: CN`, so the EEA merchant's contacts are
   masked on the one and not on the other. The variants alternate in rounds at 1 and 4 clients.

It reports; it never fails on a timing.

    .venv/bin/python -m benchmarks.bench_transfer [--calls 20000] [--duration 4] [--rounds 2] [--quick] [--no-http]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml
from xborder.identity.v1 import identity_service_pb2 as identity_pb

from benchmarks.loadgen import Call, Result, run_closed_loop
from benchmarks.rawhttp import KeepAliveClient
from benchmarks.servers import spawn
from gateway.descriptors import discover
from gateway.transfer_counters import PersonCounters
from gateway.transfer_guard import Parties, TransferGuard, TransferSettings
from gateway.transfer_policy import Basis, Policy, PolicyRule

ROOT = Path(__file__).resolve().parents[1]


def seed_policy() -> Policy:
    document = yaml.safe_load((ROOT / "data/transfer_rules/v1.yaml").read_text())
    rules = tuple(
        PolicyRule(
            r["rule_id"],
            r["origin"],
            r["data_class"],
            r["destination"],
            r["action"],
            frozenset(r.get("any_of") or ()),
            frozenset(r.get("all_of") or ()),
            r.get("otherwise") or "BLOCK",
            int(r.get("min_persons") or 0),
        )
        for r in document["rules"]
    )
    return Policy(1, 1, rules, {g["name"]: frozenset(g["countries"]) for g in document["groups"]})


def answer(n: int) -> identity_pb.GetMerchantResponse:
    """A GetMerchant answer whose three contacts are persons never seen before (for each n)."""
    contacts = [
        identity_pb.Contact(name=f"Person {n}-{i}", email=f"p{n}-{i}@example.com", phone="+4930123", role="business")
        for i in range(3)
    ]
    merchant = identity_pb.Merchant(
        merchant_code="MC0000000000000001", legal_name="Bench GmbH", country="DE", contacts=contacts
    )
    return identity_pb.GetMerchantResponse(merchant=merchant)


def timed(step: Callable[[int], object], calls: int) -> tuple[float, float]:
    samples = []
    for n in range(calls):
        started = time.perf_counter_ns()
        step(n)
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def in_process(calls: int, work: Path) -> None:
    methods = {m.grpc_path: m for s in discover() for m in s.methods}
    method = methods["/xborder.identity.v1.IdentityService/GetMerchant"]
    policy = seed_policy()
    guard = TransferGuard(None, methods, TransferSettings(), PersonCounters(work / "persons.sqlite3"))  # type: ignore[arg-type]
    scc = (Basis("LB1", "STANDARD_CONTRACT", "*", date(2026, 1, 1), None),)
    scenarios = {
        "no transfer (DE -> DE)": (Parties("MC1", "DE", ("DE",)), ()),
        "masked (DE -> CN)": (Parties("MC1", "DE", ("CN",)), ()),
        "allowed with SCCs (DE -> CN)": (Parties("MC1", "DE", ("CN",)), scc),
        "counted persons (CN -> US)": (Parties("MC2", "CN", ("US",)), ()),
    }
    replies = [answer(n) for n in range(calls)]

    def uncached(parties: Parties, bases: tuple[Basis, ...]) -> Callable[[int], object]:
        def step(n: int) -> object:
            guard._tables.clear()  # what the step costs when every call decides every class again
            return guard.apply(method, policy, [(parties, bases)], replies[n])

        return step

    print(f"in-process, {calls} calls per scenario (GetMerchant answer, 3 contacts)")
    print("| scenario | cached table p50 us | p99 us | decide every call p50 us | p99 us |")
    print("|---|---|---|---|---|")
    offset = 0
    for label, (parties, bases) in scenarios.items():
        # New persons on every call in both variants, so both pay the same counting.
        fresh = [answer(offset + n) for n in range(calls)]
        p50, p99 = timed(lambda n: guard.apply(method, policy, [(parties, bases)], fresh[n]), calls)  # noqa: B023
        replies[:] = [answer(offset + calls + n) for n in range(calls)]
        n50, n99 = timed(uncached(parties, bases), calls)
        offset += 2 * calls
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {n50:.1f} | {n99:.1f} |")
    guard.close()


def caller(port: int, path: str, headers: tuple[tuple[str, str], ...]) -> Call:
    client = KeepAliveClient("127.0.0.1", port)

    def call() -> None:
        status, body = client.get(path, headers)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]!r}")

    return call


def through_rest(duration: float, rounds: int, warmup: float, work: Path) -> int:
    server = spawn("platform_two_gateways", work, timeout=300)
    try:
        ports = server.ports
        path = f"/v1/merchants/{ports['merchant_code']}"
        headers = (("Authorization", f"Bearer {ports['api_key']}"), ("X-Transfer-Destination", "CN"))
        variants = {
            "transfer rules on": int(ports["gateway_http"]),
            "transfer rules off": int(ports["gateway_http_no_transfer"]),
        }
        results: dict[tuple[str, int], list[Result]] = {}
        for concurrency in (1, 4):
            for _ in range(rounds):
                for label, port in variants.items():
                    result = run_closed_loop(
                        label,
                        lambda port=port: caller(port, path, headers),  # type: ignore[misc]
                        concurrency=concurrency,
                        warmup_s=warmup,
                        duration_s=duration,
                    )
                    if not result.ok or result.errors:
                        print(f"{label} x{concurrency}: failed: {result.first_error}", file=sys.stderr)
                        return 1
                    results.setdefault((label, concurrency), []).append(result)
    finally:
        server.stop()
    print(f"GET /v1/merchants/{{code}} with X-Transfer-Destination: CN, {rounds} round(s) of {duration:.0f} s each")
    print("| variant | clients | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    summary = {}
    for (label, concurrency), runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        summary[(label, concurrency)] = (rps, p50, p99)
        print(f"| {label} | {concurrency} | {rps:.0f} | {p50:.2f} | {p99:.2f} |")
    for concurrency in (1, 4):
        on, off = summary[("transfer rules on", concurrency)], summary[("transfer rules off", concurrency)]
        print(
            f"{concurrency} client(s): transfer rules add p50 {on[1] - off[1]:+.2f} ms, p99 {on[2] - off[2]:+.2f} ms; "
            f"throughput on/off {on[0] / off[0]:.2f}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000, help="in-process calls per scenario")
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per HTTP run")
    parser.add_argument("--rounds", type=int, default=2, help="on/off rounds per concurrency")
    parser.add_argument("--quick", action="store_true", help="2,000 calls, 1 s runs, one round")
    parser.add_argument("--no-http", action="store_true", help="only the in-process part")
    args = parser.parse_args()
    calls, duration, rounds, warmup = (
        (2_000, 1.0, 1, 0.3) if args.quick else (args.calls, args.duration, args.rounds, 1.0)
    )
    print(f"bench_transfer: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="xb-bench-transfer-") as work:
        in_process(calls, Path(work))
        if args.no_http:
            return 0
        return through_rest(duration, rounds, warmup, Path(work) / "platform")


if __name__ == "__main__":
    sys.exit(main())
