"""SLA breach detection, run periodically: each ticket and target is announced once (`sla_breached`) and
escalates the ticket's priority one step.

One transaction per ticket keeps row locks short; a ticket whose breach was recorded is skipped for that
target ever after, even if a late state change later shows the clock was met (the announcement was a fact
when it was made; the clocks shown on the ticket are always recomputed from the history).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from xborder.customer_service.v1 import events_pb2

from services.customer_service.domain.sla import ClockState, SlaBook
from services.customer_service.domain.tickets import STOPPED
from services.customer_service.service_layer.tickets import UowFactory
from services.shared.clock import utcnow
from services.shared.logs import get_logger

log = get_logger(__name__)


def sweep(uow_factory: UowFactory, book: SlaBook, now: Callable[[], datetime] = utcnow) -> list[tuple[str, str]]:
    """Record and announce every new breach; (ticket code, target) of each."""
    with uow_factory() as uow:
        candidates = uow.tickets.running_codes()
    announced: list[tuple[str, str]] = []
    for code in candidates:
        announced.extend(_check(uow_factory, book, code, now()))
    if announced:
        log.info("sla_breaches_announced", count=len(announced))
    return announced


def _check(uow_factory: UowFactory, book: SlaBook, code: str, at: datetime) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        uow.lock_for_write()
        ticket = uow.tickets.get(code, for_update=True)
        if ticket is None or ticket.status in STOPPED:
            return []
        recorded = uow.breaches.recorded(code)
        fresh = {}
        for clock in book.clocks(ticket, at):
            name = clock.target.value
            if clock.state is ClockState.MISSED and name not in recorded and name not in fresh and clock.due_at:
                fresh[name] = clock.due_at
        if not fresh:
            return []
        for name, due in fresh.items():
            before = ticket.priority
            ticket = replace(ticket, priority=before.escalated())
            uow.breaches.record(code, name, due, at)
            event = events_pb2.SlaBreached(
                ticket_code=code,
                merchant_code=ticket.merchant_code,
                target=name,
                priority_before=before.name,
                priority_after=ticket.priority.name,
            )
            event.occurred_at.FromDatetime(at)
            event.due_at.FromDatetime(due)
            uow.emit(event)
        uow.tickets.save_attributes(ticket)
        uow.commit()
    return [(code, name) for name in fresh]
