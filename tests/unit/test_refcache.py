"""In-memory reference views follow the dataset's current version."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from services.shared.errors import ReferenceDataMissing
from services.shared.refcache import DatasetCache
from services.shared.refdata import DatasetVersion, DatasetVersions
from services.shared.tables import kernel_tables


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    metadata = sa.MetaData()
    kernel_tables(metadata)
    metadata.create_all(engine)
    return engine


def publish(engine: sa.Engine, version: str) -> None:
    with engine.begin() as connection:
        DatasetVersions(connection, _versions()).make_current("fx", version, 1, "test")


def _versions() -> sa.Table:
    return kernel_tables(sa.MetaData())[2]


def test_reloads_only_when_the_version_changes_and_the_ttl_has_passed(engine: sa.Engine) -> None:
    loads: list[str] = []

    def load(_: sa.Connection, version: DatasetVersion) -> str:
        loads.append(version.version)
        return f"view of {version.version}"

    clock = Clock()
    cache = DatasetCache(engine, _versions(), "fx", load, ttl=1.0, clock=clock)
    with pytest.raises(ReferenceDataMissing):
        cache.get()
    publish(engine, "v1")
    assert cache.get() == "view of v1"
    publish(engine, "v2")
    assert cache.get() == "view of v1"  # within the ttl the snapshot stands
    clock.now = 1.5
    assert cache.get() == "view of v2"
    clock.now = 3.0
    assert cache.get() == "view of v2"
    assert loads == ["v1", "v2"]  # an unchanged version is not reloaded


def test_invalidate_rechecks_at_once(engine: sa.Engine) -> None:
    clock = Clock()
    cache = DatasetCache(engine, _versions(), "fx", lambda _, v: v.version, ttl=60.0, clock=clock)
    publish(engine, "v1")
    assert cache.get() == "v1"
    publish(engine, "v2")
    cache.invalidate()
    assert cache.get() == "v2"
