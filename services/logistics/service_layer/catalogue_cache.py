"""The channel catalogue in memory, rebuilt when a new rate-sheet version or channel file is stored.

Matching reads the whole catalogue on every request; rebuilding it (JSON definitions, Decimal brackets,
the lane index) costs far more than a match, so it is kept and checked against the database's revision:
the highest rate-sheet id and the channel dataset's version, read in the request's own transaction.
"""

from __future__ import annotations

import threading
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
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: tuple[str, int] | None = None
        self._catalogue: Catalogue | None = None

    def current(self, uow: CatalogueReader) -> Catalogue:
        """The catalogue as `uow`'s transaction sees it; REFERENCE_DATA_MISSING before the first import."""
        revision = (uow.datasets.require(CHANNELS_DATASET).version, uow.rate_sheets.revision())
        with self._lock:
            if self._catalogue is not None and self._revision == revision:
                return self._catalogue
        catalogue = Catalogue(tuple(uow.channels.all().values()), uow.rate_sheets.all())
        with self._lock:
            self._revision, self._catalogue = revision, catalogue
        return catalogue
