"""Which consumer listens to which event on AMQP: the one list every process declares at start-up.

RabbitMQ drops an event published to an exchange that has no bound queue yet (docs/architecture.md:
constraints found by trial). So the publishers and the nameko workers both declare every consumer queue from
this list before anything is published. Names and flags are exactly those nameko 2.14.1's
`@event_handler(source, event_type)` with `handler_type=SERVICE_POOL, reliable_delivery=True` declares
(nameko/events.py, nameko/standalone/events.py): a different flag would make one of the two declarations
fail with PRECONDITION_FAILED, a different name would leave a queue that fills up and is never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

from services.shared.events import exchange_name

PERSISTENT = 2
"""AMQP delivery mode 2: the broker writes the message to disk (nameko.constants.PERSISTENT)."""


def event_exchange(source_service: str) -> Exchange:
    """The topic exchange a service's events are published to, as nameko's `get_event_exchange` makes it."""
    return Exchange(
        exchange_name(source_service), type="topic", durable=True, auto_delete=False, delivery_mode=PERSISTENT
    )


@dataclass(frozen=True)
class Subscription:
    """`consumer_service`'s nameko method `method_name` handles `event_type` events from `source_service`."""

    source_service: str
    event_type: str
    consumer_service: str
    method_name: str

    @property
    def queue_name(self) -> str:
        return f"evt-{self.source_service}-{self.event_type}--{self.consumer_service}.{self.method_name}"

    def queue(self) -> Queue:
        # Durable, not auto-delete, not exclusive, no arguments: reliable_delivery=True in nameko.
        return Queue(
            self.queue_name,
            exchange=event_exchange(self.source_service),
            routing_key=self.event_type,
            durable=True,
            auto_delete=False,
            exclusive=False,
        )


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("payments", "reference_data_imported", "compliance", "on_payments_reference_data_imported"),
    Subscription("logistics", "reference_data_imported", "compliance", "on_logistics_reference_data_imported"),
    Subscription("compliance", "rules_published", "compliance", "on_rules_published"),
    Subscription("compliance", "list_updated", "compliance", "on_list_updated"),
    Subscription("compliance", "risk_alert_raised", "payments", "on_risk_alert_raised"),
    Subscription("compliance", "risk_alert_raised", "customer_service", "on_risk_alert_raised"),
)
"""Every event subscription on the platform. A nameko service's @event_handler methods must match these."""


def for_consumer(service: str, subscriptions: Iterable[Subscription] = SUBSCRIPTIONS) -> tuple[Subscription, ...]:
    return tuple(s for s in subscriptions if s.consumer_service == service)


def is_subscribed(source_service: str, event_type: str, subscriptions: Iterable[Subscription] = SUBSCRIPTIONS) -> bool:
    return any(s.source_service == source_service and s.event_type == event_type for s in subscriptions)


def declare(connection: Connection, subscriptions: Iterable[Subscription] = SUBSCRIPTIONS) -> None:
    """Declare every source exchange, consumer queue and binding (idempotent; raises if the broker refuses)."""
    channel = connection.channel()
    try:
        for subscription in subscriptions:
            subscription.queue()(channel).declare()  # the exchange, the queue, then the binding
    finally:
        channel.close()
