"""The in-memory catalogue: rebuilt when the stored revision changes, checked at most once per ttl."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from services.logistics.domain.channels import Channel
from services.logistics.domain.lane_history import LaneHistory
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
    lanes: dict[tuple[str, str], LaneHistory] = field(default_factory=dict)
    lane_loads: int = 0


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


class FakeLanes:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def revision(self) -> int:
        return sum(h.finished for h in self.store.lanes.values())

    def all(self) -> dict[tuple[str, str], LaneHistory]:
        self.store.lane_loads += 1
        return dict(self.store.lanes)


class FakeUow:
    def __init__(self, store: FakeStore) -> None:
        self.lanes = FakeLanes(store)
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


def test_a_finished_shipment_reloads_only_the_lane_history() -> None:
    store, clock = FakeStore(), Clock()
    cache = CatalogueCache(ttl=1.0, clock=clock, minimum=1)
    first = cache.current(factory(store))  # type: ignore[arg-type]
    store.lanes[("SAMPLE-LINE-JP", "JP")] = LaneHistory(1, 1, 0, 0, {4: 1})
    clock.now = 1.5
    second = cache.current(factory(store))  # type: ignore[arg-type]
    assert second is not first and second.channels == first.channels and second.sheets is first.sheets
    assert second.lanes[("SAMPLE-LINE-JP", "JP")].delivered == 1 and second.minimum == 1
    assert (store.loads, store.lane_loads) == (1, 2)
