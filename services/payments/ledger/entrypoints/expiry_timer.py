"""The periodic sweep that voids expired pending ledger transfers (payout timeouts).

bootstrap.periodic_tasks returns it, so the embedded platform runs it on a PeriodicTask thread and the
payments nameko worker from its @timer (docs/adr/0017-scheduled-tasks-embedded-and-nameko.md). Several
replicas may sweep at once: each expiry is its own idempotent transaction, so nothing voids twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.payments.ledger import service_layer as ledger_handlers
from services.payments.payouts import service_layer as payout_handlers
from services.shared.logs import get_logger

log = get_logger(__name__)


def expiry_sweep(uow_factory: ledger_handlers.UowFactory, clock: Callable[[], datetime]) -> Callable[[], int]:
    """One sweep per call: expired reservations void, their payouts become EXPIRED; how many expired."""

    def sweep() -> int:
        expired = ledger_handlers.expire_pending(uow_factory, clock=clock, hooks=[payout_handlers.expire_payout])
        if expired:
            log.info("ledger_pending_expired", count=expired)
        return expired

    return sweep
