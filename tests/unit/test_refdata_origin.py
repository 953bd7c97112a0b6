"""Who may replace a dataset's current version: ops always, a start only over what a start imported."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.shared.idempotency import idempotency_table
from services.shared.refdata import (
    OPS,
    STARTED,
    DatasetSpec,
    DatasetVersion,
    DatasetVersions,
    ImportResult,
    Progress,
    import_dataset,
)
from services.shared.tables import kernel_tables
from services.shared.uow import UnitOfWork

METADATA = sa.MetaData()
OUTBOX, PROCESSED, VERSIONS = kernel_tables(METADATA)
KEYS = idempotency_table(METADATA)
NOTES = sa.Table("notes", METADATA, sa.Column("line", sa.Text))


def load_notes(connection: Connection, path: Path, progress: Progress) -> int:
    lines = path.read_text().splitlines()
    connection.execute(NOTES.delete())
    connection.execute(NOTES.insert(), [{"line": line} for line in lines])
    return len(lines)


SPEC = DatasetSpec("notes", "notes.txt", "a test file", load_notes, 1)


class Data:
    def __init__(self, tmp_path: Path) -> None:
        self.engine = sa.create_engine(f"sqlite:///{tmp_path / 'data.db'}")
        METADATA.create_all(self.engine)
        self.tmp_path = tmp_path

    def directory(self, name: str, *lines: str) -> Path:
        directory = self.tmp_path / name
        directory.mkdir()
        (directory / SPEC.relative_path).write_text("\n".join(lines))
        return directory

    def run(self, directory: Path, *, at_start: bool) -> ImportResult:
        uow = UnitOfWork(self.engine, "notes", OUTBOX, PROCESSED, KEYS)
        return import_dataset(uow, VERSIONS, SPEC, directory, at_start=at_start)

    def current(self) -> DatasetVersion:
        with self.engine.connect() as connection:
            return DatasetVersions(connection, VERSIONS).require("notes")

    def lines(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(NOTES.c.line)).scalars())


@pytest.fixture
def data(tmp_path: Path) -> Data:
    return Data(tmp_path)


def test_a_start_fills_in_a_missing_dataset_and_records_who_and_from_where(data: Data) -> None:
    shipped = data.directory("shipped", "a", "b")
    result = data.run(shipped, at_start=True)
    assert result.changed and data.lines() == ["a", "b"]
    current = data.current()
    assert (current.imported_by, current.imported_from) == (STARTED, str(shipped.resolve()))
    assert "imported at a start from" in current.provenance()


def test_a_start_replaces_what_a_start_imported(data: Data) -> None:
    data.run(data.directory("old", "a"), at_start=True)
    result = data.run(data.directory("new", "a", "b"), at_start=True)
    assert result.changed and data.lines() == ["a", "b"]


def test_a_start_keeps_what_ops_imported_and_ops_can_still_apply_the_shipped_file(data: Data) -> None:
    shipped = data.directory("shipped", "a")
    data.run(shipped, at_start=True)
    ops = data.run(data.directory("ops", "a", "newer"), at_start=False)
    assert ops.changed and data.current().imported_by == OPS

    kept = data.run(shipped, at_start=True)
    assert not kept.changed and kept.kept is not None
    assert kept.version == ops.version and kept.offered_version != ops.version
    assert data.lines() == ["a", "newer"] and data.current().version == ops.version
    assert data.current().skipped_version == kept.offered_version  # what `xborder status` reports
    with data.engine.connect() as connection:  # nothing announced: consumers do not re-screen
        assert connection.execute(sa.select(sa.func.count()).select_from(OUTBOX)).scalar_one() == 2

    applied = data.run(shipped, at_start=False)
    assert applied.changed and data.lines() == ["a"] and data.current().skipped_version is None


def test_a_start_given_the_version_ops_imported_clears_the_skipped_note(data: Data) -> None:
    data.run(data.directory("ops", "a", "newer"), at_start=False)
    data.run(data.directory("old-shipped", "a"), at_start=True)
    assert data.current().skipped_version is not None
    result = data.run(data.directory("new-shipped", "a", "newer"), at_start=True)
    assert not result.changed and result.kept is None
    assert data.current().skipped_version is None and data.current().imported_by == OPS


def test_a_version_of_unknown_origin_is_kept_by_a_start(data: Data) -> None:
    data.run(data.directory("before", "x"), at_start=True)
    with data.engine.begin() as connection:  # a row recorded before imports kept their origin
        connection.execute(VERSIONS.update().values(imported_by=None, imported_from=None))
    kept = data.run(data.directory("shipped", "y"), at_start=True)
    assert kept.kept is not None and data.lines() == ["x"]
    assert kept.kept.provenance().startswith("imported on ")
