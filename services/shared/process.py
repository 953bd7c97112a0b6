"""Running one service as its own process (`python -m services.<name>`), as deploy/ does."""

from __future__ import annotations

import signal
import threading

from services.registry import bootstrap_module, subscriptions
from services.shared.bus import EventBus, InProcessBus
from services.shared.grpc_server import serve
from services.shared.logs import configure, get_logger
from services.shared.metrics import serve_metrics
from services.shared.settings import Settings


def make_bus(settings: Settings) -> EventBus:
    if settings.broker_url:
        from services.shared.amqp import AmqpBus

        return AmqpBus(settings.broker_url, subscriptions=subscriptions())
    return InProcessBus()


def run_service(name: str) -> None:
    settings = Settings.from_env()
    configure(settings.log_level, json=settings.log_json)
    log = get_logger(name)
    module = bootstrap_module(name)
    bus = make_bus(settings)
    context = module.bootstrap(settings, bus)
    if settings.seed_reference_data:
        for result in context.import_reference_data():
            log.info("reference_data", result=result.describe())
        seed = getattr(module, "seed", None)  # content beyond reference data (compliance: the rule library)
        if seed is not None:
            seed(context)
    if settings.broker_url:
        context.relay.start()
    else:
        # Alone and without a broker nobody could receive the events: keep them in the outbox.
        log.warning("no_broker", detail="XB_BROKER_URL unset: events stay in the outbox until a broker is set")
    serve_metrics(settings.metrics_port, settings.bind_host)
    server = serve(
        settings,
        module.registrations(context),
        module.GRPC_SERVICES,
        port=settings.service_ports[name],
        host=settings.bind_host,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    log.info("shutting_down")
    server.stop(grace=5.0)
    context.close()
    bus.close()
