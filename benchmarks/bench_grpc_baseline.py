"""What the gateway costs: a bare grpcio echo vs a service RPC vs the same RPC through the gateway.

Four paths, each at 1 and 16 concurrent clients, in one run, all on 127.0.0.1:
  echo          bare grpcio server, generic unary handler returning its bytes (the floor)
  service       PaymentsService.GetCurrency(code="JPY") on the real server (SQLite, interceptor)
  gateway-grpc  the same RPC through the gateway's gRPC front door
  gateway-rest  GET /v1/currencies/JPY through the gateway's REST app (uvicorn)

Servers run in child processes (spawned) so the load generator's GIL does not slow them; with 2 cores the
client still takes CPU the servers could use, which the cpu columns show. Prints req/s, p50/p99, the ratio
to the bare echo and the p50 each gateway path adds to the direct service RPC, then the two targets:
the gRPC front door keeps >= 50% of the echo throughput, the REST path adds < 2 ms p50.
It reports; it never fails on a timing (exit 0 unless the run itself breaks).

    .venv/bin/python benchmarks/bench_grpc_baseline.py [--duration 3] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from benchmarks.loadgen import Call, Result, run_closed_loop
from benchmarks.rawhttp import HttpError, KeepAliveClient
from benchmarks.servers import ECHO_METHOD, ServerHandle, spawn, start_here

GRPC_TARGET_RATIO = 0.50
REST_TARGET_ADDED_P50_MS = 2.0
REST_PATH = "/v1/currencies/JPY"
PATHS = ("echo", "service", "gateway-grpc", "gateway-rest")


@dataclass
class Target:
    name: str
    make_call: Callable[[], Call]
    pids: tuple[int, ...]  # the server processes whose CPU the path burns (none: servers run in this process)


@dataclass
class Cell:
    result: Result
    client_cpu: float  # fraction of one core used by this (load generator) process
    server_cpu: float | None  # cores used by the server processes on the path, when they are separate ones


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(path: Target, concurrency: int, warmup: float, duration: float) -> Cell:
    server_before = sum(process_cpu_seconds(pid) for pid in path.pids)
    client_before, wall_before = own_cpu_seconds(), time.perf_counter()
    result = run_closed_loop(path.name, path.make_call, concurrency=concurrency, warmup_s=warmup, duration_s=duration)
    wall = time.perf_counter() - wall_before
    client = (own_cpu_seconds() - client_before) / wall
    server = (sum(process_cpu_seconds(pid) for pid in path.pids) - server_before) / wall if path.pids else None
    return Cell(result, client, server)


def pids(*handles: ServerHandle) -> tuple[int, ...]:
    return tuple(sorted({h.pid for h in handles if h.pid is not None}))


def grpc_paths(
    handles: dict[str, ServerHandle], metadata: Sequence[tuple[str, str]], channels: list[grpc.Channel]
) -> list[Target]:
    def channel(port: int) -> grpc.Channel:
        made = grpc.insecure_channel(f"127.0.0.1:{port}")
        channels.append(made)
        return made

    request = pb.GetCurrencyRequest(code="JPY")
    payments = handles["payments"]
    service_stub = pb_grpc.PaymentsServiceStub(channel(payments.ports["payments"]))
    answer = service_stub.GetCurrency(request, timeout=10)
    if answer.currency.code != "JPY":
        raise RuntimeError(f"GetCurrency(JPY) answered {answer!r}")
    # The echo carries the service's reply bytes both ways: same payload size, none of the work.
    payload = answer.SerializeToString()
    echo = channel(handles["echo"].ports["echo"]).unary_unary(ECHO_METHOD, None, None)  # bytes both ways

    def echo_call() -> Call:
        return lambda: echo(payload, timeout=10)

    def service_call() -> Call:
        return lambda: service_stub.GetCurrency(request, timeout=10)

    paths = [Target("echo", echo_call, pids(handles["echo"])), Target("service", service_call, pids(payments))]
    gateway = handles.get("gateway")
    if gateway is not None and "gateway_grpc" in gateway.ports:
        front_stub = pb_grpc.PaymentsServiceStub(channel(gateway.ports["gateway_grpc"]))

        def front_call() -> Call:
            return lambda: front_stub.GetCurrency(request, timeout=10, metadata=metadata)

        paths.append(Target("gateway-grpc", front_call, pids(gateway, payments)))
    return paths


def rest_path(gateway: ServerHandle, payments: ServerHandle, headers: Sequence[tuple[str, str]], client: str) -> Target:
    port = gateway.ports["gateway_http"]

    def raw_call() -> Call:
        connection = KeepAliveClient("127.0.0.1", port)

        def call() -> None:
            status, body = connection.get(REST_PATH, headers)
            if status != 200:
                raise HttpError(f"HTTP {status}: {body[:300]!r}")

        return call

    def httpx_call() -> Call:
        import httpx

        session = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=list(headers), timeout=10)

        def call() -> None:
            response = session.get(REST_PATH)
            if response.status_code != 200:
                raise HttpError(f"HTTP {response.status_code}: {response.text[:300]!r}")

        return call

    return Target("gateway-rest", raw_call if client == "raw" else httpx_call, pids(gateway, payments))


def start_servers(args: argparse.Namespace, work_dir: Path) -> dict[str, ServerHandle]:
    start = (
        (lambda role, options=None: start_here(role, work_dir / role, options))
        if args.same_process
        else (lambda role, options=None: spawn(role, work_dir / role, options))
    )
    handles: dict[str, ServerHandle] = {}
    try:
        handles["echo"] = start("echo")
        if args.no_gateway:
            handles["payments"] = start("payments")
        elif args.layout == "embedded":
            # One process for payments and the gateway, as `xborder up` runs them.
            handles["payments"] = handles["gateway"] = start("embedded")
        else:
            handles["payments"] = start("payments")
            handles["gateway"] = start("gateway", {"payments_port": handles["payments"].ports["payments"]})
    except BaseException:
        stop_servers(handles)
        raise
    return handles


def stop_servers(handles: dict[str, ServerHandle]) -> None:
    seen: set[int] = set()
    for handle in reversed(list(handles.values())):
        if id(handle) not in seen:
            seen.add(id(handle))
            handle.stop()


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


def print_machine(args: argparse.Namespace) -> dict[str, Any]:
    import uvicorn

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    machine = {
        "cpus": affinity,
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "uvicorn": uvicorn.__version__,
        "platform": platform.platform(),
        "layout": "same process" if args.same_process else f"child processes ({args.layout})",
        "http_client": args.http_client,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
    }
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()))
    load = os.getloadavg()[0]
    machine["loadavg_1m_before"] = round(load, 2)
    if affinity and load > affinity / 2:
        print(
            f"warning: 1-minute load average is {load:.1f} on {affinity} cpus before the run: other processes "
            "are competing for the CPU, so these figures understate what the code can do"
        )
    return machine


def print_table(cells: list[Cell]) -> None:
    echo = {c.result.concurrency: c.result for c in cells if c.result.label == "echo" and c.result.ok}
    service = {c.result.concurrency: c.result for c in cells if c.result.label == "service" and c.result.ok}
    header = (
        f"{'path':<13} {'conc':>4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'x echo':>7} {'x svc':>6} "
        f"{'+p50 vs svc':>11} {'cli cpu':>7} {'srv cpu':>7} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for cell in cells:
        r = cell.result
        base, svc = echo.get(r.concurrency), service.get(r.concurrency)
        gateway = r.label.startswith("gateway")
        to_echo = r.rps / base.rps if base and r.ok else None
        to_service = r.rps / svc.rps if svc and r.ok and gateway else None
        added = r.p50_ms - svc.p50_ms if svc and r.ok and gateway else None
        server_cpu = None if cell.server_cpu is None else cell.server_cpu * 100
        print(
            f"{r.label:<13} {r.concurrency:>4} {fmt(r.rps if r.ok else None, ',.0f'):>8} "
            f"{fmt(r.p50_ms, '.2f'):>7} {fmt(r.p99_ms, '.2f'):>7} {fmt(to_echo, '.2f'):>7} "
            f"{fmt(to_service, '.2f'):>6} {fmt(added, '+.2f'):>11} {fmt(cell.client_cpu * 100, '.0f') + '%':>7} "
            f"{fmt(server_cpu, '.0f') + '%':>7} {r.errors:>6}"
        )
        if r.first_error:
            print(f"    first error: {r.first_error}")
    print(
        "x echo / x svc: throughput relative to the bare echo / the direct service RPC at the same concurrency;"
        "\ncpu: % of one core, load generator (cli) and the server processes on the path (srv)"
    )


def print_targets(cells: list[Cell], concurrency: Sequence[int]) -> list[dict[str, Any]]:
    by = {(c.result.label, c.result.concurrency): c.result for c in cells if c.result.ok}
    checks: list[dict[str, Any]] = []
    print("\ntargets:")
    high, low = max(concurrency), min(concurrency)
    echo, front = by.get(("echo", high)), by.get(("gateway-grpc", high))
    if echo and front:
        ratio = front.rps / echo.rps
        verdict = "PASS" if ratio >= GRPC_TARGET_RATIO else "MISS"
        print(
            f"  {verdict}  gateway gRPC keeps >= {GRPC_TARGET_RATIO:.0%} of bare echo throughput at {high} "
            f"clients: {front.rps:,.0f} / {echo.rps:,.0f} req/s = {ratio:.0%}"
        )
        checks.append({"target": "grpc_throughput_ratio", "concurrency": high, "value": ratio, "verdict": verdict})
        if service := by.get(("service", high)):
            print(
                f"        (the direct service RPC itself makes {service.rps / echo.rps:.0%} of the echo; the front "
                f"door keeps {front.rps / service.rps:.0%} of the service's throughput)"
            )
    else:
        print("  n/a   gateway gRPC throughput: not measured")
    svc, rest = by.get(("service", low)), by.get(("gateway-rest", low))
    if svc and rest:
        added = rest.p50_ms - svc.p50_ms
        verdict = "PASS" if added < REST_TARGET_ADDED_P50_MS else "MISS"
        clients = f"{low} client{'s' if low > 1 else ''}"
        print(
            f"  {verdict}  gateway REST adds < {REST_TARGET_ADDED_P50_MS:g} ms p50 at {clients}: "
            f"{rest.p50_ms:.2f} - {svc.p50_ms:.2f} = {added:+.2f} ms"
        )
        checks.append({"target": "rest_added_p50_ms", "concurrency": low, "value": added, "verdict": verdict})
    else:
        print("  n/a   gateway REST added p50: not measured")
    return checks


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per cell (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5, help="unrecorded seconds before each cell")
    parser.add_argument("--quick", action="store_true", help="1 s per cell, 0.3 s warm-up")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client counts (default 1,16)")
    parser.add_argument(
        "--layout",
        choices=("embedded", "split"),
        default="embedded",
        help="embedded: payments and gateway share a process (xborder up); split: one each",
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run the servers inside the load generator's process (to see its GIL's cost)",
    )
    parser.add_argument(
        "--http-client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: minimal keep-alive socket client per thread (default); httpx: httpx.Client",
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME: VALUE",
        help="sent on gateway calls (HTTP header and gRPC metadata), e.g. credentials",
    )
    parser.add_argument("--no-gateway", action="store_true", help="measure only echo and the service")
    parser.add_argument(
        "--only",
        default="",
        metavar="PATH,...",
        help=f"measure only these paths ({', '.join(PATHS)}); e.g. to profile one under py-spy",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 1.0, 0.3
    args.concurrency = sorted({int(n) for n in args.concurrency.split(",")})
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    if args.only - set(PATHS):
        parser.error(f"--only takes {', '.join(PATHS)}; got {', '.join(sorted(args.only - set(PATHS)))}")
    if args.duration <= 0 or args.warmup < 0 or min(args.concurrency) < 1:
        parser.error("--duration must be > 0, --warmup >= 0 and every concurrency >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    headers = []
    for raw in args.header:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            print(f"--header must be 'Name: value', got {raw!r}", file=sys.stderr)
            return 2
        headers.append((name.strip(), value.strip()))
    metadata = [(name.lower(), value) for name, value in headers]

    machine = print_machine(args)
    work_dir = Path(tempfile.mkdtemp(prefix="xb-bench-"))
    started = time.perf_counter()
    handles: dict[str, ServerHandle] = {}
    channels: list[grpc.Channel] = []
    try:
        handles = start_servers(args, work_dir)
        gateway = handles.get("gateway")
        if gateway is not None and "gateway_error" in gateway.ports:
            print(f"gateway: not measured ({gateway.ports['gateway_error']})")
        paths = grpc_paths(handles, metadata, channels)
        if gateway is not None and "gateway_http" in gateway.ports:
            paths.append(rest_path(gateway, handles["payments"], headers, args.http_client))
        if args.only:
            paths = [path for path in paths if path.name in args.only]
        pids = {name: h.pid for name, h in handles.items() if h.pid}
        print(f"server pids: {', '.join(f'{name}={pid}' for name, pid in pids.items()) or 'this process'}")
        print(
            f"servers up in {time.perf_counter() - started:.1f} s; "
            f"{len(paths)} paths x {len(args.concurrency)} concurrency levels x "
            f"{args.warmup + args.duration:g} s\n"
        )
        cells = [measure(path, n, args.warmup, args.duration) for n in args.concurrency for path in paths]
    finally:
        for channel in channels:
            channel.close()
        stop_servers(handles)
    print_table(cells)
    checks = print_targets(cells, args.concurrency)
    logs = sorted(work_dir.rglob("*.log"))
    machine["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    print(
        f"\nrun took {time.perf_counter() - started:.0f} s (load average {machine['loadavg_1m_after']:.1f}); "
        "server logs: "
        f"{', '.join(f'{p.name} ({sum(1 for _ in p.open())} lines)' for p in logs) or 'none'}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "cells": [
                        {
                            "path": c.result.label,
                            "concurrency": c.result.concurrency,
                            "rps": c.result.rps,
                            "p50_ms": c.result.p50_ms,
                            "p99_ms": c.result.p99_ms,
                            "requests": c.result.requests,
                            "errors": c.result.errors,
                            "client_cpu": c.client_cpu,
                            "server_cpu": c.server_cpu,
                            "first_error": c.result.first_error,
                        }
                        for c in cells
                    ],
                    "targets": checks,
                },
                indent=2,
            )
        )
    shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
