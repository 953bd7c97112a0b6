"""The channel catalogue in memory, rebuilt when a new rate-sheet version or channel file is stored, with
the lane history read again when a shipment has finished since.

Matching reads the whole catalogue on every request; rebuilding it (JSON definitions, Decimal brackets,
the lane index) costs far more than a match, so it is kept and compared with the database's revision
(the highest rate-sheet id and the channel dataset's version) at most every `ttl` seconds, and at once
after `invalidate()` (an import in this process). An import by another replica shows within `ttl`, as
with the kernel's reference-data caches (services/shared/refcache.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from services.logistics.adapters.catalogue_repository import ChannelRepository, RateSheetRepository
from services.logistics.adapters.channel_datasets import CHANNELS_DATASET
from services.logistics.adapters.lane_repository import LaneRepository
from services.logistics.domain.lane_history import DEFAULT_MINIMUM
from services.logistics.domain.matching import Catalogue
from services.shared.refdata import DatasetVersions


class CatalogueReader(Protocol):
    channels: ChannelRepository
    rate_sheets: RateSheetRepository
    datasets: DatasetVersions
    lanes: LaneRepository


class CatalogueCache:
    def __init__(
        self, *, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic, minimum: int = DEFAULT_MINIMUM
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.minimum = minimum  # delivered shipments a lane needs before its figures are learned
        self._lock = threading.Lock()
        self._revision: tuple[str, int] | None = None
        self._lanes_revision: int | None = None
        self._catalogue: Catalogue | None = None
        self._checked_at = float("-inf")

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = float("-inf")

    def current(self, uow_factory: Callable[[], AbstractContextManager[CatalogueReader]]) -> Catalogue:
        """The catalogue; REFERENCE_DATA_MISSING before the channel dataset's first import.

        The lane history changes whenever a shipment finishes; a new history alone re-reads the two lane
        tables and keeps the parsed channels and rate sheets.
        """
        with self._lock:
            if self._catalogue is not None and self.clock() - self._checked_at < self.ttl:
                return self._catalogue
        checked_at = self.clock()
        with uow_factory() as uow:
            revision = (uow.datasets.require(CHANNELS_DATASET).version, uow.rate_sheets.revision())
            lanes_revision = uow.lanes.revision()
            with self._lock:
                cached = self._catalogue
                if cached is not None and self._revision == revision and self._lanes_revision == lanes_revision:
                    self._checked_at = checked_at
                    return cached
            lanes = uow.lanes.all()
            if cached is not None and self._revision == revision:
                catalogue = Catalogue(cached.channels, cached.sheets, lanes, self.minimum)
            else:
                catalogue = Catalogue(tuple(uow.channels.all().values()), uow.rate_sheets.all(), lanes, self.minimum)
        with self._lock:
            self._revision, self._lanes_revision = revision, lanes_revision
            self._catalogue, self._checked_at = catalogue, checked_at
        return catalogue
