"""The logistics unit of work: one transaction and the repositories that read and write in it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.logistics.adapters.catalogue_repository import ChannelRepository, RateSheetRepository
from services.logistics.adapters.lane_repository import LaneRepository
from services.logistics.adapters.repositories import CountryRepository, StatusCodeRepository
from services.logistics.adapters.return_repository import ReturnRepository
from services.logistics.adapters.shipment_repository import ShipmentRepository
from services.logistics.adapters.tables import DATASET_VERSIONS
from services.logistics.adapters.warehouse_repository import WarehouseRepository
from services.shared.refdata import DatasetVersions
from services.shared.uow import UnitOfWork


class LogisticsUnitOfWork(UnitOfWork):
    countries: CountryRepository
    status_codes: StatusCodeRepository
    datasets: DatasetVersions
    channels: ChannelRepository
    rate_sheets: RateSheetRepository
    shipments: ShipmentRepository
    returns: ReturnRepository
    stock: WarehouseRepository
    lanes: LaneRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.countries = CountryRepository(connection)
        self.status_codes = StatusCodeRepository(connection)
        self.datasets = DatasetVersions(connection, DATASET_VERSIONS)
        self.channels = ChannelRepository(connection)
        self.rate_sheets = RateSheetRepository(connection)
        self.shipments = ShipmentRepository(connection)
        self.returns = ReturnRepository(connection)
        self.stock = WarehouseRepository(connection)
        self.lanes = LaneRepository(connection)

    def lock_for_write(self) -> None:
        """Serialise this service's writers on PostgreSQL as BEGIN IMMEDIATE does on SQLite.

        A rate-sheet import validates against the latest stored version. Under READ COMMITTED, a second
        copy of a request that found no stored answer could see the first copy's version once it commits
        and refuse itself ("must be after the current version") instead of replaying it; row locks cannot
        prevent that, a transaction-scoped advisory lock taken before the replay read does. Imports are
        rare operator actions, so one lock for the service costs nothing that matters.
        """
        super().lock_for_write()
        if self.dialect == "postgresql":
            self.connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"xborder-write:{self.service}"}
            )

    def lock_shipments_for_write(self) -> None:
        """Tracking ingest: SQLite's write lock; on PostgreSQL nothing here.

        There `shipments.lock_statuses` locks, in code order, only the rows of shipments the batch moves, so
        batches for the same shipment move it one after the other (each reads the other's status) and the
        rest of the ingest (storing events, reading shipments) runs side by side.
        """
        UnitOfWork.lock_for_write(self)

    def lock_stock_for_write(self) -> None:
        """Stock changes: SQLite's write lock, but on PostgreSQL only the rows they read FOR UPDATE.

        `stock` reads what it changes FOR UPDATE, so reservations of one hot SKU queue on that row and
        everything else commits side by side instead of waiting on the service-wide advisory lock.
        """
        UnitOfWork.lock_for_write(self)
