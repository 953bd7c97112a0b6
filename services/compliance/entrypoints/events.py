"""The compliance nameko service: other services' events, handled by the same handlers the in-process bus calls.

Run it with `python -m services.worker compliance` (its own process: a grpcio server cannot share an
eventlet-patched process). Queue names follow from the method names, which must match
services/shared/topology.py: a test checks that they do.

The worker only consumes. Events that the handlers emit stay in compliance's outbox, and the compliance
gRPC process's relay publishes them, so one relay keeps one commit order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.extensions import DependencyProvider

from services.compliance import bootstrap
from services.shared.bus import EventBus, InProcessBus
from services.shared.context import ServiceContext
from services.shared.logs import get_logger
from services.shared.settings import Settings

log = get_logger(__name__)


REQUEUE_DELAY_S = 1.0
"""Pause before a failed event goes back to its queue, so a database outage is not retried in a tight loop."""


def _cooperative_database_waits() -> None:
    """Make psycopg wait on sockets through select(), which eventlet makes cooperative.

    psycopg's default C wait function polls outside eventlet's hub: a query then stalls every green thread
    of the worker (the AMQP consumer and heartbeats included) until the database answers.
    """
    import eventlet.patcher
    import psycopg.waiting

    if eventlet.patcher.is_monkey_patched("select"):
        psycopg.waiting.wait = psycopg.waiting.wait_select


class ComplianceHandlers(DependencyProvider):
    """Bootstraps compliance (engine, migrations) when the worker starts and injects its event handlers."""

    context: ServiceContext | None = None
    bus: EventBus | None = None
    handlers: dict[str, Callable[[dict[str, Any]], None]]

    def setup(self) -> None:
        _cooperative_database_waits()
        settings = Settings.from_env()
        if settings.broker_url:
            from services.shared.amqp import AmqpBus

            self.bus = AmqpBus(settings.broker_url)  # lazy: only used if this context's relay were started
        else:
            self.bus = InProcessBus()
        self.context = bootstrap.bootstrap(settings, self.bus)
        self.handlers = bootstrap.event_handlers(self.context)
        log.info("event_consumers_ready", service=bootstrap.NAME, consumers=sorted(self.handlers))

    def get_dependency(self, worker_ctx: Any) -> dict[str, Callable[[dict[str, Any]], None]]:
        return self.handlers

    def stop(self) -> None:
        self._close()

    def kill(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None
        if self.bus is not None:
            self.bus.close()
            self.bus = None


class ComplianceEvents:
    name = "compliance"

    handlers: dict[str, Callable[[dict[str, Any]], None]] = ComplianceHandlers()  # type: ignore[assignment]

    @event_handler(
        "payments", "reference_data_imported", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_payments_reference_data_imported(self, payload: dict[str, Any]) -> None:
        self._handle("on_payments_reference_data_imported", payload)

    @event_handler(
        "logistics", "reference_data_imported", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_logistics_reference_data_imported(self, payload: dict[str, Any]) -> None:
        self._handle("on_logistics_reference_data_imported", payload)

    @event_handler(
        "compliance", "rules_published", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_rules_published(self, payload: dict[str, Any]) -> None:
        self._handle("on_rules_published", payload)

    @event_handler(
        "compliance", "list_updated", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_list_updated(self, payload: dict[str, Any]) -> None:
        self._handle("on_list_updated", payload)

    def _handle(self, consumer: str, payload: dict[str, Any]) -> None:
        try:
            self.handlers[consumer](payload)
        except Exception:
            # Requeued (requeue_on_error): a database outage or a bug fixed by a redeploy loses no event, and
            # the consumer's claim_event makes the redelivery harmless if the first attempt had committed.
            log.exception("event_handler_failed", consumer=consumer, event_id=payload.get("event_id"))
            time.sleep(REQUEUE_DELAY_S)
            raise
