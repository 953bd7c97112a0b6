"""Versioned, idempotent reference-data imports.

A dataset's version is the SHA-256 of its source file. Importing a file whose version is already current
changes nothing and says so; a new version replaces the dataset's rows, records the version and emits
`reference_data_imported` through the outbox, all in one transaction.

Each version records who asked for it: a start seeding the shipped files (`STARTED`) or ops running
`xborder import` (`OPS`), and the directory it came from. A start only ever fills in a dataset that is missing
or replaces a version an earlier start imported: a version ops imported (or one whose origin predates this
record) stays current, and the start reports that the shipped file differs instead of reverting it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from xborder.common.v1 import events_pb2

from services.shared.clock import utcnow
from services.shared.errors import ReferenceDataMissing
from services.shared.uow import UnitOfWork

STARTED = "start"
OPS = "ops"

Progress = Callable[[int], None]
"""Called with the number of records loaded since the last call (drives the CLI's progress bar)."""

Loader = Callable[[Connection, Path, Progress], int]
"""Replaces a dataset's rows from a file; returns the number of records loaded."""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    relative_path: str
    source: str
    loader: Loader
    expected_records: int  # an estimate for progress bars only
    companions: tuple[str, ...] = ()  # files beside relative_path that the loader also reads; hashed too


@dataclass(frozen=True)
class ImportResult:
    service: str
    dataset: str
    version: str
    record_count: int
    changed: bool
    previous_version: str
    kept: DatasetVersion | None = None
    """Set when a start left this version current although the file it was given differs."""
    offered_version: str = ""

    def describe(self) -> str:
        if self.kept is not None:
            return (
                f"{self.dataset}: version {self.version[:12]} {self.kept.provenance()} kept; the shipped file "
                f"(version {self.offered_version[:12]}) differs and was not applied: run `xborder import` to apply it"
            )
        if not self.changed:
            return f"{self.dataset}: unchanged (version {self.version[:12]} is already current)"
        was = f", replacing {self.previous_version[:12]}" if self.previous_version else ""
        return f"{self.dataset}: imported {self.record_count} records as version {self.version[:12]}{was}"


@dataclass(frozen=True)
class DatasetVersion:
    dataset: str
    version: str
    record_count: int
    source: str
    imported_at: datetime
    imported_by: str | None = None
    imported_from: str | None = None
    skipped_version: str | None = None
    """The version of the file the last start was given and did not apply, keeping this one."""

    def provenance(self) -> str:
        """E.g. "imported by ops from /srv/data on 2026-12-06 02:31 UTC"."""
        who = {OPS: " by ops", STARTED: " at a start"}.get(self.imported_by or "", "")
        where = f" from {self.imported_from}" if self.imported_from else ""
        return f"imported{who}{where} on {self.imported_at:%Y-%m-%d %H:%M} UTC"


def file_version(path: Path, *companions: Path) -> str:
    digest = hashlib.sha256()
    for part in (path, *companions):
        with part.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class DatasetVersions:
    """Repository over the `dataset_versions` kernel table."""

    def __init__(self, connection: Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table

    def _select(self) -> sa.Select:
        t = self.table
        return sa.select(
            t.c.dataset,
            t.c.version,
            t.c.record_count,
            t.c.source,
            t.c.imported_at,
            t.c.imported_by,
            t.c.imported_from,
            t.c.skipped_version,
        ).where(t.c.is_current.is_(True))

    def current(self, dataset: str) -> DatasetVersion | None:
        row = self.connection.execute(self._select().where(self.table.c.dataset == dataset)).first()
        return DatasetVersion(*row) if row else None

    def all_current(self) -> list[DatasetVersion]:
        rows = self.connection.execute(self._select().order_by(self.table.c.dataset)).all()
        return [DatasetVersion(*row) for row in rows]

    def require(self, dataset: str) -> DatasetVersion:
        current = self.current(dataset)
        if current is None:
            raise ReferenceDataMissing(f"reference dataset {dataset!r} has not been imported; run `xborder import`")
        return current

    def make_current(
        self,
        dataset: str,
        version: str,
        record_count: int,
        source: str,
        *,
        imported_by: str = OPS,
        imported_from: str | None = None,
    ) -> None:
        t = self.table
        self.connection.execute(t.update().where(t.c.dataset == dataset).values(is_current=False))
        existing = self.connection.execute(
            sa.select(t.c.version).where(t.c.dataset == dataset, t.c.version == version)
        ).first()
        values = {
            "record_count": record_count,
            "source": source,
            "imported_at": utcnow(),
            "is_current": True,
            "imported_by": imported_by,
            "imported_from": imported_from,
            "skipped_version": None,
        }
        if existing:  # going back to a version imported before
            self.connection.execute(t.update().where(t.c.dataset == dataset, t.c.version == version).values(**values))
        else:
            self.connection.execute(t.insert().values(dataset=dataset, version=version, **values))

    def note_skipped(self, dataset: str, skipped_version: str | None) -> None:
        t = self.table
        self.connection.execute(
            t.update().where(t.c.dataset == dataset, t.c.is_current.is_(True)).values(skipped_version=skipped_version)
        )


def import_dataset(
    uow: UnitOfWork,
    versions_table: sa.Table,
    spec: DatasetSpec,
    data_dir: Path,
    progress: Progress | None = None,
    *,
    path: Path | None = None,
    at_start: bool = False,
) -> ImportResult:
    """Import one dataset if its file changed; the only commit is here (a service-layer handler).

    `at_start`: a start seeding the shipped files, which never replaces a version it did not import itself.
    """
    source_path = path or data_dir / spec.relative_path
    if not source_path.is_file():
        raise FileNotFoundError(f"{spec.name}: source file {source_path} not found")
    version = file_version(source_path, *(source_path.with_name(c) for c in spec.companions))
    with uow:
        if uow.connection.dialect.name == "postgresql":
            # Two replicas starting together import one after the other; the second finds it unchanged.
            uow.connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"xborder-import:{uow.service}:{spec.name}"},
            )
        versions = DatasetVersions(uow.connection, versions_table)
        current = versions.current(spec.name)
        if current is not None and current.version == version:
            if at_start and current.skipped_version is not None:  # the shipped file caught up with ops
                versions.note_skipped(spec.name, None)
                uow.commit()
            return ImportResult(uow.service, spec.name, version, current.record_count, False, version)
        if at_start and current is not None and current.imported_by != STARTED:
            if current.skipped_version != version:
                versions.note_skipped(spec.name, version)
                uow.commit()
            return ImportResult(
                uow.service,
                spec.name,
                current.version,
                current.record_count,
                False,
                current.version,
                kept=current,
                offered_version=version,
            )
        count = spec.loader(uow.connection, source_path, progress or (lambda _: None))
        versions.make_current(
            spec.name,
            version,
            count,
            spec.source,
            imported_by=STARTED if at_start else OPS,
            imported_from=str((source_path.parent if path else data_dir).resolve()),
        )
        previous = current.version if current else ""
        uow.emit(
            events_pb2.ReferenceDataImported(
                service=uow.service,
                dataset=spec.name,
                version=version,
                record_count=count,
                source=spec.source,
                previous_version=previous,
            )
        )
        uow.commit()
    return ImportResult(uow.service, spec.name, version, count, True, previous)


def replace_rows(
    connection: Connection, table: sa.Table, rows: list[dict[str, object]], progress: Progress, chunk: int = 5000
) -> int:
    """Delete a dataset table's rows and insert the new ones in chunks (one transaction, the caller's)."""
    connection.execute(table.delete())
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        connection.execute(table.insert(), part)
        progress(len(part))
    return len(rows)
