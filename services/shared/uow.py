"""Unit of work over one SQLAlchemy Core connection: state changes and their events commit together.

Handlers are the only callers of `commit`. Events go to the outbox table in the same transaction; after
the commit the relay is woken to publish them (ARCHITECTURE.md: outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.shared.clock import utcnow
from services.shared.events import Event


def _insert_for(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class UnitOfWork:
    def __init__(
        self,
        engine: Engine,
        service: str,
        outbox: sa.Table,
        processed: sa.Table,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.service = service
        self._outbox = outbox
        self._processed = processed
        self._on_commit = on_commit
        self._connection: Connection | None = None
        self._pending_events = 0

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self._pending_events = 0
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if connection.in_transaction():
                connection.rollback()
            connection.close()

    def emit(self, message: Message) -> Event:
        """Record an event to publish if, and only if, this unit of work commits."""
        event = Event.from_message(self.service, message)
        self.connection.execute(
            self._outbox.insert().values(
                event_id=event.event_id,
                source=event.source,
                event_type=event.event_type,
                payload=event.body(),
                occurred_at=event.occurred_at,
                attempts=0,
            )
        )
        self._pending_events += 1
        return event

    def claim_event(self, consumer: str, event_id: str) -> bool:
        """Mark an incoming event processed by `consumer`; False if it already was (skip it).

        Runs in this transaction, so the mark commits with the consumer's state change or not at all. A
        broker delivers at least once, so two copies of one event may be handled at the same moment: the
        insert does nothing on conflict, and on PostgreSQL the second copy waits for the first's
        transaction and then finds the mark, instead of failing on the key.
        """
        insert = _insert_for(self.connection.dialect.name)(self._processed).values(
            consumer=consumer, event_id=event_id, processed_at=utcnow()
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT under SQLAlchemy 2.1.
        claimed = self.connection.execute(
            insert.on_conflict_do_nothing(index_elements=["consumer", "event_id"]).returning(self._processed.c.event_id)
        ).first()
        return claimed is not None

    def commit(self) -> None:
        self.connection.commit()
        if self._pending_events and self._on_commit is not None:
            self._on_commit()
        self._pending_events = 0

    def rollback(self) -> None:
        self.connection.rollback()
        self._pending_events = 0
