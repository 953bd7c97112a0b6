"""The AMQP event bus: publishes outbox events to RabbitMQ in nameko's format, with kombu only.

gRPC processes must not run eventlet (ARCHITECTURE.md), so this is a plain kombu producer used by the
outbox relay thread. `publish` returns only when the broker has confirmed the message (publisher
confirms) and raises otherwise, so the relay keeps the event and retries it; after a failure the next
publish opens a fresh connection. The first connection declares the consumer topology, so no event is
published before the queues that must receive it exist.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from kombu import Connection, Producer

from services.shared.events import Event
from services.shared.logs import get_logger
from services.shared.settings import mask_url
from services.shared.topology import PERSISTENT, Subscription, declare, event_exchange, is_subscribed

log = get_logger(__name__)


class UnroutableEvent(RuntimeError):
    """The broker returned an event that a subscription says must reach a queue (the queue is gone)."""


class AmqpBus:
    """An EventBus over RabbitMQ. Thread-safe; in practice only the relay thread publishes."""

    def __init__(
        self,
        url: str,
        *,
        subscriptions: Iterable[Subscription],
        connect_timeout: float = 3.0,
        confirm_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.subscriptions = tuple(subscriptions)
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._declared_exchanges: set[str] = set()
        self._returned: list[str] = []

    def publish(self, event: Event) -> None:
        with self._lock:
            try:
                self._publish(event)
            except Exception:
                # The channel may hold a half-read confirm or be closed by the broker: start afresh next time.
                self._disconnect(graceful=False)
                raise

    def close(self) -> None:
        with self._lock:
            self._disconnect(graceful=True)

    def _publish(self, event: Event) -> None:
        producer = self._ensure_producer()
        exchange = event_exchange(event.source)
        if exchange.name not in self._declared_exchanges:
            # An event nobody subscribes to still needs its exchange, or the broker closes the channel.
            exchange(producer.channel).declare()
            self._declared_exchanges.add(exchange.name)
        # Mandatory only where a queue must exist: an event without subscribers is rightly dropped by the
        # broker, and treating that as a failure would hold every later event of the outbox behind it.
        mandatory = is_subscribed(event.source, event.event_type, self.subscriptions)
        self._returned.clear()
        producer.publish(
            event.body().encode("utf-8"),
            exchange=exchange,
            routing_key=event.event_type,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=PERSISTENT,
            mandatory=mandatory,
            message_id=event.event_id,
            retry=False,  # the relay retries, with back-off, keeping commit order
            confirm_timeout=self.confirm_timeout,
        )
        if self._returned:
            raise UnroutableEvent(
                f"{event.event_type} from {event.source} was returned by the broker: "
                f"{self._returned[0]}; the topology is declared again on the next attempt"
            )

    def _ensure_producer(self) -> Producer:
        if self._producer is not None:
            return self._producer
        connection = Connection(
            self.url, connect_timeout=self.connect_timeout, transport_options={"confirm_publish": True}
        )
        try:
            connection.ensure_connection(max_retries=0)  # fail now; the relay decides when to try again
            declare(connection, self.subscriptions)
            producer = Producer(connection.channel(), on_return=self._on_return)
        except Exception:
            connection.collect()
            raise
        self._connection, self._producer = connection, producer
        self._declared_exchanges = {s.queue().exchange.name for s in self.subscriptions}
        log.info("amqp_connected", broker=mask_url(self.url), queues=len(self.subscriptions))
        return producer

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        # Called by py-amqp while it waits for the confirm: basic.return always precedes basic.ack.
        self._returned.append(f"{exc} (exchange {exchange!r}, routing key {routing_key!r})")

    def _disconnect(self, *, graceful: bool) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        self._declared_exchanges = set()
        if connection is None:
            return
        if not graceful:
            # No AMQP close handshake: on a dead or half-open socket it would wait for a reply that never comes.
            connection.collect()
            return
        try:
            connection.release()
        except Exception as exc:  # a broken connection may fail to close; it is being dropped anyway
            log.debug("amqp_close_failed", error=str(exc))
