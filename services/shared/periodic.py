"""Periodic tasks for the embedded runtime: what a nameko `@timer` does in a worker, on a plain thread.

A failing run is logged and the next one still comes: a refresh that fails once (a provider outage) must not
stop the schedule. `stop()` wakes the thread at once instead of waiting out the interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.shared.logs import get_logger

log = get_logger(__name__)


class PeriodicTask:
    def __init__(self, name: str, interval_s: float, task: Callable[[], object]) -> None:
        if interval_s <= 0:
            raise ValueError(f"{name}: interval must be > 0 seconds, got {interval_s}")
        self.name = name
        self.interval_s = interval_s
        self.task = task
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"periodic-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        # First run at once (fresh rates at start-up), then every interval.
        while not self._stop.is_set():
            try:
                self.task()
            except Exception:
                log.exception("periodic_task_failed", task=self.name)
            self.runs += 1
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
