"""The servers a benchmark measures, each startable in this process or in a child process.

Roles:
- `echo`: a bare grpcio server with one generic unary handler returning its request bytes (identity
  serializers, no interceptor), the same thread-pool size as our servers: the floor of what grpcio costs.
- `payments`: PaymentsService served by `services.shared.grpc_server.serve` on a real SQLite-backed context,
  reference data imported once.
- `gateway`: the gateway's gRPC front door and its REST app (uvicorn, in a thread, as the embedded platform
  runs it) in front of a payments server whose port is given.
- `platform_logistics`: every service embedded with a synthetic logistics catalogue and one REST gateway
  (benchmarks/bench_plan_match.py --gateway).
- `embedded`: payments and the gateway in one process, the layout `xborder up` runs (the front door calls
  the payments servicer in-process, and so does the REST app, as `services/embedded.py` wires them).

A child process reports its ports over a pipe, then serves until the parent sends anything on it.
Server logs go to a file: their cost is part of what is measured, their lines are not part of the output.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc

from services.shared.grpc_server import channel_options
from services.shared.settings import Settings

ECHO_METHOD = "/xborder.bench.v1.EchoService/Echo"

Ports = dict[str, Any]
"""role output: port numbers by name, plus `gateway_error` when the gateway could not start."""


def bench_settings(work_dir: Path) -> Settings:
    """The environment's settings (XB_GRPC_WORKERS etc.), on SQLite under work_dir, every port free."""
    base = Settings.from_env()
    return replace(
        base,
        var_dir=work_dir / "var",
        database_url=None,
        broker_url=None,
        db_schema_prefix="",
        host="127.0.0.1",
        # Payments' registrations also resolve compliance's address (the ledger's screening gate); nothing
        # listens there in a benchmark, and only payouts would call it.
        service_ports={"payments": 0, "compliance": base.service_ports["compliance"]},
        service_hosts={},
        gateway_grpc_port=0,
        gateway_http_port=0,
        metrics_port=0,
    )


def configure_logs(settings: Settings, log_file: Path) -> None:
    """Send this process's structured logs to log_file (structlog and logging bind the stream at configure)."""
    from services.shared.logs import configure

    log_file.parent.mkdir(parents=True, exist_ok=True)
    stream = log_file.open("a", buffering=1, encoding="utf-8")
    saved, sys.stderr = sys.stderr, stream
    try:
        configure(settings.log_level, json=settings.log_json)
    finally:
        sys.stderr = saved


@dataclass
class Started:
    ports: Ports = field(default_factory=dict)
    stops: list[Callable[[], None]] = field(default_factory=list)
    # Handlers of the services started in this process, which an embedded front door calls directly.
    local: dict[str, grpc.RpcMethodHandler] = field(default_factory=dict)

    def stop(self) -> None:
        for stop in reversed(self.stops):
            try:
                stop()
            except Exception:  # shutting down a benchmark: report, keep stopping the rest
                traceback.print_exc()


def start_echo(settings: Settings, started: Started) -> None:
    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "xborder.bench.v1.EchoService", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="grpc"),
        handlers=[handler],
        options=[*channel_options(settings), ("grpc.so_reuseport", 0)],
        maximum_concurrent_rpcs=settings.grpc_workers * 16,
    )
    port = server.add_insecure_port(f"{settings.host}:0")
    server.start()
    started.ports["echo"] = port

    def stop() -> None:
        server.stop(1).wait(2)

    started.stops.append(stop)


def start_payments(settings: Settings, started: Started) -> None:
    from services.payments import bootstrap
    from services.shared.bus import InProcessBus
    from services.shared.grpc_server import method_handlers, serve

    bus = InProcessBus()
    context = bootstrap.bootstrap(settings, bus)
    context.import_reference_data()
    context.relay.drain(timeout=5.0)
    running = serve(settings, bootstrap.registrations(context), bootstrap.GRPC_SERVICES, port=0)
    started.ports["payments"] = running.port
    started.local.update(method_handlers(bootstrap.registrations(context)))
    started.stops.append(context.close)
    started.stops.append(lambda: running.stop(grace=1.0))


def start_gateway(settings: Settings, payments_port: int, started: Started) -> None:
    """Front door and REST app routed to payments_port; on failure, record why instead of raising."""
    try:
        from gateway.app import create_app
        from gateway.front_door import serve_front_door
    except Exception as error:
        started.ports["gateway_error"] = f"gateway not importable: {type(error).__name__}: {error}"
        return
    settings = replace(settings, service_ports={"payments": payments_port})
    try:
        front = serve_front_door(settings, port=0, local=started.local, edge=bench_edge())
        started.stops.append(lambda: front.stop(grace=1.0))
        started.ports["gateway_grpc"] = front.port
        app = create_app(settings, started.local, edge=bench_edge())
        started.ports["gateway_http"] = start_uvicorn(app, settings.host, started)
    except Exception as error:
        started.ports["gateway_error"] = f"gateway did not start: {type(error).__name__}: {error}"


def start_uvicorn(app: Any, host: str, started: Started) -> int:
    """uvicorn in a thread on a socket bound here (port 0 without a race); returns the port."""
    import uvicorn

    # proto must be IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY on accepted connections only
    # when the listening socket says TCP, and without it every keep-alive response waits ~40 ms for a
    # delayed ACK (Nagle holds the body behind the headers).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bench-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start (see the server log)")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    started.stops.append(stop)
    port: int = sock.getsockname()[1]
    return port


def start_compliance_embedded(settings: Settings, started: Started) -> None:
    """Compliance (sanctions lists imported) and the gateway in one process, as `xborder up` runs them."""
    from gateway.app import create_app
    from gateway.front_door import serve_front_door
    from services.compliance import bootstrap
    from services.shared.bus import InProcessBus
    from services.shared.grpc_server import method_handlers, serve

    settings = replace(settings, service_ports={"compliance": 0})
    context = bootstrap.bootstrap(settings, InProcessBus())
    context.import_reference_data()
    context.relay.drain(timeout=5.0)
    bootstrap.screening_index(context).get()  # build the index before the first request is timed
    running = serve(settings, bootstrap.registrations(context), bootstrap.GRPC_SERVICES, port=0)
    started.stops.append(context.close)
    started.stops.append(lambda: running.stop(grace=1.0))
    started.ports["compliance"] = running.port
    started.local.update(method_handlers(bootstrap.registrations(context)))
    settings = replace(settings, service_ports={"compliance": running.port})
    front = serve_front_door(settings, port=0, local=started.local, edge=bench_edge())
    started.stops.append(lambda: front.stop(grace=1.0))
    started.ports["gateway_grpc"] = front.port
    app = create_app(settings, started.local, edge=bench_edge())
    started.ports["gateway_http"] = start_uvicorn(app, settings.host, started)


def bench_edge(*, audit: bool = True) -> Any:
    """The gateway's edge settings for a benchmark: no rate limits (one caller drives far above them)."""
    from gateway.edge_settings import EdgeSettings

    return EdgeSettings(audit=audit, rate_limit_per_s=0)


@dataclass
class OnboardedPlatform:
    """Every service embedded and seeded, with a demo merchant onboarded: what the gateways are built over."""

    platform: Any
    local: dict[str, grpc.RpcMethodHandler]
    merchant_code: str
    api_key: str


def onboarded_platform(settings: Settings, stops: list[Callable[[], None]], prepare: Any = None) -> OnboardedPlatform:
    """Boot, seed and serve every service in this process (`prepare(platform)` runs before the handlers are
    collected), onboard a demo merchant, and return the in-process handlers by method path."""
    from xborder.identity.v1 import identity_service_pb2 as identity_pb

    from services.embedded import Platform
    from services.identity.bootstrap import servicer
    from services.registry import SERVICES, bootstrap_module
    from services.shared.errors import Unavailable
    from services.shared.grpc_server import method_handlers

    platform = Platform(replace(settings, service_ports=dict.fromkeys(SERVICES, 0)))
    platform.boot()
    platform.seed()
    platform.serve()
    stops.append(platform.stop)
    if prepare is not None:
        prepare(platform)
    local = {
        path: handler
        for name, context in platform.contexts.items()
        for path, handler in method_handlers(bootstrap_module(name).registrations(context)).items()
    }
    request = identity_pb.OnboardMerchantRequest(
        request_id="bench",
        legal_name="Bench Trading GmbH",
        country="DE",
        contacts=[identity_pb.Contact(name="Erika Mustermann", email="erika@bench.example", role="business")],
    )
    for attempt in range(5):  # the first screening loads the lists; on a loaded machine it can time out
        try:
            onboarded = servicer(platform.contexts["identity"]).OnboardMerchant(
                request,
                None,  # type: ignore[arg-type]  # called in-process: the servicer does not use its context
            )
            break
        except Unavailable:
            if attempt == 4:
                raise
            time.sleep(5)
    return OnboardedPlatform(platform, local, onboarded.merchant.merchant_code, onboarded.secret)


def access_token(platform: Any, merchant_code: str) -> str:
    """A client-credentials access token (JWT) for the merchant, from a newly registered OAuth2 client."""
    from xborder.identity.v1 import access_service_pb2 as access_pb

    from services.identity.bootstrap import access_servicer

    access = access_servicer(platform.contexts["identity"])
    client = access.RegisterClient(
        access_pb.RegisterClientRequest(request_id="bench-client", merchant_code=merchant_code, label="bench"),
        None,  # type: ignore[arg-type]
    )
    return str(
        access.IssueAccessToken(
            access_pb.IssueAccessTokenRequest(client_id=client.client.client_id, client_secret=client.client_secret),
            None,  # type: ignore[arg-type]
        ).access_token
    )


def gateway_variants(settings: Settings, local: dict[str, grpc.RpcMethodHandler]) -> dict[str, Any]:
    """Four REST gateway apps over the same services: authentication, tenancy and the transfer rules with the
    audit log, the same without the audit log, without the transfer rules either, and none of them."""
    from gateway.app import create_app
    from gateway.transfer_guard import TransferSettings

    return {
        "gateway_http_audit": create_app(settings, local, edge=bench_edge(audit=True)),
        "gateway_http": create_app(settings, local, edge=bench_edge(audit=False)),
        "gateway_http_no_transfer": create_app(
            settings, local, edge=bench_edge(audit=False), transfer=TransferSettings(enabled=False)
        ),
        "gateway_http_open": create_app(settings, local, authenticate=False, edge=bench_edge(audit=False)),
    }


def start_platform_two_gateways(settings: Settings, started: Started) -> None:
    """Every service embedded, a demo merchant onboarded, and the four REST gateways of `gateway_variants`
    (`gateway_http_audit`, `gateway_http`, `gateway_http_no_transfer`, `gateway_http_open`) on their ports."""
    onboarded = onboarded_platform(settings, started.stops)
    started.ports["merchant_code"] = onboarded.merchant_code
    started.ports["api_key"] = onboarded.api_key
    started.ports["access_token"] = access_token(onboarded.platform, onboarded.merchant_code)
    for name, app in gateway_variants(onboarded.platform.settings, onboarded.local).items():
        started.ports[name] = start_uvicorn(app, onboarded.platform.settings.host, started)


def start_platform_logistics(settings: Settings, started: Started, options: dict[str, Any]) -> None:
    """Every service embedded, a demo merchant onboarded, the logistics catalogue replaced by the synthetic
    one of benchmarks/bench_plan_match.py (`channels`, `seed`), and one REST gateway with authentication,
    tenancy and the audit log (`gateway_http`)."""
    import random

    from benchmarks.bench_plan_match import load_catalogue, synthetic_catalogue
    from gateway.app import create_app

    def prepare(platform: Any) -> None:
        channels, sheets = synthetic_catalogue(int(options["channels"]), random.Random(int(options["seed"])))
        load_catalogue(platform.contexts["logistics"], channels, sheets)

    onboarded = onboarded_platform(settings, started.stops, prepare)
    started.ports["merchant_code"] = onboarded.merchant_code
    started.ports["api_key"] = onboarded.api_key
    app = create_app(onboarded.platform.settings, onboarded.local, edge=bench_edge(audit=True))
    started.ports["gateway_http"] = start_uvicorn(app, onboarded.platform.settings.host, started)


def start_role(role: str, settings: Settings, options: dict[str, Any]) -> Started:
    started = Started()
    try:
        if role == "echo":
            start_echo(settings, started)
        elif role == "payments":
            start_payments(settings, started)
        elif role == "gateway":
            start_gateway(settings, int(options["payments_port"]), started)
        elif role == "embedded":
            start_payments(settings, started)
            start_gateway(settings, started.ports["payments"], started)
        elif role == "compliance_embedded":
            start_compliance_embedded(settings, started)
        elif role == "platform_two_gateways":
            start_platform_two_gateways(settings, started)
        elif role == "platform_logistics":
            start_platform_logistics(settings, started, options)
        else:
            raise ValueError(f"unknown role {role!r}")
    except BaseException:
        started.stop()
        raise
    return started


def _child(role: str, work_dir: str, options: dict[str, Any], conn: Connection) -> None:
    try:
        settings = bench_settings(Path(work_dir))
        configure_logs(settings, Path(work_dir) / f"{role}.log")
        started = start_role(role, settings, options)
    except BaseException:
        conn.send({"error": traceback.format_exc()})
        return
    conn.send(started.ports)
    with contextlib.suppress(EOFError):  # EOF: the parent died, stop anyway
        conn.recv()
    started.stop()
    with contextlib.suppress(OSError):
        conn.send("stopped")


@dataclass
class ServerHandle:
    role: str
    ports: Ports
    _stop: Callable[[], None]
    pid: int | None = None

    def stop(self) -> None:
        self._stop()


def spawn(role: str, work_dir: Path, options: dict[str, Any] | None = None, *, timeout: float = 120) -> ServerHandle:
    """Start role in a fresh (spawned, not forked: grpcio does not survive fork) process."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(
        target=_child, args=(role, str(work_dir), options or {}, child), name=f"bench-{role}", daemon=True
    )
    process.start()
    child.close()
    if not parent.poll(timeout):
        process.kill()
        raise RuntimeError(f"{role} server did not report its ports within {timeout:.0f} s")
    try:
        ports = parent.recv()
    except EOFError:
        process.join(5)
        raise RuntimeError(f"{role} server exited with code {process.exitcode} before reporting its ports") from None
    if "error" in ports:
        process.join(5)
        raise RuntimeError(f"{role} server failed to start:\n{ports['error']}")

    def stop() -> None:
        try:
            parent.send("stop")
            parent.poll(15) and parent.recv()
        except (BrokenPipeError, EOFError):
            pass
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)

    return ServerHandle(role, ports, stop, process.pid)


def start_here(role: str, work_dir: Path, options: dict[str, Any] | None = None) -> ServerHandle:
    """Start role inside this process (the load generator's): shows what sharing its GIL costs."""
    settings = bench_settings(work_dir)
    configure_logs(settings, work_dir / "bench.log")
    started = start_role(role, settings, options or {})
    return ServerHandle(role, started.ports, started.stop)
