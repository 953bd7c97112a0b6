"""The customer-service nameko service: compliance's `risk_alert_raised` and
logistics' `shipment_status_changed` (open or update a ticket) and the
periodic SLA breach sweep (`@timer`), run by `python -m services.worker customer_service`.

Its @event_handler methods must match services/customer_service/subscriptions.py (the worker checks at
start). Events the handlers emit wait in the customer-service outbox for the gRPC process's relay (one
relay keeps one commit order). The embedded runtime runs the same sweep on a thread
(bootstrap.periodic_tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.timer import timer

from services.customer_service import bootstrap
from services.worker.dependencies import TICK_S, Handlers, PeriodicTasks, ServiceEventHandlers, handle


class CustomerServiceEvents:
    name = "customer_service"

    periodic: Callable[[], None] = PeriodicTasks(bootstrap)  # type: ignore[assignment]
    handlers: Handlers = ServiceEventHandlers(bootstrap)  # type: ignore[assignment]

    @event_handler(
        "compliance", "risk_alert_raised", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_risk_alert_raised(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_risk_alert_raised", payload)

    @event_handler(
        "logistics",
        "shipment_status_changed",
        handler_type=SERVICE_POOL,
        reliable_delivery=True,
        requeue_on_error=True,
    )
    def on_shipment_status_changed(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_shipment_status_changed", payload)

    @timer(interval=TICK_S)
    def run_periodic_tasks(self) -> None:
        self.periodic()
