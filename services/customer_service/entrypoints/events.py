"""The customer-service nameko service: compliance's `risk_alert_raised` (open or update a ticket) and the
periodic SLA breach sweep (`@timer`), run by `python -m services.worker customer_service`.

Its @event_handler methods must match services/shared/topology.py (the worker checks at start). Events the
handlers emit wait in the customer-service outbox for the gRPC process's relay (one relay keeps one commit
order). The embedded runtime runs the same sweep on a thread (bootstrap.periodic_tasks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.customer_service import bootstrap
from services.customer_service.service_layer import breaches
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.logs import get_logger
from services.shared.settings import Settings
from services.worker.dependencies import Handlers, ServiceEventHandlers, cooperative_database_waits, handle

log = get_logger(__name__)

TICK_S = 5.0
"""nameko fixes a timer's interval when the class is defined; XB_SLA_SWEEP_S is honoured on these ticks."""


class BreachSweeper(DependencyProvider):
    """Boots customer_service when the worker starts and hands the timer a sweep callable."""

    context: ServiceContext | None = None

    def setup(self) -> None:
        cooperative_database_waits()
        settings = Settings.from_env()
        self.context = bootstrap.bootstrap(settings, InProcessBus())  # its relay never starts
        self.book = bootstrap.sla_book(self.context)
        self.interval = settings.sla_sweep_s
        self.next_due = 0.0

    def sweep_if_due(self) -> None:
        now = time.monotonic()
        if self.context is None or now < self.next_due:
            return
        self.next_due = now + self.interval
        breaches.sweep(bootstrap.uow_factory(self.context), self.book)

    def get_dependency(self, worker_ctx: Any) -> Callable[[], None]:
        return self.sweep_if_due

    def stop(self) -> None:
        self._close()

    def kill(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None


class CustomerServiceEvents:
    name = "customer_service"

    sweep: Callable[[], None] = BreachSweeper()  # type: ignore[assignment]
    handlers: Handlers = ServiceEventHandlers(bootstrap)  # type: ignore[assignment]

    @event_handler(
        "compliance", "risk_alert_raised", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_risk_alert_raised(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_risk_alert_raised", payload)

    @timer(interval=TICK_S)
    def sweep_breaches(self) -> None:
        try:
            self.sweep()
        except Exception:
            # The next tick retries; a database outage must not kill the timer.
            log.exception("sla_sweep_failed")
