"""Idempotent mutating RPCs: a client key per request, the first response kept and replayed.

Every mutating RPC takes a `request_id` (the gateway maps HTTP `Idempotency-Key` onto it). The first
request with a key stores a fingerprint of its payload and the serialised response in the same
transaction as its state change; a replay with the same payload gets that response back byte for byte,
a replay with a different payload is refused (Stripe keeps keys of up to 255 characters and compares
parameters on replay).

A concurrent duplicate loses the race on the primary key: `run_idempotent` rolls it back and replays, so
the state change happens once. Every use case that takes a request id goes through `run_idempotent`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.engine import Connection

from services.shared.clock import UtcDateTime, utcnow
from services.shared.errors import ConflictingWrite, FieldViolation, IdempotencyConflict, ValidationError

IDEMPOTENCY_KEY_MAX = 255
TABLE_NAME = "idempotency_keys"


class IdempotencyKeyReused(IdempotencyConflict):
    """The key was used before with a different payload (reason IDEMPOTENCY_CONFLICT, field named)."""

    def __init__(self, scope: str, field: str = "request_id") -> None:
        super().__init__(
            f"{field} was already used for a different {scope} request; send a new {field} for a new request",
            metadata={"field": field, "scope": scope},
        )
        self.field = field

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return (FieldViolation(self.field, "already used with a different payload"),)


def idempotency_table(metadata: sa.MetaData) -> sa.Table:
    """Define (once per metadata) and return the table of remembered requests."""
    if TABLE_NAME in metadata.tables:
        return metadata.tables[TABLE_NAME]
    return sa.Table(
        TABLE_NAME,
        metadata,
        sa.Column("scope", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(IDEMPOTENCY_KEY_MAX), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def create_idempotency_table(op: Any) -> None:
    """The migration step that creates the table; frozen at this shape (later changes get migrations)."""
    op.create_table(
        TABLE_NAME,
        sa.Column("scope", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(IDEMPOTENCY_KEY_MAX), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def fingerprint(message: Message, ignore: Iterable[str] = ("request_id",)) -> str:
    """SHA-256 of the message's deterministic serialisation with the `ignore` fields cleared.

    A name the message does not have is an error (a typo would silently fingerprint the key), except the
    default `request_id`, which read-like messages lack.
    """
    copy = type(message)()
    copy.CopyFrom(message)
    fields = message.DESCRIPTOR.fields_by_name
    for name in ignore:
        if name in fields:
            copy.ClearField(name)
        elif name != "request_id":
            raise ValueError(f"{message.DESCRIPTOR.full_name} has no field {name!r}")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


class ResponseSeal(Protocol):
    """Seals stored answers that echo PERSONAL_SENSITIVE fields (services.shared.crypto.fields)."""

    def seal(self, scope: str, key: str, response: bytes) -> bytes: ...

    def open(self, scope: str, key: str, stored: bytes) -> bytes: ...


class FingerprintKey(Protocol):
    """Keys the stored fingerprints of requests that carry PERSONAL_SENSITIVE fields
    (services.shared.crypto.fields.KeyedFingerprints)."""

    def keyed(self, scope: str, fingerprint: str) -> str: ...

    def matches(self, scope: str, stored: str, fingerprint: str) -> bool: ...


UNKEYED_LENGTH = 64
"""A SHA-256 hex fingerprint as stored before keying; a keyed one is shorter (a blind index)."""


class IdempotencyRepository:
    """Looks up and records requests in one unit of work's transaction (`uow.idempotency`).

    A service whose answers echo PERSONAL_SENSITIVE fields passes a `seal`, so the kept answers are
    stored encrypted, bound to their (scope, key). A service whose requests carry them passes a
    `fingerprint_key`: a plain SHA-256 of a request whose fields are few and guessable (a date of birth,
    a passport number) lets whoever reads the table confirm a guess, a keyed one does not.
    """

    def __init__(
        self,
        connection: Connection,
        table: sa.Table,
        seal: ResponseSeal | None = None,
        fingerprint_key: FingerprintKey | None = None,
    ) -> None:
        self.connection = connection
        self.table = table
        self.seal = seal
        self.fingerprint_key = fingerprint_key

    def stored_fingerprint(self, scope: str, fingerprint: str) -> str:
        """The form of `fingerprint` this repository writes down."""
        return fingerprint if self.fingerprint_key is None else self.fingerprint_key.keyed(scope, fingerprint)

    def _same_payload(self, scope: str, stored: str, fingerprint: str) -> bool:
        if self.fingerprint_key is not None and len(stored) == UNKEYED_LENGTH:
            # Kept by a process that did not key yet (a rolling upgrade): its migration keys the rest.
            return hmac.compare_digest(stored, fingerprint)
        if self.fingerprint_key is not None:
            return self.fingerprint_key.matches(scope, stored, fingerprint)
        return hmac.compare_digest(stored, fingerprint)

    def replay(self, scope: str, key: str, fingerprint: str, field: str = "request_id") -> bytes | None:
        """The first response for (scope, key), None for a new key; refuses a changed payload, naming the
        `field` the caller sent the key as."""
        row = self.connection.execute(
            sa.select(self.table.c.fingerprint, self.table.c.response).where(
                self.table.c.scope == scope, self.table.c.key == key
            )
        ).first()
        if row is None:
            return None
        if not self._same_payload(scope, row.fingerprint, fingerprint):
            raise IdempotencyKeyReused(scope, field)
        stored = bytes(row.response)
        return stored if self.seal is None else self.seal.open(scope, key, stored)

    def remember(self, scope: str, key: str, fingerprint: str, response: bytes) -> None:
        """Record the response; a concurrent duplicate fails on the primary key here or at commit."""
        if self.seal is not None:
            response = self.seal.seal(scope, key, response)
        self.connection.execute(
            self.table.insert().values(
                scope=scope,
                key=key,
                fingerprint=self.stored_fingerprint(scope, fingerprint),
                response=response,
                created_at=utcnow(),
            )
        )


def check_key(key: str, field: str = "request_id") -> None:
    """A usable client key: present and short enough to store. `field` is what the caller sent it as."""
    if not key.strip():
        raise ValidationError.single(field, "required: a client-chosen id that makes retries safe")
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationError.single(field, f"at most {IDEMPOTENCY_KEY_MAX} characters, got {len(key)}")


class RequestLog(Protocol):
    """What the runner needs of `uow.idempotency`: IdempotencyRepository, or a test's in-memory fake."""

    def replay(self, scope: str, key: str, fingerprint: str, field: str = "request_id") -> bytes | None: ...

    def remember(self, scope: str, key: str, fingerprint: str, response: bytes) -> None: ...


class IdempotentUnitOfWork(Protocol):
    """What the runner needs of a unit of work: a service's, or a test's in-memory fake."""

    @property
    def idempotency(self) -> RequestLog: ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any: ...

    def lock_for_write(self) -> None: ...

    def commit(self) -> None: ...


U = TypeVar("U", bound=IdempotentUnitOfWork)
M = TypeVar("M", bound=Message)


def replayed(uow_factory: Callable[[], U], request: Request, response_type: type[M]) -> M | None:
    """The stored answer to an earlier identical request, or None; reads only.

    For use cases that do slow work outside any transaction (screening a name) and want to answer a
    retry without redoing it.
    """
    check_key(request.key, request.field)
    with uow_factory() as uow:
        stored = uow.idempotency.replay(request.scope, request.key, request.fingerprint, request.field)
    return None if stored is None else response_type.FromString(stored)


@dataclass(frozen=True)
class Request:
    """Who asks for what, once: (scope, key) names the request, `fingerprint` its payload.

    Scopes carry the merchant code where there is one, so each merchant has its own key space (as
    Stripe's keys are per account). `field` is the name the caller sent the key under, for errors.
    """

    scope: str
    key: str
    fingerprint: str
    field: str = "request_id"


def run_idempotent(
    uow_factory: Callable[[], U],
    request: Request,
    response_type: type[M],
    work: Callable[[U], M],
    *,
    lock: bool = True,
) -> M:
    """Do `work` once per request: replay the stored answer, or do it and remember it in the same commit.

    The answer is stored in its deterministic serialisation and every caller, the first included, gets
    the message parsed back from those bytes, so every copy of a request reads byte for byte the same.
    A concurrent duplicate loses on the store's primary key (here or at commit), its work rolls back,
    and its second attempt replays the winner's answer. `lock` takes the write lock before the replay
    read (SQLite), so a use case that reads balances reads them current.
    """
    check_key(request.key, request.field)
    for attempt in (1, 2):
        try:
            with uow_factory() as uow:
                if lock:
                    uow.lock_for_write()
                stored = uow.idempotency.replay(request.scope, request.key, request.fingerprint, request.field)
                if stored is None:
                    stored = work(uow).SerializeToString(deterministic=True)
                    uow.idempotency.remember(request.scope, request.key, request.fingerprint, stored)
                    uow.commit()
                return response_type.FromString(stored)
        except ConflictingWrite:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
