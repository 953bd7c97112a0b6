"""The logistics nameko service: the periodic reservation-expiry sweep (`@timer`), run by
`python -m services.worker logistics`. The embedded runtime runs the same sweep on a thread
(bootstrap.periodic_tasks). Logistics consumes no events yet (subscriptions.py is empty).
"""

from __future__ import annotations

from collections.abc import Callable

from nameko.timer import timer

from services.logistics import bootstrap
from services.worker.dependencies import TICK_S, PeriodicTasks


class LogisticsEvents:
    name = "logistics"

    periodic: Callable[[], None] = PeriodicTasks(bootstrap)  # type: ignore[assignment]

    @timer(interval=TICK_S)
    def run_periodic_tasks(self) -> None:
        self.periodic()
