"""Reference-data use cases: HS 2022 reads, and the other services' dataset versions compliance records.

Handlers are the only place that commits; the HS reads commit nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from google.protobuf import json_format
from xborder.common.v1 import events_pb2

from services.compliance.adapters.unit_of_work import ComplianceUnitOfWork
from services.compliance.domain import hs
from services.compliance.domain.upstream import UpstreamDataset, supersedes
from services.shared.errors import NotFound
from services.shared.events import parse_payload
from services.shared.logs import get_logger

UowFactory = Callable[[], ComplianceUnitOfWork]
HS_DATASET = "hs2022"
RECORD_UPSTREAM_DATASET = "compliance.record_upstream_dataset"

log = get_logger(__name__)


@dataclass(frozen=True)
class HsSearch:
    query: hs.SearchQuery
    level: int | None  # None: every level
    page_size: int
    offset: int


@dataclass(frozen=True)
class HsPage:
    entries: list[hs.HsEntry]
    total: int
    next_offset: int | None  # None on the last page


def get_hs_code(uow_factory: UowFactory, code: str) -> hs.HsEntry:
    with uow_factory() as uow:
        uow.datasets.require(HS_DATASET)
        entry = uow.hs.get(code)
    if entry is None:
        reserved = hs.RESERVED_CHAPTERS.get(hs.chapter_of(code))
        detail = f"; {reserved}" if reserved else ""
        raise NotFound(f"no {hs.EDITION} entry {code!r}{detail}", field="code")
    return entry


def search_hs_codes(uow_factory: UowFactory, search: HsSearch) -> HsPage:
    with uow_factory() as uow:
        uow.datasets.require(HS_DATASET)
        entries, total = uow.hs.search(search.query, search.level, search.offset, search.page_size)
    following = search.offset + len(entries)
    return HsPage(entries, total, following if entries and following < total else None)


def record_upstream_dataset(uow_factory: UowFactory, payload: dict[str, Any]) -> bool:
    """Record another service's `reference_data_imported`; False when this event was already processed.

    A payload that cannot be an announcement is logged and dropped rather than raised: retrying cannot
    repair it, and a raising consumer would hold back every later event of the producer's outbox.
    """
    try:
        message = parse_payload(payload, events_pb2.ReferenceDataImported)
    except (json_format.ParseError, ValueError) as error:
        log.error("upstream_dataset_unreadable", consumer=RECORD_UPSTREAM_DATASET, error=str(error))
        return False
    missing = [name for name in ("event_id", "service", "dataset", "version") if not getattr(message, name)]
    if not message.HasField("occurred_at"):
        missing.append("occurred_at")
    if missing:
        log.error(
            "upstream_dataset_incomplete", consumer=RECORD_UPSTREAM_DATASET, event_id=message.event_id, missing=missing
        )
        return False
    announced = UpstreamDataset(
        message.service,
        message.dataset,
        message.version,
        message.record_count,
        message.source,
        message.occurred_at.ToDatetime(tzinfo=UTC),
        message.event_id,
    )
    with uow_factory() as uow:
        if not uow.claim_event(RECORD_UPSTREAM_DATASET, message.event_id):
            return False
        # Insert first, then compare: announcements of one dataset handled at the same moment (a start
        # imports everything at once) must not both find no row and race on the key.
        if not uow.upstream.add_if_absent(announced):
            stored = uow.upstream.get_for_update(announced.service, announced.dataset)
            if supersedes(announced, stored):
                uow.upstream.replace(announced)
            else:
                log.info(
                    "upstream_dataset_out_of_order",
                    service=announced.service,
                    dataset=announced.dataset,
                    event_id=announced.event_id,
                    stored_version=stored.version if stored else "",
                )
        uow.commit()
    return True


def list_upstream_datasets(uow_factory: UowFactory) -> list[UpstreamDataset]:
    with uow_factory() as uow:
        return uow.upstream.list()
