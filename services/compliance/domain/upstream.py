"""Other services' reference datasets as compliance knows them from their `reference_data_imported` events.

A compliance verdict must cite the currency and country table versions it relied on, and a service never
reads another's tables (ADR 0006), so compliance keeps the latest announced version of each dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class UpstreamDataset:
    service: str
    dataset: str
    version: str
    record_count: int
    source: str
    imported_at: datetime  # when the owning service committed the import (the event's occurred_at)
    event_id: str


def supersedes(candidate: UpstreamDataset, stored: UpstreamDataset | None) -> bool:
    """Whether an announcement replaces what is stored.

    Events can arrive out of order (a redelivery after a broker outage, two relays): an import that
    committed before the stored one must not roll the version back. Ordering is by commit time, not by
    version, so going back to an older file on purpose (a later import) still wins.
    """
    return stored is None or candidate.imported_at >= stored.imported_at
