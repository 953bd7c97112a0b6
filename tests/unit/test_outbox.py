"""The outbox relay: what a unit of work commits is published, in commit order, and a bus outage loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from xborder.common.v1 import events_pb2

from services.shared.idempotency import idempotency_table
from services.shared.outbox import OutboxRelay
from services.shared.tables import kernel_tables
from services.shared.uow import UnitOfWork
from tests.fakes import RecordingBus

metadata = sa.MetaData()
OUTBOX, PROCESSED, _ = kernel_tables(metadata)
KEYS = idempotency_table(metadata)
notes = sa.Table(
    "notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.String(40), nullable=False)
)


@dataclass
class Notes:
    """A tiny service: one table, the kernel tables, a relay."""

    engine: sa.Engine
    bus: RecordingBus
    relay: OutboxRelay

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, "notes", OUTBOX, PROCESSED, KEYS, on_commit=self.relay.wake)

    def add(self, *texts: str) -> None:
        """A handler: the rows and their events commit together."""
        with self.uow() as uow:
            for text in texts:
                uow.connection.execute(notes.insert().values(text=text))
                uow.emit(events_pb2.ReferenceDataImported(service="notes", dataset=text, version="v1"))
            uow.commit()

    def stored(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(notes.c.text).order_by(notes.c.id)).scalars())

    def outbox_rows(self) -> list[sa.RowMapping]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).mappings())


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Notes]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    metadata.create_all(engine)
    bus = RecordingBus()
    relay = OutboxRelay(engine, OUTBOX, bus, "notes", poll_interval=0.02, max_backoff=0.05)
    yield Notes(engine, bus, relay)
    relay.stop()
    engine.dispose()


def published(bus: RecordingBus) -> list[str]:
    return [event.payload["dataset"] for event in bus.published]


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_committed_events_are_published_in_commit_order(service: Notes) -> None:
    service.add("first")
    service.add("second", "third")
    service.add("fourth")

    assert service.relay.drain()

    assert published(service.bus) == ["first", "second", "third", "fourth"]
    event = service.bus.published[0]
    assert (event.source, event.event_type) == ("notes", "reference_data_imported")
    assert event.payload["event_id"] == event.event_id and event.occurred_at.tzinfo is not None
    assert all(row["published_at"] is not None for row in service.outbox_rows())


def test_a_rolled_back_unit_of_work_publishes_nothing(service: Notes) -> None:
    with service.uow() as uow:  # left without commit: rolled back on exit
        uow.connection.execute(notes.insert().values(text="abandoned"))
        uow.emit(events_pb2.ReferenceDataImported(service="notes", dataset="abandoned"))
    with pytest.raises(RuntimeError), service.uow() as uow:
        uow.connection.execute(notes.insert().values(text="failed"))
        uow.emit(events_pb2.ReferenceDataImported(service="notes", dataset="failed"))
        raise RuntimeError("the handler failed before committing")
    with service.uow() as uow:
        uow.emit(events_pb2.ReferenceDataImported(service="notes", dataset="rolled-back"))
        uow.rollback()

    assert service.relay.drain()

    assert service.stored() == [] and service.outbox_rows() == []
    assert service.bus.published == []


def test_emit_many_writes_one_row_per_message_published_in_the_order_given(service: Notes) -> None:
    service.add("before")
    with service.uow() as uow:
        uow.connection.execute(notes.insert().values(text="batch"))
        events = uow.emit_many(
            [events_pb2.ReferenceDataImported(service="notes", dataset=name, version="v1") for name in "xyz"]
        )
        assert uow.emit_many([]) == []
        uow.commit()
    service.add("after")

    assert service.relay.drain()

    assert published(service.bus) == ["before", "x", "y", "z", "after"]
    assert [e.event_id for e in service.bus.published[1:4]] == [e.event_id for e in events]
    assert len({row["event_id"] for row in service.outbox_rows()}) == 5


def test_emit_many_without_a_commit_publishes_nothing(service: Notes) -> None:
    with pytest.raises(RuntimeError), service.uow() as uow:
        uow.emit_many([events_pb2.ReferenceDataImported(service="notes", dataset=name) for name in "ab"])
        raise RuntimeError("the handler failed before committing")

    assert service.relay.drain()
    assert service.outbox_rows() == [] and service.bus.published == []


def test_a_bus_outage_loses_nothing_and_each_event_is_published_once_after_it(service: Notes) -> None:
    service.bus.fail = True
    service.add("a")
    service.add("b", "c")

    assert service.relay.publish_pending() == 0
    assert not service.relay.drain(timeout=0.2)

    assert service.stored() == ["a", "b", "c"]  # the state committed regardless of the broker
    assert service.relay.pending() == 3
    first, *others = service.outbox_rows()
    assert first["attempts"] >= 2 and "bus unavailable" in first["last_error"]
    assert all(row["attempts"] == 0 for row in others)  # later events wait: commit order is kept

    service.bus.fail = False
    assert service.relay.drain()
    assert service.relay.drain()  # nothing left to publish a second time

    assert published(service.bus) == ["a", "b", "c"]
    assert len({event.event_id for event in service.bus.published}) == 3
    assert all(row["last_error"] is None and row["published_at"] is not None for row in service.outbox_rows())


def test_the_running_relay_publishes_what_is_committed_and_retries_after_an_outage(service: Notes) -> None:
    service.relay.start()
    service.add("while-up")
    assert eventually(lambda: published(service.bus) == ["while-up"])

    service.bus.fail = True
    service.add("during-outage")
    assert eventually(lambda: service.outbox_rows()[-1]["attempts"] > 0)
    assert published(service.bus) == ["while-up"]

    service.bus.fail = False
    assert eventually(lambda: service.relay.pending() == 0)
    assert published(service.bus) == ["while-up", "during-outage"]
