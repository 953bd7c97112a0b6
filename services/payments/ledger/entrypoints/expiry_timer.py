"""The timer that voids expired pending ledger transfers (payout timeouts) in the payments process.

One thread per service context; each tick runs the same `expire` sweep tests call with a fake clock.
Several replicas may sweep at once: each expiry is its own idempotent transaction, so nothing voids twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.shared.logs import get_logger

log = get_logger(__name__)


class ExpirySweeper:
    def __init__(self, sweep: Callable[[], int], interval_s: float, *, alive: Callable[[], bool]) -> None:
        self._sweep = sweep
        self._interval = interval_s
        self._alive = alive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        try:
            expired = self._sweep()
        except Exception:  # a database hiccup must not kill the timer
            log.exception("ledger_expiry_sweep_failed")
            return 0
        if expired:
            log.info("ledger_pending_expired", count=expired)
        return expired

    def _run(self) -> None:
        while not self._stop.wait(self._interval) and self._alive():
            self.tick()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ledger-expiry", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
