"""Importing a rate sheet: a new version of each channel it prices, stored once per request id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message
from xborder.logistics.v1 import events_pb2

from services.logistics.adapters.catalogue_repository import StoredVersion
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.rate_sheets import SheetRejected, check_valid_from, parse_sheet
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

SCOPE = "logistics.import_rate_sheet"
M = TypeVar("M", bound=Message)
log = get_logger(__name__)


@dataclass(frozen=True)
class ImportRateSheet:
    request_id: str
    fingerprint: str
    csv: str
    valid_from: datetime | None  # None: the time of the request
    source: str
    carrier: str = ""  # a carrier id: the sheet may price only that carrier's channels; "": any channel


def import_rate_sheet(
    uow_factory: Callable[[], LogisticsUnitOfWork],
    command: ImportRateSheet,
    response_type: type[M],
    respond: Callable[[list[StoredVersion]], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Refuse the whole sheet naming each bad row and column, or store every channel's new version."""

    def work(uow: LogisticsUnitOfWork) -> M:
        violations = Violations()
        try:
            sheets = parse_sheet(command.csv, uow.channels.all(), command.carrier)
        except SheetRejected as rejected:
            for problem in rejected.problems:
                violations.add("csv", str(problem))
            violations.raise_if_any()
            raise
        imported_at = now()
        valid_from = command.valid_from or imported_at
        latest = {code: uow.rate_sheets.latest(code) for code in sorted(sheets)}
        for code, stored in latest.items():
            too_early = check_valid_from(valid_from, stored.valid_from if stored else None)
            if too_early:
                violations.add("valid_from", f"channel {code}: {too_early}")
        violations.raise_if_any()
        versions = []
        for code, stored in latest.items():
            version = uow.rate_sheets.add(
                code, (stored.version if stored else 0) + 1, valid_from, imported_at, command.source, sheets[code]
            )
            versions.append(version)
            event = events_pb2.RateSheetImported(
                channel_code=code, version=version.version, row_count=version.row_count, source=command.source
            )
            event.valid_from.FromDatetime(valid_from)
            uow.emit(event)
        log.info(
            "rate_sheet_imported",
            channels=[v.channel_code for v in versions],
            source=command.source,
            carrier=command.carrier or None,
        )
        return respond(versions)

    return run_idempotent(uow_factory, Request(SCOPE, command.request_id, command.fingerprint), response_type, work)
