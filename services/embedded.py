"""The embedded platform: every service, the gateway and an in-process event bus in one process.

SQLite files under var/, no broker, no database server (docs/architecture.md: process model). The same
handlers, servers and gateway run as in the distributed deployment; only the bus and engine differ.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from services.registry import SERVICES, bootstrap_module, subscriptions
from services.shared.bus import EventBus, InProcessBus
from services.shared.context import ServiceContext
from services.shared.errors import ConfigurationError
from services.shared.grpc_server import RunningServer, method_handlers, serve
from services.shared.logs import get_logger
from services.shared.periodic import PeriodicTask
from services.shared.refdata import ImportResult, Progress
from services.shared.settings import Settings

log = get_logger(__name__)


def subscribe_all(bus: InProcessBus, contexts: dict[str, ServiceContext]) -> None:
    """Wire the topology's subscriptions of the services in `contexts` to the in-process bus, as the nameko
    workers do on AMQP."""
    handlers: dict[str, dict[str, Callable[[dict[str, Any]], None]]] = {}
    for subscription in subscriptions():
        consumer = subscription.consumer_service
        if consumer not in contexts:
            continue
        if consumer not in handlers:
            handlers[consumer] = bootstrap_module(consumer).event_handlers(contexts[consumer])
        bus.subscribe(
            subscription.source_service,
            subscription.event_type,
            f"{consumer}.{subscription.method_name}",
            handlers[consumer][subscription.method_name],
        )


class PortInUse(ConfigurationError):
    """A port the platform would listen on is taken (found before anything is migrated, seeded or served)."""


def listening_ports(settings: Settings) -> list[tuple[str, int, str]]:
    """(what listens, port, the variable that moves it) for every port the embedded platform binds."""
    ports = [
        ("gateway HTTP", settings.gateway_http_port, "XB_GATEWAY_HTTP_PORT"),
        ("gateway gRPC", settings.gateway_grpc_port, "XB_GATEWAY_GRPC_PORT"),
    ]
    ports += [(f"{name} gRPC", settings.service_ports[name], f"XB_{name.upper()}_PORT") for name in SERVICES]
    return ports


def check_ports_free(settings: Settings) -> None:
    """Raise PortInUse naming the first port that is configured twice or that another process holds."""
    claimed: dict[int, str] = {}
    for what, port, variable in listening_ports(settings):
        if port == 0:  # the system picks a free one
            continue
        if port in claimed:
            raise PortInUse(f"port {port} is set for both {claimed[port]} and {what}: set {variable} to another port")
        claimed[port] = what
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            # As the servers bind: a port in TIME_WAIT is free, one with a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.host, port))
            except OSError as error:
                raise PortInUse(
                    f"port {port} ({what}) on {settings.host} is not available ({error.strerror}); another "
                    f"platform may be running: stop it or set {variable} to another port"
                ) from None


@dataclass
class Platform:
    settings: Settings
    bus: EventBus = field(default_factory=InProcessBus)
    contexts: dict[str, ServiceContext] = field(default_factory=dict)
    servers: dict[str, RunningServer] = field(default_factory=dict)
    _http: Any = None
    timers: list[PeriodicTask] = field(default_factory=list)

    def boot(self) -> None:
        """Create engines, run migrations, wire consumers (nothing served yet)."""
        for name in SERVICES:
            self.contexts[name] = bootstrap_module(name).bootstrap(self.settings, self.bus)
        if isinstance(self.bus, InProcessBus):
            subscribe_all(self.bus, self.contexts)

    def seed(self, progress: Progress | None = None) -> list[ImportResult]:
        """What a start does: import the shipped files, never over a version ops imported; seed content."""
        results: list[ImportResult] = []
        for context in self.contexts.values():
            results.extend(context.import_reference_data(progress, at_start=True))
        seed_content(self.contexts)
        return results

    def serve(self, *, service_port_override: dict[str, int] | None = None) -> None:
        """Start relays and every gRPC server; ports come from settings (0 picks a free one)."""
        for context in self.contexts.values():
            context.relay.start()
        ports = dict(self.settings.service_ports)
        ports.update(service_port_override or {})
        for name, context in self.contexts.items():
            module = bootstrap_module(name)
            self.servers[name] = serve(
                self.settings, module.registrations(context), module.GRPC_SERVICES, port=ports[name]
            )
        # The gateway must reach the ports actually bound (they differ when 0 was asked for).
        self.settings = _with_ports(self.settings, {n: s.port for n, s in self.servers.items()})
        for context in self.contexts.values():  # a service calling another (identity screens) reaches its port
            context.settings = self.settings
        # The nameko workers' @timer entrypoints, as threads (a service opts in with periodic_tasks()).
        for name, context in self.contexts.items():
            periodic = getattr(bootstrap_module(name), "periodic_tasks", None)
            for task_name, interval, task in periodic(context) if periodic else ():
                timer = PeriodicTask(f"{name}.{task_name}", interval, task)
                timer.start()
                self.timers.append(timer)

    def start_gateway(self, *, http: bool = True) -> None:
        from gateway.front_door import serve_front_door

        # The services run in this process: the front door calls their servicers without a loopback hop.
        local = {
            path: handler
            for name, context in self.contexts.items()
            for path, handler in method_handlers(bootstrap_module(name).registrations(context)).items()
        }
        self.servers["gateway"] = serve_front_door(self.settings, port=self.settings.gateway_grpc_port, local=local)
        if http:
            import uvicorn

            from gateway.app import create_app

            config = uvicorn.Config(
                create_app(self.settings, local),
                host=self.settings.host,
                port=self.settings.gateway_http_port,
                log_config=None,
                access_log=False,
            )
            self._http = uvicorn.Server(config)

    def run_http(self) -> None:
        """Serve HTTP in this thread until SIGINT/SIGTERM (uvicorn installs the handlers)."""
        if self._http is None:
            raise RuntimeError("start_gateway(http=True) first")
        self._http.run()

    def stop(self) -> None:
        if self._http is not None:
            self._http.should_exit = True
        for timer in self.timers:
            timer.stop()
        for server in self.servers.values():
            server.stop(grace=2.0)
        for context in self.contexts.values():
            context.relay.drain(timeout=2.0)
            context.close()
        self.bus.close()


def seed_content(contexts: dict[str, ServiceContext]) -> None:
    """Content a service ships beyond reference data (compliance: the rule library), via its `seed()`."""
    for name, context in contexts.items():
        seed = getattr(bootstrap_module(name), "seed", None)
        if seed is not None:
            seed(context)


def _with_ports(settings: Settings, ports: dict[str, int]) -> Settings:
    merged = dict(settings.service_ports)
    merged.update({name: port for name, port in ports.items() if name in merged})
    return replace(settings, service_ports=merged)
