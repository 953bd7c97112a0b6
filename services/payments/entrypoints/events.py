"""The payments nameko service: the scheduled FX rate refresh (`@timer`) and compliance's `risk_alert_raised`
(hold the merchant's payouts), run by `python -m services.worker payments`.

Its @event_handler methods must match services/shared/topology.py (the worker checks at start).
The timer ticks every TICK_S seconds and refreshes when
XB_FX_REFRESH_INTERVAL_S has passed since the last refresh: nameko fixes a timer's interval when the class
is defined, and settings are read when the worker starts. The `rates_updated` event goes to the payments
outbox, and the payments gRPC process's relay publishes it (one relay keeps one commit order).
The embedded runtime runs the same refresh on a thread (bootstrap.periodic_tasks, services/embedded.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nameko.events import SERVICE_POOL, event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.payments import bootstrap
from services.payments.fx.service_layer import desk as fx_handlers
from services.payments.fx.settings import FxSettings
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.logs import get_logger
from services.shared.settings import Settings
from services.worker.dependencies import Handlers, ServiceEventHandlers, cooperative_database_waits, handle

log = get_logger(__name__)

TICK_S = 5.0


class RateRefresher(DependencyProvider):
    """Boots payments (engine, migrations) when the worker starts and hands the timer a refresh callable."""

    context: ServiceContext | None = None

    def setup(self) -> None:
        cooperative_database_waits()
        settings = Settings.from_env()
        # The relay of this context is never started: the bus is only a placeholder.
        self.context = bootstrap.bootstrap(settings, InProcessBus())
        self.desk = bootstrap.fx_desk(self.context, refreshing=True)
        fx_settings = FxSettings.from_env()
        self.interval = fx_settings.refresh_interval_s
        self.next_due = 0.0
        log.info("fx_refresh_ready", interval_s=self.interval, providers=list(fx_settings.providers))

    def refresh_if_due(self) -> None:
        now = time.monotonic()
        if now < self.next_due:
            return
        self.next_due = now + self.interval
        event = fx_handlers.refresh_rates(self.desk)
        log.info("fx_rates_refreshed", fresh=len(event.rates), failures=len(event.failures))

    def get_dependency(self, worker_ctx: Any) -> Callable[[], None]:
        return self.refresh_if_due

    def stop(self) -> None:
        self._close()

    def kill(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None


class PaymentsEvents:
    name = "payments"

    refresh: Callable[[], None] = RateRefresher()  # type: ignore[assignment]
    handlers: Handlers = ServiceEventHandlers(bootstrap)  # type: ignore[assignment]

    @event_handler(
        "compliance", "risk_alert_raised", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_risk_alert_raised(self, payload: dict[str, Any]) -> None:
        handle(self.handlers, "on_risk_alert_raised", payload)

    @timer(interval=TICK_S)
    def refresh_rates(self) -> None:
        try:
            self.refresh()
        except Exception:
            # The next tick retries once the interval has passed; a provider outage must not kill the timer.
            log.exception("fx_refresh_failed")
