"""The logistics unit of work: one transaction and the repositories that read and write in it."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from services.logistics.adapters.catalogue_repository import ChannelRepository, RateSheetRepository
from services.logistics.adapters.repositories import CountryRepository, StatusCodeRepository
from services.logistics.adapters.tables import DATASET_VERSIONS
from services.shared.refdata import DatasetVersions
from services.shared.uow import UnitOfWork


class LogisticsUnitOfWork(UnitOfWork):
    countries: CountryRepository
    status_codes: StatusCodeRepository
    datasets: DatasetVersions
    channels: ChannelRepository
    rate_sheets: RateSheetRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.countries = CountryRepository(connection)
        self.status_codes = StatusCodeRepository(connection)
        self.datasets = DatasetVersions(connection, DATASET_VERSIONS)
        self.channels = ChannelRepository(connection)
        self.rate_sheets = RateSheetRepository(connection)
