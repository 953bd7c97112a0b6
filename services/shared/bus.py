"""The event bus interface and its in-process implementation (the embedded default).

`publish` returns only once the event has been handed over (in-process: every subscriber ran; AMQP: the
broker confirmed), and raises otherwise, so the outbox keeps what was not delivered.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from services.shared.events import Event
from services.shared.logs import get_logger

log = get_logger(__name__)

Handler = Callable[[dict[str, Any]], None]


class EventBus(Protocol):
    def publish(self, event: Event) -> None: ...

    def close(self) -> None: ...


class InProcessBus:
    """Calls subscribed handlers synchronously in the publishing (relay) thread.

    If a handler raises, publish raises: the relay retries the event later, and consumers are idempotent
    by event id, so the handlers that already succeeded skip it.
    """

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], list[tuple[str, Handler]]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, source: str, event_type: str, consumer: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[(source, event_type)].append((consumer, handler))

    def publish(self, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers.get((event.source, event.event_type), ()))
        failures = []
        for consumer, handler in handlers:
            try:
                handler(dict(event.payload))
            except Exception as exc:  # one failing consumer must not starve the others
                log.exception(
                    "event_handler_failed", consumer=consumer, event_type=event.event_type, event_id=event.event_id
                )
                failures.append(f"{consumer}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))

    def close(self) -> None:
        pass
