"""The payments nameko service: the periodic tasks of bootstrap.periodic_tasks (FX rate refresh, expiry of
pending ledger transfers) on a `@timer`, compliance's `risk_alert_raised` (hold the merchant's payouts),
customer service's `odr_refund_requested` (refund a collection as an ODR outcome says, once) and logistics'
`return_refund_requested` (refund a collection for a return, once), run by
`python -m services.worker payments`.

Its @event_handler methods must match services/payments/subscriptions.py (the worker checks at start).
The timer ticks every TICK_S seconds and runs each task whose own interval (XB_FX_REFRESH_INTERVAL_S,
XB_LEDGER_SWEEP_S) has passed since its last run: nameko fixes a timer's interval when the class is
defined, and settings are read when the worker starts. Events the tasks emit go to the payments outbox, and
the payments gRPC process's relay publishes them (one relay keeps one commit order).
The embedded runtime runs the same tasks on threads (services/embedded.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.timer import timer

from services.payments import bootstrap
from services.worker.dependencies import TICK_S, Handlers, PeriodicTasks, ServiceEventHandlers, handle


class PaymentsEvents:
    name = "payments"

    periodic: Callable[[], None] = PeriodicTasks(bootstrap)  # type: ignore[assignment]
    handlers: Handlers = ServiceEventHandlers(bootstrap)  # type: ignore[assignment]

    @event_handler(
        "compliance", "risk_alert_raised", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_risk_alert_raised(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_risk_alert_raised", payload)

    @event_handler(
        "customer_service",
        "odr_refund_requested",
        handler_type=SERVICE_POOL,
        reliable_delivery=True,
        requeue_on_error=True,
    )
    def on_odr_refund_requested(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_odr_refund_requested", payload)

    @event_handler(
        "logistics",
        "return_refund_requested",
        handler_type=SERVICE_POOL,
        reliable_delivery=True,
        requeue_on_error=True,
    )
    def on_return_refund_requested(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_return_refund_requested", payload)

    @timer(interval=TICK_S)
    def run_periodic_tasks(self) -> None:
        self.periodic()
