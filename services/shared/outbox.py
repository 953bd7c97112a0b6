"""The outbox relay: publishes committed events in commit order and marks them once the bus confirms.

At-least-once: a crash between the bus's confirmation and the mark re-publishes the event, which consumers
skip by event id. A failing bus delays events (with capped exponential back-off) and loses none.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.engine import Connection, Engine

from services.shared.bus import EventBus
from services.shared.clock import utcnow
from services.shared.db import is_sqlite
from services.shared.events import Event
from services.shared.logs import get_logger
from services.shared.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING

log = get_logger(__name__)


def write_event(connection: Connection, outbox: sa.Table, source: str, message: Message) -> Event:
    """Write `message` as a row of `outbox` in the caller's transaction: published if, and only if, it commits."""
    event = Event.from_message(source, message)
    connection.execute(
        outbox.insert().values(
            event_id=event.event_id,
            source=event.source,
            event_type=event.event_type,
            payload=event.body(),
            occurred_at=event.occurred_at,
            attempts=0,
        )
    )
    return event


def write_events(connection: Connection, outbox: sa.Table, source: str, messages: Sequence[Message]) -> list[Event]:
    """Write several messages as outbox rows in one statement, in the order given (the relay's publish order).

    The same rows, in the same transaction, as one `write_event` per message: published if, and only if, the
    caller commits. One round trip instead of one per message.
    """
    events = [Event.from_message(source, message) for message in messages]
    if events:
        connection.execute(
            outbox.insert(),
            [
                {
                    "event_id": event.event_id,
                    "source": event.source,
                    "event_type": event.event_type,
                    "payload": event.body(),
                    "occurred_at": event.occurred_at,
                    "attempts": 0,
                }
                for event in events
            ],
        )
    return events


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox: sa.Table,
        bus: EventBus,
        service: str,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 100,
        max_backoff: float = 30.0,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.bus = bus
        self.service = service
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._publishing = threading.Lock()  # the relay thread and drain() never publish one batch twice

    def wake(self) -> None:
        self._wake.set()

    def pending(self) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count()).select_from(self.outbox).where(self.outbox.c.published_at.is_(None))
            ).scalar_one()
        OUTBOX_PENDING.labels(self.service).set(count)
        return int(count)

    def publish_pending(self) -> int:
        """Publish one batch; returns how many were confirmed. Raises nothing: failures are recorded."""
        with self._publishing:
            return self._publish_batch()

    def _publish_batch(self) -> int:
        published = 0
        # SQLite: each mark commits before the next event is handed to the bus, so an in-process consumer
        # writing the same database (compliance handles its own rules_published) never waits on the
        # relay's write lock (docs/adr/0020-relay-commits-each-mark-on-sqlite.md).
        per_row = is_sqlite(self.engine)
        with self.engine.connect() as connection:  # closing it uncommitted rolls back
            connection.begin()
            query = (
                sa.select(self.outbox)
                .where(self.outbox.c.published_at.is_(None))
                .order_by(self.outbox.c.id)
                .limit(self.batch_size)
            )
            if not is_sqlite(self.engine):
                query = query.with_for_update(skip_locked=True)  # several relays never publish one row twice
            rows = connection.execute(query).mappings().all()
            for row in rows:
                event = Event(
                    row["event_id"],
                    row["source"],
                    row["event_type"],
                    row["occurred_at"].astimezone(UTC),
                    json.loads(row["payload"]),
                )
                try:
                    self.bus.publish(event)
                except Exception as exc:
                    connection.execute(
                        self.outbox.update()
                        .where(self.outbox.c.id == row["id"])
                        .values(attempts=row["attempts"] + 1, last_error=str(exc)[:500])
                    )
                    log.warning(
                        "outbox_publish_failed",
                        event_id=event.event_id,
                        event_type=event.event_type,
                        attempts=row["attempts"] + 1,
                        error=str(exc),
                    )
                    self._failures += 1
                    break  # keep commit order: later events wait for this one
                connection.execute(
                    self.outbox.update()
                    .where(self.outbox.c.id == row["id"])
                    .values(published_at=utcnow(), attempts=row["attempts"] + 1, last_error=None)
                )
                if per_row:
                    connection.commit()
                    connection.begin()
                EVENTS_PUBLISHED.labels(self.service, event.event_type).inc()
                published += 1
            else:
                self._failures = 0
            connection.commit()
        return published

    def drain(self, timeout: float = 10.0) -> bool:
        """Publish until nothing is pending (tests, shutdown); False if the bus kept failing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.publish_pending()
            if self.pending() == 0:
                return True
            time.sleep(0.05)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self.publish_pending()
            except Exception:  # a database hiccup must not kill the relay thread
                log.exception("outbox_relay_error", service=self.service)
                batch = 0
                self._failures += 1
            if batch == self.batch_size:
                continue
            delay = (
                self.poll_interval
                if not self._failures
                else min(self.max_backoff, self.poll_interval * 2 ** min(self._failures, 10))
            )
            self._wake.wait(delay)
            self._wake.clear()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"outbox-{self.service}", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
