"""The in-process bus (embedded platform): delivery to subscribers, retry through the outbox, idempotent consumers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from xborder.common.v1 import events_pb2

from services.shared.bus import InProcessBus
from services.shared.events import Event
from services.shared.idempotency import idempotency_table
from services.shared.outbox import OutboxRelay
from services.shared.tables import kernel_tables
from services.shared.uow import UnitOfWork

metadata = sa.MetaData()
OUTBOX, PROCESSED, _ = kernel_tables(metadata)
KEYS = idempotency_table(metadata)
received = sa.Table(
    "received",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("consumer", sa.String(40), nullable=False),
    sa.Column("dataset", sa.String(40), nullable=False),
)


def event(source: str, event_type: str, **payload: Any) -> Event:
    return Event(f"{source}-{event_type}-{len(payload)}", source, event_type, datetime.now(UTC), payload)


def test_delivers_to_the_subscribers_of_that_source_and_event_type_only() -> None:
    bus = InProcessBus()
    calls: list[tuple[str, dict[str, Any]]] = []
    bus.subscribe("payments", "reference_data_imported", "a", lambda p: calls.append(("a", p)))
    bus.subscribe("payments", "reference_data_imported", "b", lambda p: calls.append(("b", p)))
    bus.subscribe("logistics", "reference_data_imported", "c", lambda p: calls.append(("c", p)))

    bus.publish(event("payments", "reference_data_imported", dataset="iso4217"))
    bus.publish(event("payments", "rate_quoted", dataset="ignored"))

    assert calls == [("a", {"dataset": "iso4217"}), ("b", {"dataset": "iso4217"})]


def test_a_failing_subscriber_fails_the_publish_but_the_others_still_receive_it() -> None:
    bus = InProcessBus()
    calls: list[str] = []

    def broken(_: dict[str, Any]) -> None:
        raise ValueError("database is down")

    bus.subscribe("payments", "reference_data_imported", "broken", broken)
    bus.subscribe("payments", "reference_data_imported", "fine", lambda _: calls.append("fine"))

    with pytest.raises(RuntimeError, match="broken: database is down"):
        bus.publish(event("payments", "reference_data_imported"))
    assert calls == ["fine"]


class Consumer:
    """An idempotent consumer: records each event id once, in the same transaction as its state change."""

    def __init__(self, engine: sa.Engine, name: str, failures: int = 0) -> None:
        self.engine = engine
        self.name = name
        self.failures = failures
        self.skipped = 0

    def __call__(self, payload: dict[str, Any]) -> None:
        with UnitOfWork(self.engine, self.name, OUTBOX, PROCESSED, KEYS) as uow:
            if not uow.claim_event(self.name, payload["event_id"]):
                self.skipped += 1
                return
            uow.connection.execute(received.insert().values(consumer=self.name, dataset=payload["dataset"]))
            if self.failures:
                self.failures -= 1
                raise ConnectionError(f"{self.name} lost its database")  # before commit: rolled back
            uow.commit()

    def datasets(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(received.c.dataset).where(received.c.consumer == self.name).order_by(received.c.id)
                ).scalars()
            )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bus.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_a_redelivered_event_is_processed_once_by_each_consumer(engine: sa.Engine) -> None:
    bus = InProcessBus()
    relay = OutboxRelay(engine, OUTBOX, bus, "payments")
    steady = Consumer(engine, "steady.record")
    flaky = Consumer(engine, "flaky.record", failures=1)
    bus.subscribe("payments", "reference_data_imported", steady.name, steady)
    bus.subscribe("payments", "reference_data_imported", flaky.name, flaky)
    with UnitOfWork(engine, "payments", OUTBOX, PROCESSED, KEYS) as uow:
        uow.emit(events_pb2.ReferenceDataImported(service="payments", dataset="ecb_reference_rates"))
        uow.commit()

    assert relay.publish_pending() == 0  # flaky failed: the event stays in the outbox
    assert relay.pending() == 1
    with engine.connect() as connection:
        assert "flaky.record lost its database" in connection.execute(sa.select(OUTBOX.c.last_error)).scalar_one()
    assert (steady.datasets(), flaky.datasets()) == (["ecb_reference_rates"], [])

    assert relay.publish_pending() == 1  # redelivered to both subscribers

    assert relay.pending() == 0
    assert (steady.datasets(), flaky.datasets()) == (["ecb_reference_rates"], ["ecb_reference_rates"])
    assert (steady.skipped, flaky.skipped) == (1, 0)
