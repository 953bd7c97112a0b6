"""The logistics unit of work: one transaction and the repositories that work in it."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from services.logistics.adapters.repositories import CountryRepository, StatusCodeRepository
from services.logistics.adapters.tables import DATASET_VERSIONS
from services.shared.refdata import DatasetVersions
from services.shared.uow import UnitOfWork


class LogisticsUnitOfWork(UnitOfWork):
    datasets: DatasetVersions  # which version of each reference dataset is current
    countries: CountryRepository
    status_codes: StatusCodeRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.datasets = DatasetVersions(connection, DATASET_VERSIONS)
        self.countries = CountryRepository(connection)
        self.status_codes = StatusCodeRepository(connection)
