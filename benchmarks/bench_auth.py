"""What authentication and tenancy cost: the same merchant route with an API key, with an OAuth2 access
token (JWT) and with authentication off, same run; and what verifying each credential costs uncached.

One spawned child process runs the embedded platform (every service, SQLite) and three REST gateways over
the same in-process services: authentication, scope and tenancy checks (gateway/auth.py) with the audit
log (gateway/audit_log.py), the same without the audit log, and neither (`create_app(...,
authenticate=False)`); rate limits are off in all three. A demo merchant is onboarded. The route is
`GET /v1/merchants/{code}/balances`: merchant-scoped by its request field, so the on path verifies the key
(cached after the first call), checks the scope, checks the code against the caller's and screens the
answer. The three variants alternate in rounds, at 1 and 4 clients, so drift in the shared machine's load
falls on all. The JWT variant calls the same authenticated gateway with a client-credentials token
instead of the key (cached the same way after its first verification). Then, in this process, the cost of
one uncached verification: the API key's argon2id check against the JWT's signature and claims check
(what a cache miss adds). Prints req/s, p50/p99 and what authentication adds. It reports; it never fails
on a timing.

    .venv/bin/python -m benchmarks.bench_auth [--duration 4] [--rounds 2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.loadgen import Call, Result, run_closed_loop
from benchmarks.rawhttp import KeepAliveClient
from benchmarks.servers import spawn


def callers(port: int, path: str, headers: tuple[tuple[str, str], ...]) -> Callable[[], Call]:
    """A factory of callers, one keep-alive connection each."""
    return lambda: caller(port, path, headers)


def caller(port: int, path: str, headers: tuple[tuple[str, str], ...]) -> Call:
    client = KeepAliveClient("127.0.0.1", port)

    def call() -> None:
        status, body = client.get(path, headers)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]!r}")

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=2, help="on/off rounds per concurrency")
    parser.add_argument("--quick", action="store_true", help="1 s runs, one round")
    args = parser.parse_args()
    duration, rounds, warmup = (1.0, 1, 0.3) if args.quick else (args.duration, args.rounds, 1.0)
    print(f"bench_auth: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="xb-bench-auth-") as work:
        server = spawn("platform_two_gateways", Path(work), timeout=300)
        try:
            ports = server.ports
            path = f"/v1/merchants/{ports['merchant_code']}/balances"
            bearer = (("Authorization", f"Bearer {ports['api_key']}"),)
            jwt_bearer = (("Authorization", f"Bearer {ports['access_token']}"),)
            variants = {
                "auth + audit": (int(ports["gateway_http_audit"]), bearer),
                "auth on": (int(ports["gateway_http"]), bearer),
                "auth on, JWT": (int(ports["gateway_http"]), jwt_bearer),
                "auth off": (int(ports["gateway_http_open"]), ()),
            }
            results: dict[tuple[str, int], list[Result]] = {}
            for concurrency in (1, 4):
                for _ in range(rounds):
                    for label, (port, headers) in variants.items():
                        result = run_closed_loop(
                            label,
                            callers(port, path, headers),
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
    print(f"GET {path.replace(ports['merchant_code'], '{code}')}, {rounds} round(s) of {duration:.0f} s each")
    print("| variant | clients | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    summary: dict[tuple[str, int], tuple[float, float, float]] = {}
    for (label, concurrency), runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        summary[(label, concurrency)] = (rps, p50, p99)
        print(f"| {label} | {concurrency} | {rps:.0f} | {p50:.2f} | {p99:.2f} |")
    for concurrency in (1, 4):
        audited = summary[("auth + audit", concurrency)]
        on, off = summary[("auth on", concurrency)], summary[("auth off", concurrency)]
        print(
            f"{concurrency} client(s): auth adds p50 {on[1] - off[1]:+.2f} ms, p99 {on[2] - off[2]:+.2f} ms; "
            f"throughput on/off {on[0] / off[0]:.2f}; audit adds p50 {audited[1] - on[1]:+.2f} ms, "
            f"p99 {audited[2] - on[2]:+.2f} ms; throughput audit/auth {audited[0] / on[0]:.2f}"
        )
        token = summary[("auth on, JWT", concurrency)]
        print(
            f"{concurrency} client(s): JWT vs API key p50 {token[1] - on[1]:+.2f} ms, p99 {token[2] - on[2]:+.2f} ms; "
            f"throughput JWT/key {token[0] / on[0]:.2f}"
        )
    uncached_verification()
    return 0


def uncached_verification(samples: int = 200) -> None:
    """One verification without the gateway's cache: argon2id for a key, HS256 + claims for a JWT (the
    database reads both also make are left out: they are the same one or two primary-key reads)."""
    from datetime import UTC, datetime

    from services.identity.adapters.hashing import Argon2Hasher
    from services.identity.adapters.tokens import JwtSigner
    from services.identity.domain.clients import OAuthClient
    from services.identity.settings import IdentitySettings

    hasher, signer = Argon2Hasher(), JwtSigner(IdentitySettings())
    stored = hasher.hash("s" * 43)
    client = OAuthClient("xbc_0123456789abcdef", stored, "MC0000000000000000", "bench", ("a.read",), datetime.now(UTC))
    token, _ = signer.sign(client, ("a.read",), datetime.now(UTC))

    def timed(work: Callable[[], object], count: int) -> tuple[float, float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]

    key = timed(lambda: hasher.verify(stored, "s" * 43), max(20, samples // 10))
    jwt_check = timed(lambda: signer.verify(token), samples)
    print("| uncached verification | p50 ms | p99 ms |")
    print("|---|---|---|")
    print(f"| API key (argon2id m=19 MiB, t=2) | {key[0]:.2f} | {key[1]:.2f} |")
    print(f"| JWT (HS256, iss/aud/exp/nbf/kid) | {jwt_check[0]:.3f} | {jwt_check[1]:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
