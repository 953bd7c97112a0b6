"""What every service process holds: its engine, kernel tables, unit-of-work factory and outbox relay."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.shared import db
from services.shared.bus import EventBus
from services.shared.crypto.config import field_crypto
from services.shared.crypto.fields import FieldCrypto
from services.shared.idempotency import idempotency_table
from services.shared.outbox import OutboxRelay
from services.shared.refcache import DatasetCache, Load
from services.shared.refdata import (
    DatasetSpec,
    DatasetVersion,
    DatasetVersions,
    ImportResult,
    Progress,
    import_dataset,
)
from services.shared.settings import Settings
from services.shared.tables import kernel_tables
from services.shared.uow import UnitOfWork

T = TypeVar("T")
U = TypeVar("U", bound=UnitOfWork)


@dataclass
class ServiceContext(Generic[U]):
    """`uow()` returns the service's own unit of work (`uow_class`), with its repositories."""

    name: str
    settings: Settings
    engine: Engine
    outbox: sa.Table
    processed: sa.Table
    datasets: sa.Table
    relay: OutboxRelay
    idempotency_keys: sa.Table
    uow_class: type[U] = UnitOfWork  # type: ignore[assignment]
    dataset_specs: tuple[DatasetSpec, ...] = ()
    _caches: list[DatasetCache[Any]] = field(default_factory=list, repr=False)
    _closed: bool = field(default=False, repr=False)
    _field_crypto: FieldCrypto | None = field(default=None, repr=False)

    @property
    def field_crypto(self) -> FieldCrypto:
        """The kernel helper for PERSONAL_SENSITIVE columns, keyed once per process (docs/crypto.md)."""
        if self._field_crypto is None:
            self._field_crypto = field_crypto(self.settings)
        return self._field_crypto

    def uow(self) -> U:
        uow = self.uow_class(
            self.engine, self.name, self.outbox, self.processed, self.idempotency_keys, on_commit=self.relay.wake
        )
        uow.field_crypto_source = lambda: self.field_crypto
        return uow

    def import_reference_data(
        self, progress: Progress | None = None, only: str | None = None, *, at_start: bool = False
    ) -> list[ImportResult]:
        """Import the files under settings.data_dir; `at_start` keeps a version ops imported (refdata.py)."""
        results = [
            import_dataset(self.uow(), self.datasets, spec, self.settings.data_dir, progress, at_start=at_start)
            for spec in self.dataset_specs
            if only in (None, spec.name)
        ]
        for cache in self._caches:
            cache.invalidate()
        return results

    def cache(self, dataset: str, load: Load[T], *, ttl: float = 1.0) -> DatasetCache[T]:
        """An in-memory view of one of this service's datasets, refreshed after imports."""
        cache = DatasetCache(self.engine, self.datasets, dataset, load, ttl=ttl)
        self._caches.append(cache)
        return cache

    def dataset_versions(self) -> list[DatasetVersion]:
        with self.engine.connect() as connection:
            return DatasetVersions(connection, self.datasets).all_current()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.relay.stop()
            self.engine.dispose()


@overload
def build_context(
    settings: Settings,
    service: str,
    metadata: sa.MetaData,
    migrations: Path,
    bus: EventBus,
    dataset_specs: tuple[DatasetSpec, ...] = (),
) -> ServiceContext[UnitOfWork]: ...


@overload
def build_context(
    settings: Settings,
    service: str,
    metadata: sa.MetaData,
    migrations: Path,
    bus: EventBus,
    dataset_specs: tuple[DatasetSpec, ...] = (),
    *,
    uow_class: type[U],
) -> ServiceContext[U]: ...


def build_context(
    settings: Settings,
    service: str,
    metadata: sa.MetaData,
    migrations: Path,
    bus: EventBus,
    dataset_specs: tuple[DatasetSpec, ...] = (),
    uow_class: type[Any] = UnitOfWork,
) -> ServiceContext[Any]:
    """Create the engine, migrate the schema, and prepare (not start) the relay."""
    outbox, processed, datasets = kernel_tables(metadata)
    engine = db.create_engine(settings, service)
    db.migrate(engine, settings, service, migrations)
    relay = OutboxRelay(engine, outbox, bus, service, poll_interval=settings.outbox_poll_s)
    return ServiceContext(
        service,
        settings,
        engine,
        outbox,
        processed,
        datasets,
        relay,
        idempotency_table(metadata),
        uow_class,
        dataset_specs,
    )
