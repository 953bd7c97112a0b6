"""A carrier's tracking file, taken through the same ingest as pushed events (`push_tracking_events`).

The readable rows go in batches of at most `BATCH` events, each batch its own transaction as a push is;
the unreadable ones are answered REJECTED with their line and column. Importing the same file again
changes nothing: every event it holds is then a duplicate. A crash part-way leaves the batches before it
committed and nothing of the one it interrupted; importing the file again completes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.logistics.domain.tracking import CarrierTable, Status
from services.logistics.domain.tracking_files import FileEvent, FileFormat, RowProblem, parse_file
from services.logistics.service_layer.shipments import CarrierEvent, Outcome, UowFactory, push_tracking_events
from services.shared.clock import utcnow
from services.shared.logs import get_logger

BATCH = 1000
log = get_logger(__name__)


@dataclass(frozen=True)
class RowOutcome:
    line: int
    waybill: str
    outcome: Outcome | None  # None: the row was rejected (see `column`)
    detail: str
    column: str
    status: Status | None  # the shipment's status after the import; None for an unknown waybill
    status_changed: bool


def import_tracking_file(
    uow_factory: UowFactory,
    tables: Mapping[str, CarrierTable],
    carrier: str,
    text: str,
    file_format: FileFormat | None = None,
    source: str = "",
    now: Callable[[], datetime] = utcnow,
) -> list[RowOutcome]:
    """Every data row's outcome, in file order. `TrackingFileRejected` when the file cannot be read at all."""
    rows = parse_file(text, carrier, file_format)
    events = [r for r in rows if isinstance(r, FileEvent)]
    answered: dict[int, tuple[Outcome, str, bool]] = {}
    final: dict[str, Status | None] = {}
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        pushed = [CarrierEvent(carrier, e.waybill, e.code, e.occurred_at, e.location, e.description) for e in chunk]
        for event, outcome in zip(chunk, push_tracking_events(uow_factory, tables, pushed, now), strict=True):
            answered[event.line] = (outcome.outcome, outcome.detail, outcome.status_changed)
            final[event.waybill] = outcome.status
    rejected = [r for r in rows if isinstance(r, RowProblem)]
    log.info("tracking_file_imported", source=source, carrier=carrier, rows=len(rows), rejected=len(rejected))
    return [
        RowOutcome(r.line, r.waybill, None, r.description, r.column, None, False)
        if isinstance(r, RowProblem)
        else RowOutcome(r.line, r.waybill, *answered[r.line][:2], "", final[r.waybill], answered[r.line][2])
        for r in rows
    ]
