"""Idempotent mutating RPCs: a client key per request, the first response kept and replayed.

Every mutating RPC takes a `request_id` (the gateway maps HTTP `Idempotency-Key` onto it). The first
request with a key stores a fingerprint of its payload and the serialised response in the same
transaction as its state change; a replay with the same payload gets that response back byte for byte,
a replay with a different payload is refused (ARCHITECTURE.md: idempotency; Stripe keeps keys of up to
255 characters and compares parameters on replay, DOMAIN.md: payments).

A concurrent duplicate loses the race on the primary key: the handler rolls back and replays, so the
state change happens once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.engine import Connection

from services.shared.clock import UtcDateTime, utcnow
from services.shared.errors import FieldViolation, IdempotencyConflict, ValidationError

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


class IdempotencyStore:
    """Looks up and records requests in the caller's transaction (a unit of work's connection)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table

    @staticmethod
    def check_key(key: str, field: str = "request_id") -> None:
        if not key.strip():
            raise ValidationError.single(field, "required: a client-chosen id that makes retries safe")
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise ValidationError.single(field, f"at most {IDEMPOTENCY_KEY_MAX} characters, got {len(key)}")

    def replay(self, connection: Connection, scope: str, key: str, fingerprint: str) -> bytes | None:
        """The first response for (scope, key), None for a new key; refuses a changed payload."""
        row = connection.execute(
            sa.select(self.table.c.fingerprint, self.table.c.response).where(
                self.table.c.scope == scope, self.table.c.key == key
            )
        ).first()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReused(scope)
        return bytes(row.response)

    def remember(self, connection: Connection, scope: str, key: str, fingerprint: str, response: bytes) -> None:
        """Record the response; a concurrent duplicate raises IntegrityError here or at commit."""
        connection.execute(
            self.table.insert().values(
                scope=scope, key=key, fingerprint=fingerprint, response=response, created_at=utcnow()
            )
        )
