"""Compliance records other services' dataset versions from `reference_data_imported` events (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from xborder.common.v1 import events_pb2

from services.compliance import bootstrap
from services.compliance.domain.upstream import UpstreamDataset, supersedes
from services.compliance.service_layer.reference_data import list_upstream_datasets, record_upstream_dataset
from services.registry import subscriptions
from services.shared.context import ServiceContext
from services.shared.events import Event
from services.shared.settings import Settings
from services.shared.topology import for_consumer
from tests.fakes import RecordingBus

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def compliance(settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(settings, RecordingBus())
    yield context
    context.close()


def announcement(
    event_id: str,
    version: str,
    occurred_at: datetime,
    *,
    service: str = "payments",
    dataset: str = "iso4217_currencies",
    record_count: int = 180,
) -> dict[str, object]:
    """The JSON payload of xborder.common.v1.ReferenceDataImported, as the outbox publishes it."""
    return {
        "event_id": event_id,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "service": service,
        "dataset": dataset,
        "version": version,
        "record_count": str(record_count),
        "source": "ISO 4217",
        "previous_version": "",
    }


def test_a_redelivered_event_is_processed_once(compliance: ServiceContext) -> None:
    payload = announcement("11111111-1111-1111-1111-111111111111", "a" * 64, T0)
    assert record_upstream_dataset(compliance.uow, payload) is True
    assert record_upstream_dataset(compliance.uow, payload) is False
    [stored] = list_upstream_datasets(compliance.uow)
    assert (stored.service, stored.dataset, stored.version, stored.record_count) == (
        "payments",
        "iso4217_currencies",
        "a" * 64,
        180,
    )
    assert stored.imported_at == T0 and stored.event_id == payload["event_id"]
    with compliance.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM processed_events")).scalar_one() == 1


def test_the_payload_a_producer_publishes_is_understood(compliance: ServiceContext) -> None:
    event = Event.from_message(
        "logistics",
        events_pb2.ReferenceDataImported(
            service="logistics",
            dataset="unece_rec24_status_codes",
            version="d" * 64,
            record_count=345,
            source="UN/CEFACT Rec. 24",
            previous_version="e" * 64,
        ),
    )
    assert record_upstream_dataset(compliance.uow, dict(event.payload)) is True
    [stored] = list_upstream_datasets(compliance.uow)
    assert (stored.dataset, stored.version, stored.record_count) == ("unece_rec24_status_codes", "d" * 64, 345)
    assert stored.imported_at == event.occurred_at


def test_a_newer_version_replaces_the_stored_one(compliance: ServiceContext) -> None:
    record_upstream_dataset(compliance.uow, announcement("e1", "a" * 64, T0))
    record_upstream_dataset(compliance.uow, announcement("e2", "b" * 64, T0 + timedelta(hours=1), record_count=181))
    [stored] = list_upstream_datasets(compliance.uow)
    assert (stored.version, stored.record_count, stored.event_id) == ("b" * 64, 181, "e2")


def test_an_older_announcement_arriving_late_does_not_roll_back(compliance: ServiceContext) -> None:
    record_upstream_dataset(compliance.uow, announcement("e2", "b" * 64, T0 + timedelta(hours=1)))
    assert record_upstream_dataset(compliance.uow, announcement("e1", "a" * 64, T0)) is True
    [stored] = list_upstream_datasets(compliance.uow)
    assert (stored.version, stored.imported_at) == ("b" * 64, T0 + timedelta(hours=1))


def test_each_service_and_dataset_is_kept_apart(compliance: ServiceContext) -> None:
    record_upstream_dataset(compliance.uow, announcement("e1", "a" * 64, T0))
    record_upstream_dataset(
        compliance.uow,
        announcement("e2", "c" * 64, T0, service="logistics", dataset="iso3166_countries", record_count=249),
    )
    assert [(d.service, d.dataset) for d in list_upstream_datasets(compliance.uow)] == [
        ("logistics", "iso3166_countries"),
        ("payments", "iso4217_currencies"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"service": "payments", "dataset": "x", "version": "v"},  # no event id: cannot be processed once
        {"event_id": "e9", "service": "payments", "dataset": "x", "version": "v"},  # no occurred_at
        {"event_id": "e9", "occurred_at": "yesterday", "service": "payments", "dataset": "x", "version": "v"},
        "not json",
    ],
)
def test_an_unreadable_announcement_is_dropped_without_blocking(compliance: ServiceContext, payload: object) -> None:
    assert record_upstream_dataset(compliance.uow, payload) is False  # type: ignore[arg-type]
    assert list_upstream_datasets(compliance.uow) == []


def test_event_handlers_wire_every_subscription(compliance: ServiceContext) -> None:
    handlers = bootstrap.event_handlers(compliance)
    assert {s.method_name for s in for_consumer("compliance", subscriptions())} == set(handlers)
    handlers["on_payments_reference_data_imported"](announcement("e1", "a" * 64, T0))
    assert len(list_upstream_datasets(compliance.uow)) == 1


def test_supersedes_orders_by_commit_time_not_version() -> None:
    stored = UpstreamDataset("payments", "d", "b" * 64, 1, "s", T0, "e2")
    assert supersedes(UpstreamDataset("payments", "d", "a" * 64, 1, "s", T0 + timedelta(seconds=1), "e3"), stored)
    assert not supersedes(UpstreamDataset("payments", "d", "c" * 64, 1, "s", T0 - timedelta(seconds=1), "e1"), stored)
    assert supersedes(stored, None)
