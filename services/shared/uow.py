"""Unit of work over one SQLAlchemy Core connection: state changes and their events commit together.

Every service subclasses `UnitOfWork` and builds its repositories in `_bind`, so handlers ask the unit of
work for them (`uow.ledger`, `uow.checks`) and never see a connection, an engine or SQL. Handlers are the
only callers of `commit`. Events go to the outbox table in the same transaction; after the commit the
relay is woken to publish them (docs/architecture.md: outbox).

A unique-key race (two copies of one request, two workers inserting the same row) surfaces as the
kernel's `ConflictingWrite`, whatever the database driver raised, so the service layer can retry or
replay without importing SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from services.shared.clock import utcnow
from services.shared.crypto.fields import FieldCrypto
from services.shared.errors import ConflictingWrite
from services.shared.events import Event
from services.shared.idempotency import IdempotencyRepository
from services.shared.outbox import write_event, write_events

U = TypeVar("U", bound="UnitOfWork")


def insert_for(connection: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both PostgreSQL and SQLite."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


class UnitOfWork:
    """One transaction. Subclasses declare their repositories as attributes and create them in `_bind`."""

    idempotency: IdempotencyRepository
    field_crypto_source: Callable[[], FieldCrypto] | None = None
    """Set by ServiceContext.uow(): repositories with PERSONAL_SENSITIVE columns take `self.field_crypto`."""

    @property
    def field_crypto(self) -> FieldCrypto:
        if self.field_crypto_source is None:
            raise RuntimeError("this unit of work was not built by a ServiceContext: no field encryption keys")
        return self.field_crypto_source()

    def __init__(
        self,
        engine: Engine,
        service: str,
        outbox: sa.Table,
        processed: sa.Table,
        idempotency_keys: sa.Table,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.service = service
        self._outbox = outbox
        self._processed = processed
        self._idempotency_keys = idempotency_keys
        self._on_commit = on_commit
        self._connection: Connection | None = None
        self._pending_events = 0

    @property
    def connection(self) -> Connection:
        """For adapters and the kernel's dataset import only; handlers use the repositories."""
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _bind(self, connection: Connection) -> None:
        """Create this service's repositories on the transaction's connection (subclasses extend it)."""
        self.idempotency = IdempotencyRepository(connection, self._idempotency_keys)

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self._pending_events = 0
        self._bind(self._connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if connection.in_transaction():
                connection.rollback()
            connection.close()
        if isinstance(exc, IntegrityError):
            raise ConflictingWrite(str(exc.orig)) from exc

    def lock_for_write(self) -> None:
        """Take the write lock before the first read, so what this transaction reads stays current.

        pysqlite opens its transaction lazily at the first INSERT/UPDATE; reads before that would see a
        snapshot another writer can change before this one writes, so SQLite starts `BEGIN IMMEDIATE` here.
        PostgreSQL locks rows as repositories read them `FOR UPDATE`; nothing to do. Idempotent.
        """
        connection = self.connection
        if connection.dialect.name != "sqlite":
            return
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:  # type: ignore[attr-defined]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def emit(self, message: Message) -> Event:
        """Record an event to publish if, and only if, this unit of work commits."""
        event = write_event(self.connection, self._outbox, self.service, message)
        self._pending_events += 1
        return event

    def emit_many(self, messages: Sequence[Message]) -> list[Event]:
        """`emit` for several messages in one outbox statement; they publish in the order given."""
        events = write_events(self.connection, self._outbox, self.service, messages)
        self._pending_events += len(events)
        return events

    def claim_event(self, consumer: str, event_id: str) -> bool:
        """Mark an incoming event processed by `consumer`; False if it already was (skip it).

        Runs in this transaction, so the mark commits with the consumer's state change or not at all. A
        broker delivers at least once, so two copies of one event may be handled at the same moment: the
        insert does nothing on conflict, and on PostgreSQL the second copy waits for the first's
        transaction and then finds the mark, instead of failing on the key.
        """
        insert = insert_for(self.connection)(self._processed).values(
            consumer=consumer, event_id=event_id, processed_at=utcnow()
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT under SQLAlchemy 2.1.
        claimed = self.connection.execute(
            insert.on_conflict_do_nothing(index_elements=["consumer", "event_id"]).returning(self._processed.c.event_id)
        ).first()
        return claimed is not None

    def commit(self) -> None:
        try:
            self.connection.commit()
        except IntegrityError as error:
            raise ConflictingWrite(str(error.orig)) from error
        if self._pending_events and self._on_commit is not None:
            self._on_commit()
        self._pending_events = 0

    def rollback(self) -> None:
        self.connection.rollback()
        self._pending_events = 0
