"""Fakes for our own interfaces (preferred over mocks)."""

from __future__ import annotations

import copy
from typing import Any, Self

from google.protobuf.message import Message

from services.shared.errors import ConflictingWrite
from services.shared.events import Event
from services.shared.idempotency import IdempotencyKeyReused


class RecordingBus:
    """An EventBus that records what was published and can be told to fail like a broker outage."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.fail = False

    def publish(self, event: Event) -> None:
        if self.fail:
            raise ConnectionError("bus unavailable")
        self.published.append(event)

    def close(self) -> None:
        pass


class InMemoryIdempotency:
    """`uow.idempotency` over a dict: what the unit of work committed, plus what it remembered since."""

    def __init__(self, committed: dict[tuple[str, str], tuple[str, bytes]]) -> None:
        self.committed = committed
        self.pending: dict[tuple[str, str], tuple[str, bytes]] = {}

    def replay(self, scope: str, key: str, fingerprint: str, field: str = "request_id") -> bytes | None:
        row = self.pending.get((scope, key)) or self.committed.get((scope, key))
        if row is None:
            return None
        if row[0] != fingerprint:
            raise IdempotencyKeyReused(scope, field)
        return row[1]

    def remember(self, scope: str, key: str, fingerprint: str, response: bytes) -> None:
        if (scope, key) in self.pending or (scope, key) in self.committed:
            raise ConflictingWrite(f"duplicate key ({scope}, {key})")
        self.pending[(scope, key)] = (fingerprint, response)


class InMemoryDatabase:
    """What the in-memory units of work commit to: remembered requests, claimed and emitted events."""

    def __init__(self) -> None:
        self.idempotency: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.claims: set[tuple[str, str]] = set()
        self.events: list[Message] = []
        self.commits = 0


class InMemoryUnitOfWork:
    """The kernel UnitOfWork's contract without a database: writes become visible to other units of work
    only at `commit`, a unit of work left without commit leaves nothing behind, and a second request under
    a key committed meanwhile fails as a ConflictingWrite (at `remember`, or at `commit` when the other
    committed in between). Subclasses add a service's repositories in `_bind` and apply them in `_apply`.
    """

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database
        self.locks_taken = 0

    def _bind(self) -> None:
        self.idempotency = InMemoryIdempotency(self.database.idempotency)
        self._claims: set[tuple[str, str]] = set()
        self._events: list[Message] = []

    def _apply(self) -> None:
        """Make this unit of work's repository writes visible (subclasses)."""

    def __enter__(self) -> Self:
        self._bind()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bind()  # whatever was not committed is dropped

    def lock_for_write(self) -> None:
        self.locks_taken += 1

    def emit(self, message: Message) -> None:
        self._events.append(message)

    def claim_event(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self.database.claims or key in self._claims:
            return False
        self._claims.add(key)
        return True

    def commit(self) -> None:
        conflicts = self.idempotency.pending.keys() & self.database.idempotency.keys()
        if conflicts:
            raise ConflictingWrite(f"duplicate keys {sorted(conflicts)}")
        self.database.idempotency.update(self.idempotency.pending)
        self.database.claims.update(self._claims)
        self.database.events.extend(self._events)
        self._apply()
        self.database.commits += 1
        self._bind()

    def rollback(self) -> None:
        self._bind()


class CopyingUnitOfWork:
    """A unit of work over a store of dicts (a dataclass whose fields are dicts, one of them `answers`, the
    remembered requests): it works on copies of the dicts and `commit` makes them the store's, so an
    uncommitted unit of work changes nothing. Subclasses bind their repositories to `self.pending` in `_bind`.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    def _bind(self) -> None:
        """Bind the repositories to `self.pending` (subclasses)."""

    def __enter__(self) -> Self:
        self.pending = copy.copy(self.store)
        for name, rows in vars(self.store).items():
            setattr(self.pending, name, dict(rows))
        self.idempotency = InMemoryIdempotency(self.pending.answers)
        self._bind()
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def lock_for_write(self) -> None:
        pass

    def commit(self) -> None:
        self.pending.answers.update(self.idempotency.pending)
        vars(self.store).update(vars(self.pending))
