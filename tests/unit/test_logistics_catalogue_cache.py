"""The in-memory catalogue: rebuilt when the stored revision changes, checked at most once per ttl."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from services.logistics.domain.channels import Channel
from services.logistics.domain.rate_sheets import RateSheet
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.shared.errors import ReferenceDataMissing
from tests.logistics_support import sample_catalogue


@dataclass
class FakeVersion:
    version: str


@dataclass
class FakeStore:
    """What the cache reads through a unit of work, counting the reads."""

    dataset: str | None = "v1"
    revision: int = 1
    channels: dict[str, Channel] = field(default_factory=lambda: {c.code: c for c in sample_catalogue().channels})
    sheets: dict[str, list[RateSheet]] = field(default_factory=lambda: dict(sample_catalogue().sheets))
    revision_reads: int = 0
    loads: int = 0


class FakeDatasets:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def require(self, name: str) -> FakeVersion:
        if self.store.dataset is None:
            raise ReferenceDataMissing(f"reference dataset {name!r} has not been imported")
        return FakeVersion(self.store.dataset)


class FakeRateSheets:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def revision(self) -> int:
        self.store.revision_reads += 1
        return self.store.revision

    def all(self) -> dict[str, list[RateSheet]]:
        self.store.loads += 1
        return self.store.sheets


class FakeChannels:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def all(self) -> dict[str, Channel]:
        return self.store.channels


class FakeUow:
    def __init__(self, store: FakeStore) -> None:
        self.datasets = FakeDatasets(store)
        self.rate_sheets = FakeRateSheets(store)
        self.channels = FakeChannels(store)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def factory(store: FakeStore):  # type: ignore[no-untyped-def]
    @contextlib.contextmanager
    def uow() -> Iterator[FakeUow]:
        yield FakeUow(store)

    return uow


def test_the_catalogue_is_built_once_and_reused_within_the_ttl() -> None:
    store, clock = FakeStore(), Clock()
    cache = CatalogueCache(ttl=1.0, clock=clock)
    first = cache.current(factory(store))  # type: ignore[arg-type]
    clock.now = 0.5
    assert cache.current(factory(store)) is first  # type: ignore[arg-type]
    assert (store.loads, store.revision_reads) == (1, 1)


def test_a_new_revision_rebuilds_after_the_ttl_or_at_once_after_invalidate() -> None:
    store, clock = FakeStore(), Clock()
    cache = CatalogueCache(ttl=1.0, clock=clock)
    first = cache.current(factory(store))  # type: ignore[arg-type]
    clock.now = 2.0
    assert cache.current(factory(store)) is first  # type: ignore[arg-type]  # same revision: kept
    store.revision = 2
    cache.invalidate()
    second = cache.current(factory(store))  # type: ignore[arg-type]
    assert second is not first and store.loads == 2
    store.dataset = "v2"
    clock.now = 3.5
    assert cache.current(factory(store)) is not second  # type: ignore[arg-type]


def test_no_catalogue_before_the_channel_dataset_is_imported() -> None:
    with pytest.raises(ReferenceDataMissing):
        CatalogueCache().current(factory(FakeStore(dataset=None)))  # type: ignore[arg-type]
