"""The event worker: runs a consuming service's nameko service (see services/worker/__main__.py).

Imported only after eventlet's monkey patching in a worker process; tests import it for the checks below.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

import eventlet
from kombu import Connection
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.runners import ServiceRunner

from services import registry
from services.registry import SERVICES
from services.shared.errors import ConfigurationError
from services.shared.logs import configure, get_logger
from services.shared.settings import Settings, mask_url
from services.shared.topology import Subscription, declare, for_consumer

DEFAULT_MAX_WORKERS = 10
TOPOLOGY_CONNECT_RETRIES = 10  # ~40 s with kombu's back-off: the broker may still be starting (compose, k8s)


def nameko_config(settings: Settings, max_workers: int = DEFAULT_MAX_WORKERS) -> dict[str, Any]:
    if not settings.broker_url:
        raise ConfigurationError(
            "XB_BROKER_URL is required to run an event worker (e.g. amqp://guest:guest@127.0.0.1:5672//)"
        )
    return {"AMQP_URI": settings.broker_url, "serializer": "json", "ACCEPT": ["json"], "max_workers": max_workers}


def service_class(name: str) -> type:
    """The nameko service class in services/<name>/entrypoints/events.py whose `name` is `name`."""
    if name not in SERVICES:
        raise ConfigurationError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    module_name = f"services.{name}.entrypoints.events"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigurationError(f"service {name!r} consumes no events (no {module_name})") from None
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__ and getattr(value, "name", None) == name:
            return value
    raise ConfigurationError(f"{module_name} defines no nameko service named {name!r}")


def declared_subscriptions(service_cls: type) -> set[Subscription]:
    """The subscriptions a nameko service's @event_handler methods declare (queue names follow from them)."""
    found: set[Subscription] = set()
    for method_name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, method_name), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if not isinstance(entrypoint, EventHandler):
                continue
            if entrypoint.handler_type != SERVICE_POOL or not entrypoint.reliable_delivery:
                raise ConfigurationError(
                    f"{service_cls.__name__}.{method_name}: event handlers must use "
                    "handler_type=SERVICE_POOL and reliable_delivery=True (topology.py)"
                )
            found.add(
                Subscription(
                    entrypoint.source_service,
                    entrypoint.event_type,
                    service_cls.name,  # type: ignore[attr-defined]
                    method_name,
                )
            )
    return found


def check_topology(service_cls: type, subscriptions: Sequence[Subscription] | None = None) -> None:
    """Refuse to start when handlers and subscriptions disagree: a queue would fill up unread, or be missing."""
    listed = registry.subscriptions() if subscriptions is None else subscriptions
    expected = set(for_consumer(service_cls.name, listed))  # type: ignore[attr-defined]
    actual = declared_subscriptions(service_cls)
    if expected != actual:
        missing = ", ".join(sorted(s.queue_name for s in expected - actual)) or "none"
        extra = ", ".join(sorted(s.queue_name for s in actual - expected)) or "none"
        raise ConfigurationError(
            f"{service_cls.__name__} does not match services/{service_cls.name}/subscriptions.py: "  # type: ignore[attr-defined]
            f"queues without a handler: {missing}; handlers not in subscriptions.py: {extra}"
        )


def declare_topology(broker_url: str) -> None:
    """Declare every subscription's exchange, queue and binding, waiting a while for a starting broker."""
    with Connection(broker_url, connect_timeout=5) as connection:
        connection.ensure_connection(
            max_retries=TOPOLOGY_CONNECT_RETRIES, interval_start=1, interval_step=1, interval_max=5
        )
        declare(connection, registry.subscriptions())


def run_worker(name: str, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
    """Run `name`'s nameko service in this process (eventlet-patched by __main__) until stopped."""
    settings = Settings.from_env()
    configure(settings.log_level, json=settings.log_json)
    log = get_logger("services.worker")
    service_cls = service_class(name)
    config = nameko_config(settings, max_workers)
    check_topology(service_cls)
    declare_topology(config["AMQP_URI"])
    runner = ServiceRunner(config)
    runner.add_service(service_cls)

    def shutdown(signum: int, _: Any) -> None:
        # Signal handlers run outside any green thread and must not block on eventlet primitives.
        log.info("worker_stopping", service=name, signal=signal.Signals(signum).name)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    log.info(
        "worker_started",
        service=name,
        broker=mask_url(config["AMQP_URI"]),
        max_workers=max_workers,
        queues=[s.queue_name for s in for_consumer(name, registry.subscriptions())],
    )
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
        except OSError as exc:  # a signal arriving while the hub waits on a socket (as in `nameko run`)
            if exc.errno == errno.EINTR:
                continue
            raise
        break
    log.info("worker_stopped", service=name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.worker", description="Run a service's nameko event consumers."
    )
    parser.add_argument(
        "service", help="a service that consumes events (see services/shared/topology.py), e.g. compliance"
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=DEFAULT_MAX_WORKERS,
        help="events handled concurrently (and the AMQP prefetch count)",
    )
    args = parser.parse_args(argv)
    if args.max_workers < 1:
        parser.error("--max-workers must be >= 1")

    try:
        run_worker(args.service, args.max_workers)
    except ConfigurationError as exc:
        print(f"services.worker: {exc}", file=sys.stderr)
        return 2
    return 0
