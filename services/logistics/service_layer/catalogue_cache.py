"""The channel catalogue in memory, rebuilt when a new rate-sheet version or channel file is stored.

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
from services.logistics.domain.matching import Catalogue
from services.shared.refdata import DatasetVersions


class CatalogueReader(Protocol):
    channels: ChannelRepository
    rate_sheets: RateSheetRepository
    datasets: DatasetVersions


class CatalogueCache:
    def __init__(self, *, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._revision: tuple[str, int] | None = None
        self._catalogue: Catalogue | None = None
        self._checked_at = float("-inf")

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = float("-inf")

    def current(self, uow_factory: Callable[[], AbstractContextManager[CatalogueReader]]) -> Catalogue:
        """The catalogue; REFERENCE_DATA_MISSING before the channel dataset's first import."""
        with self._lock:
            if self._catalogue is not None and self.clock() - self._checked_at < self.ttl:
                return self._catalogue
        checked_at = self.clock()
        with uow_factory() as uow:
            revision = (uow.datasets.require(CHANNELS_DATASET).version, uow.rate_sheets.revision())
            with self._lock:
                if self._catalogue is not None and self._revision == revision:
                    self._checked_at = checked_at
                    return self._catalogue
            catalogue = Catalogue(tuple(uow.channels.all().values()), uow.rate_sheets.all())
        with self._lock:
            self._revision, self._catalogue, self._checked_at = revision, catalogue, checked_at
        return catalogue
