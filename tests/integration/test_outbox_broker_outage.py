"""A broker outage delays events and loses none; a re-published event is still consumed once.

Payments imports its reference data while RabbitMQ is unreachable: the import commits and its events wait
in the outbox. Once the relay can reach a broker, every event is delivered to a consumer queue of this
test's own (deleted afterwards) and consumed by compliance's idempotent handler, which skips the copy a
crash between the broker's confirm and the outbox mark would publish again. (The copies also reach any
compliance worker queue already bound to `payments.events`; compliance skips or records them as it should.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from kombu import Connection

from services.compliance import bootstrap as compliance
from services.compliance.service_layer import reference_data as compliance_handlers
from services.payments import bootstrap as payments
from services.shared.amqp import AmqpBus
from services.shared.settings import Settings
from services.shared.topology import Subscription
from tests.fakes import RecordingBus

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1


@pytest.fixture
def consumer_queue(amqp_url: str) -> Iterator[Subscription]:
    subscription = Subscription("payments", "reference_data_imported", f"outage{uuid.uuid4().hex[:8]}", "record")
    yield subscription
    with Connection(amqp_url) as connection:
        connection.channel().queue_delete(subscription.queue_name)


def drain_queue(amqp_url: str, subscription: Subscription) -> list[dict[str, Any]]:
    payloads = []
    with Connection(amqp_url) as connection:
        queue = subscription.queue()(connection.channel())
        while (message := queue.get(accept=["json"])) is not None:
            payloads.append(message.payload)
            message.ack()
    return payloads


def test_events_wait_out_a_broker_outage_and_are_consumed_once(
    amqp_url: str, postgres_settings: Settings, consumer_queue: Subscription
) -> None:
    down = AmqpBus(UNREACHABLE, subscriptions=[consumer_queue], connect_timeout=2)
    up = AmqpBus(amqp_url, subscriptions=[consumer_queue])
    context = payments.bootstrap(postgres_settings, down)
    compliance_context = compliance.bootstrap(postgres_settings, RecordingBus())
    outbox = context.outbox
    try:
        results = context.import_reference_data()

        # The imports committed although no event could leave.
        datasets = [spec.name for spec in context.dataset_specs]
        assert datasets[:2] == ["iso4217_currencies", "ecb_reference_rates"]
        assert [r.dataset for r in results if r.changed] == datasets
        assert {v.dataset for v in context.dataset_versions()} == set(datasets)
        assert context.relay.publish_pending() == 0
        assert context.relay.pending() == len(datasets)
        with context.engine.connect() as connection:
            first = connection.execute(sa.select(outbox).order_by(outbox.c.id)).mappings().first()
        assert first is not None
        assert first["attempts"] == 1 and "refused" in first["last_error"]

        context.relay.bus = up  # the broker is back
        assert context.relay.drain(timeout=30)

        # A crash after the broker confirmed but before the outbox mark committed publishes the event again.
        with context.engine.begin() as connection:
            connection.execute(outbox.update().where(outbox.c.id == first["id"]).values(published_at=None))
        assert context.relay.drain(timeout=30)

        delivered = drain_queue(amqp_url, consumer_queue)
        with context.engine.connect() as connection:
            events = [
                json.loads(payload)
                for payload in connection.execute(sa.select(outbox.c.payload).order_by(outbox.c.id)).scalars()
            ]
        assert delivered == [*events, events[0]]  # in commit order, then the copy

        outcomes = [compliance_handlers.record_upstream_dataset(compliance_context.uow, p) for p in delivered]
        assert outcomes == [True] * len(datasets) + [False]  # the copy is recognised by its event id and skipped
        recorded = {
            (d.service, d.dataset, d.version, d.event_id)
            for d in compliance_handlers.list_upstream_datasets(compliance_context.uow)
        }
        assert recorded == {("payments", e["dataset"], e["version"], e["event_id"]) for e in events}
        assert {(v.dataset, v.version) for v in context.dataset_versions()} == {
            (e["dataset"], e["version"]) for e in events
        }
        with compliance_context.engine.connect() as connection:
            processed = connection.execute(sa.select(sa.func.count()).select_from(compliance_context.processed))
            assert processed.scalar_one() == len(datasets)
    finally:
        context.close()
        compliance_context.close()
        down.close()
        up.close()
