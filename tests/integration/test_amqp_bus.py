"""AmqpBus against a real RabbitMQ: nameko's message format, declared topology, confirms and failures.

Every test uses source and consumer names of its own and deletes its queues and exchanges afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from services.shared.amqp import AmqpBus, UnroutableEvent
from services.shared.events import Event
from services.shared.topology import Subscription, declare

pytestmark = pytest.mark.rabbitmq


class Broker:
    """A test's own corner of the broker: unique names, removed on teardown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tag = uuid.uuid4().hex[:8]
        self.subscriptions: list[Subscription] = []
        self.exchanges: set[str] = set()
        self.buses: list[AmqpBus] = []

    def subscription(self, source: str, event_type: str = "reference_data_imported") -> Subscription:
        subscription = Subscription(f"{source}{self.tag}", event_type, f"consumer{self.tag}", "handle")
        self.subscriptions.append(subscription)
        self.exchanges.add(f"{subscription.source_service}.events")
        return subscription

    def bus(self, *subscriptions: Subscription) -> AmqpBus:
        bus = AmqpBus(self.url, subscriptions=subscriptions)
        self.buses.append(bus)
        return bus

    def get(self, subscription: Subscription) -> Any:
        """The next message on a subscription's queue (acknowledged), or None."""
        with Connection(self.url) as connection:
            return subscription.queue()(connection.channel()).get(no_ack=True, accept=["json"])

    def queue_exists(self, subscription: Subscription) -> bool:
        with Connection(self.url) as connection:
            try:
                connection.channel().queue_declare(subscription.queue_name, passive=True)
            except Exception:  # NOT_FOUND closes the channel
                return False
            return True

    def cleanup(self) -> None:
        for bus in self.buses:
            bus.close()
        with Connection(self.url) as connection:
            channel = connection.channel()
            for subscription in self.subscriptions:
                channel.queue_delete(subscription.queue_name)
            for exchange in self.exchanges:
                channel.exchange_delete(exchange)


@pytest.fixture
def broker(amqp_url: str) -> Iterator[Broker]:
    broker = Broker(amqp_url)
    yield broker
    broker.cleanup()


def event_for(subscription: Subscription, **payload: Any) -> Event:
    event_id = str(uuid.uuid4())
    return Event(
        event_id,
        subscription.source_service,
        subscription.event_type,
        datetime.now(UTC),
        {"event_id": event_id, **payload},
    )


def test_a_published_event_arrives_on_the_declared_queue_in_nameko_format(broker: Broker) -> None:
    subscription = broker.subscription("payments")
    event = event_for(subscription, dataset="ecb_reference_rates", record_count="231000")

    broker.bus(subscription).publish(event)  # the first connection declares the queue, then publishes

    message = broker.get(subscription)
    assert message is not None
    assert message.body == event.body()  # byte for byte what the outbox holds
    assert json.loads(message.body) == event.payload
    assert message.delivery_info["exchange"] == f"{subscription.source_service}.events"
    assert message.delivery_info["routing_key"] == "reference_data_imported"
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2
    assert message.properties["message_id"] == event.event_id
    assert subscription.queue_name == f"evt-payments{broker.tag}-reference_data_imported--consumer{broker.tag}.handle"


def test_every_subscribed_queue_gets_its_copy_and_other_event_types_go_nowhere(broker: Broker) -> None:
    first = broker.subscription("payments")
    second = Subscription(first.source_service, first.event_type, f"other{broker.tag}", "handle")
    broker.subscriptions.append(second)
    bus = broker.bus(first, second)

    bus.publish(event_for(first, dataset="iso4217_currencies"))
    bus.publish(Event(str(uuid.uuid4()), first.source_service, "rate_quoted", datetime.now(UTC), {"quote": "1"}))

    for subscription in (first, second):
        assert broker.get(subscription).payload["dataset"] == "iso4217_currencies"
        assert broker.get(subscription) is None  # the unsubscribed rate_quoted was not routed here


def test_nameko_declares_the_same_queue_without_a_precondition_failure(broker: Broker) -> None:
    subscription = broker.subscription("logistics")
    with Connection(broker.url) as connection:
        declare(connection, [subscription])
        # Exactly what nameko 2.14's @event_handler(source, type) builds for a SERVICE_POOL, reliable handler.
        nameko_queue = Queue(
            subscription.queue_name,
            exchange=get_event_exchange(subscription.source_service, {}),
            routing_key=subscription.event_type,
            durable=True,
            auto_delete=False,
            exclusive=False,
        )
        nameko_queue(connection.channel()).declare()
    assert broker.queue_exists(subscription)


def test_a_queue_deleted_under_a_running_bus_fails_the_publish_then_is_declared_again(broker: Broker) -> None:
    subscription = broker.subscription("payments")
    bus = broker.bus(subscription)
    bus.publish(event_for(subscription, dataset="first"))
    with Connection(broker.url) as connection:
        connection.channel().queue_delete(subscription.queue_name)

    lost = event_for(subscription, dataset="second")
    with pytest.raises(UnroutableEvent, match="NO_ROUTE"):
        bus.publish(lost)  # the broker returned it: the outbox must keep it

    bus.publish(lost)  # the retry reconnects and declares the topology first
    assert broker.get(subscription).payload["dataset"] == "second"


def test_an_unreachable_broker_raises_and_a_later_publish_reconnects(broker: Broker) -> None:
    subscription = broker.subscription("payments")
    bus = AmqpBus("amqp://guest:guest@127.0.0.1:1//", subscriptions=[subscription], connect_timeout=2)
    with pytest.raises(Exception, match="refused"):
        bus.publish(event_for(subscription))
    bus.close()

    bus.url = broker.url  # the broker came back (here: at another address)
    bus.publish(event_for(subscription, dataset="after-outage"))
    bus.close()
    assert broker.get(subscription).payload["dataset"] == "after-outage"
