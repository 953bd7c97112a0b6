"""What authentication, tenancy, the transfer rules and the audit log add to a request, counted in CPU time
so that other work on a shared machine does not blur it.

bench_auth measures the same gateways over loopback in wall-clock time; on a busy two-core machine its p99
differences drown in scheduling noise. Here the four gateway apps of `benchmarks.servers.gateway_variants`
(auth + transfer rules + audit, auth + transfer rules, auth only, none) run in this process over the same
embedded services, driven one request at a time through httpx's ASGI transport, and the variants take
turns request by request so that drift falls on all alike. Per request it records:

- the CPU time of the event-loop thread: the gateway's own work on the request path (routing, JSON <-> proto,
  and for the authenticated variants the cached credential lookup, scope, tenancy, transfer decisions and
  the audit enqueue). The service's own work runs on the backend pool's threads and is not in it;
- the wall time, for reference (it includes the backend and any preemption).

The audit log's writer thread chains and stores in batches off the request path; its CPU is reported per
request from the process's CPU over the whole run (the process total divided by the requests, by variant
in separate phases). Prints p50/p99 per variant and what each layer adds. It reports; it never fails on a
timing.

    .venv/bin/python -m benchmarks.bench_gateway_cpu [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.servers import bench_settings, configure_logs, gateway_variants, onboarded_platform

VARIANTS = {
    "auth + transfer + audit": "gateway_http_audit",
    "auth + transfer": "gateway_http",
    "auth only": "gateway_http_no_transfer",
    "none": "gateway_http_open",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def interleaved(
    clients: dict[str, httpx.AsyncClient], path: str, headers: dict[str, dict[str, str]], requests: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Each variant serves `requests` requests, in turns; per request the loop thread's CPU ms and wall ms."""
    samples: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in clients}
    labels = list(clients)
    for turn in range(requests):
        for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
            cpu0, wall0 = time.thread_time_ns(), time.perf_counter_ns()
            response = await clients[label].get(path, headers=headers[label])
            cpu, wall = time.thread_time_ns() - cpu0, time.perf_counter_ns() - wall0
            if response.status_code != 200:
                raise RuntimeError(f"{label}: HTTP {response.status_code}: {response.text[:200]}")
            samples[label][0].append(cpu / 1e6)
            samples[label][1].append(wall / 1e6)
    return samples


async def process_cpu_per_request(
    clients: dict[str, httpx.AsyncClient],
    path: str,
    headers: dict[str, dict[str, str]],
    requests: int,
    audits: dict[str, Any],
) -> dict[str, float]:
    """The whole process's CPU ms per request, one variant at a time, the audit writer's included (its queue
    is flushed to disk before the clock stops)."""
    per_request = {}
    for label, client in clients.items():
        cpu0 = time.process_time_ns()
        for _ in range(requests):
            await client.get(path, headers=headers[label])
        if audits[label] is not None:
            audits[label].flush()
        per_request[label] = (time.process_time_ns() - cpu0) / 1e6 / requests
    return per_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per variant (interleaved)")
    args = parser.parse_args()
    print(f"bench_gateway_cpu: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    stops: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="xb-bench-gw-cpu-") as work:
        settings = bench_settings(Path(work))
        configure_logs(settings, Path(work) / "platform.log")
        try:
            onboarded = onboarded_platform(settings, stops)
            apps = gateway_variants(onboarded.platform.settings, onboarded.local)
            path = f"/v1/merchants/{onboarded.merchant_code}/balances"
            bearer = {"Authorization": f"Bearer {onboarded.api_key}"}
            headers = {label: ({} if name == "gateway_http_open" else bearer) for label, name in VARIANTS.items()}
            samples, totals = asyncio.run(run(apps, path, headers, args.requests))
        finally:
            for stop in reversed(stops):
                stop()
    report(samples, totals, args.requests)
    return 0


async def run(
    apps: dict[str, Any], path: str, headers: dict[str, dict[str, str]], requests: int
) -> tuple[dict[str, tuple[list[float], list[float]]], dict[str, float]]:
    audits = {label: apps[name].state.audit for label, name in VARIANTS.items()}
    clients = {
        label: httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[name]), base_url="http://bench")
        for label, name in VARIANTS.items()
    }
    try:
        await interleaved(clients, path, headers, min(200, requests))  # warm the caches and lazy imports
        samples = await interleaved(clients, path, headers, requests)
        totals = await process_cpu_per_request(clients, path, headers, min(1000, requests), audits)
    finally:
        for client in clients.values():
            await client.aclose()
        for audit in audits.values():
            if audit is not None:
                audit.close()
    return samples, totals


def report(samples: dict[str, tuple[list[float], list[float]]], totals: dict[str, float], requests: int) -> None:
    print(f"GET /v1/merchants/{{code}}/balances, {requests} requests per variant, interleaved, API key cached")
    print("| variant | loop CPU p50 ms | loop CPU p99 ms | wall p50 ms | wall p99 ms | process CPU ms/request |")
    print("|---|---|---|---|---|---|")
    figures = {}
    for label, (cpu, wall) in samples.items():
        figures[label] = (statistics.median(cpu), percentile(cpu, 0.99))
        print(
            f"| {label} | {figures[label][0]:.3f} | {figures[label][1]:.3f} | {statistics.median(wall):.3f} | "
            f"{percentile(wall, 0.99):.3f} | {totals[label]:.3f} |"
        )
    base = figures["none"]
    for label in VARIANTS:
        if label == "none":
            continue
        p50, p99 = figures[label]
        print(
            f"{label} adds on the request path: CPU p50 {p50 - base[0]:+.3f} ms, p99 {p99 - base[1]:+.3f} ms; "
            f"process CPU per request {totals[label] - totals['none']:+.3f} ms "
            f"(ratio {totals[label] / totals['none']:.2f})"
        )


if __name__ == "__main__":
    sys.exit(main())
