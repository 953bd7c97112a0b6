"""Key rotation: re-wrap every declared envelope column under the newest KEK, in batches, resumably.

How it keeps reads working (docs/crypto.md, ADR 0027):

- the new KEK is in the ring (file) before the first row is re-wrapped, and old versions stay readable
  until `status` counts no row under them, so a reader sees either the old envelope or the new one and
  both open;
- each batch is one transaction: the rows' new envelopes and the checkpoint (last primary key done)
  commit together, so a crash loses at most the batch in flight and the next run resumes after the
  checkpoint;
- a row is updated only if it still holds the envelope that was read (compare-and-set): a concurrent
  write, already under the newest KEK, is never overwritten by a stale re-wrap;
- a pass ends at the last key; rows written under an older KEK meanwhile (by a process that had not yet
  seen the new version) are found by the next pass, which `rotate_column` runs until none is left.

A row whose envelope does not open (tampered, moved) is not re-wrapped; it is counted as `refused` and
named by key, so the operator sees it, and rotation goes on with the rest.

`IndexRotation` runs the same loop to recompute a blind-index column under a new index-key version
(docs/crypto.md#blind-index-key-rotation): it decrypts each row's value to hash it, and look-ups ask for
every version meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.shared.clock import UtcDateTime, utcnow
from services.shared.crypto.blind_index import stored_version
from services.shared.crypto.envelope import FORMAT_VERSION, Envelope, EnvelopeCipher
from services.shared.crypto.errors import DecryptionFailed, KeyUnavailable
from services.shared.crypto.fields import EncryptedColumn, FieldCrypto
from services.shared.idempotency import UNKEYED_LENGTH

DEFAULT_BATCH = 500
MAX_PASSES = 5


def checkpoint_table(metadata: sa.MetaData) -> sa.Table:
    """`key_rotation_checkpoints` in a service's schema: where each column's re-wrap or re-index got to
    (`kek_version` holds the index-key version for a blind-index column)."""
    return sa.Table(
        "key_rotation_checkpoints",
        metadata,
        sa.Column("column_name", sa.String(120), primary_key=True),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("last_key", sa.String(255), nullable=False),
        sa.Column("rows_rewrapped", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


@dataclass
class ColumnStatus:
    """Rows of one column by where their envelopes stand against the newest KEK."""

    service: str
    column: str
    newest_version: int
    done: int = 0
    remaining: int = 0
    empty: int = 0
    unreadable: int = 0
    by_version: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.done + self.remaining

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "column": self.column,
            "newestVersion": self.newest_version,
            "done": self.done,
            "remaining": self.remaining,
            "unreadable": self.unreadable,
            "byVersion": {str(k): v for k, v in sorted(self.by_version.items())},
        }


@dataclass
class RotationResult:
    service: str
    column: str
    rewrapped: int = 0
    refused: list[str] = field(default_factory=list)
    passes: int = 0


def column_status(engine: Engine, column: EncryptedColumn, newest_version: int) -> ColumnStatus:
    """Counts by KEK version, read from the envelope headers only (nothing is unwrapped)."""
    status = ColumnStatus(column.service, column.name, newest_version)
    target = column.table.c[column.column]
    with engine.connect() as connection:
        for (token,) in connection.execute(sa.select(target)).yield_per(5000):
            if token is None:
                status.empty += 1
                continue
            try:
                envelope = Envelope.from_text(_text(token))
            except DecryptionFailed:
                status.unreadable += 1
                status.remaining += 1
                continue
            status.by_version[envelope.kek_version] = status.by_version.get(envelope.kek_version, 0) + 1
            if _current(envelope, newest_version):
                status.done += 1
            else:
                status.remaining += 1
    return status


def _text(stored: Any) -> str:
    """Text columns hold the envelope's text form; binary ones (kept answers) the same text as ASCII."""
    return stored if isinstance(stored, str) else bytes(stored).decode("ascii", "replace")


def _current(envelope: Envelope, newest_version: int) -> bool:
    return envelope.version == FORMAT_VERSION and envelope.kek_version == newest_version


class ColumnRotation:
    """Re-wraps one declared column in one service's database.

    The batch loop (checkpoint, keyset paging, compare-and-set, passes) is shared with `IndexRotation`,
    which recomputes a blind-index column instead: a subclass says which column it writes, under which
    version a row is current, and how a row's fresh value is made.
    """

    def __init__(
        self,
        engine: Engine,
        checkpoints: sa.Table,
        column: EncryptedColumn,
        cipher: EnvelopeCipher,
        *,
        batch_size: int = DEFAULT_BATCH,
        rewrap: Callable[[EnvelopeCipher, str, Any], str] | None = None,
        target: str | None = None,
    ) -> None:
        keys = column.key_columns
        self.engine = engine
        self.checkpoints = checkpoints
        self.column = column
        self.cipher = cipher
        self.batch_size = batch_size
        self.keys = keys
        self.target = column.table.c[target or column.column]
        self.name = f"{column.table.name}.{self.target.name}"
        # Compare-and-set, one statement for the batch: a row a concurrent writer changed keeps its value.
        self._update = (
            column.table.update()
            .where(*(k == sa.bindparam(f"_k{n}") for n, k in enumerate(keys)), self.target == sa.bindparam("_old"))
            .values({self.target.name: sa.bindparam("_new")})
        )
        self._rewrap = rewrap or (lambda c, token, binding: c.rewrap_text(token, binding))

    # --- what a subclass changes -------------------------------------------------------------------

    def version(self) -> int:
        """The version every row moves to (recorded with the checkpoint)."""
        return self.cipher.ring.newest.version

    def is_current(self, token: str, version: int) -> bool:
        """Whether a stored value is already under `version` (DecryptionFailed when it is not ours)."""
        return _current(Envelope.from_text(token), version)

    def fresh(self, row: Any, token: str, version: int) -> str:
        """The row's new value under `version`."""
        return self._rewrap(self.cipher, token, self.column.binding(row))

    def remaining(self, version: int) -> int:
        return column_status(self.engine, self.column, version).remaining

    def _checkpoint(self, connection: Connection, version: int) -> tuple[list[Any] | None, int]:
        row = connection.execute(sa.select(self.checkpoints).where(self.checkpoints.c.column_name == self.name)).first()
        if row is None or row.kek_version != version:
            return None, 0
        return json.loads(row.last_key), row.rows_rewrapped

    def _after(self, last: list[Any]) -> sa.ColumnElement[bool]:
        """Keyset paging: rows after `last` in primary-key order (a row-value comparison for composite keys)."""
        typed = [k.type.python_type(v) for k, v in zip(self.keys, last, strict=True)]
        if len(self.keys) == 1:
            return self.keys[0] > typed[0]
        return sa.tuple_(*self.keys) > sa.tuple_(*(sa.literal(v) for v in typed))

    def _save(self, connection: Connection, version: int, last_key: str, done: int) -> None:
        values = {"kek_version": version, "last_key": last_key, "rows_rewrapped": done, "updated_at": utcnow()}
        updated = connection.execute(
            self.checkpoints.update().where(self.checkpoints.c.column_name == self.name).values(**values)
        )
        if updated.rowcount == 0:
            connection.execute(self.checkpoints.insert().values(column_name=self.name, **values))

    def _clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.checkpoints.delete().where(self.checkpoints.c.column_name == self.name))

    def run_batch(self, result: RotationResult) -> bool:
        """One batch after the checkpoint; False when the pass has reached the end of the table."""
        version = self.version()
        with self.engine.begin() as connection:
            after, done = self._checkpoint(connection, version)
            query = sa.select(self.column.table).where(self.target.is_not(None)).order_by(*self.keys)
            if after is not None:
                query = query.where(self._after(after))
            rows = connection.execute(query.limit(self.batch_size)).all()
            if not rows:
                return False
            swaps = []
            for row in rows:
                stored = getattr(row, self.target.name)
                stored = stored if isinstance(stored, str) else bytes(stored)
                token = _text(stored)
                key = [getattr(row, k.name) for k in self.keys]
                try:
                    if self.is_current(token, version):
                        continue
                    fresh = self.fresh(row, token, version)
                except (DecryptionFailed, KeyUnavailable):
                    named = "/".join(str(k) for k in key)
                    if named not in result.refused:  # a later pass meets it again
                        result.refused.append(named)
                    continue
                swaps.append(
                    {
                        **{f"_k{n}": k for n, k in enumerate(key)},
                        "_old": stored,
                        "_new": fresh.encode("ascii") if isinstance(stored, bytes) else fresh,
                    }
                )
            if swaps:
                swapped = connection.execute(self._update, swaps).rowcount
                # A driver that cannot count an executemany says -1; the swaps were all attempted.
                changed = swapped if swapped >= 0 else len(swaps)
                done += changed
                result.rewrapped += changed
            last = [getattr(rows[-1], k.name) for k in self.keys]
            self._save(connection, version, json.dumps(last, default=str), done)
        return len(rows) == self.batch_size

    def run(
        self, on_batch: Callable[[RotationResult], None] | None = None, *, max_batches: int | None = None
    ) -> RotationResult:
        """Passes until no row is left under an older version (or `max_batches`, to stop early in tests)."""
        result = RotationResult(self.column.service, self.name)
        batches = 0
        for _ in range(MAX_PASSES):
            result.passes += 1
            while self.run_batch(result):
                batches += 1
                if on_batch:
                    on_batch(result)
                if max_batches is not None and batches >= max_batches:
                    return result
            if on_batch:
                on_batch(result)
            self._clear()
            if self.remaining(self.version()) <= len(result.refused):
                break
        return result


# --- blind-index key rotation ------------------------------------------------------------------------


def index_status(engine: Engine, column: EncryptedColumn, newest_version: int) -> ColumnStatus:
    """Rows of a blind-index column by the index-key version their index names (`v<n>:`; bare is v1)."""
    assert column.index_column is not None
    target = column.table.c[column.index_column]
    status = ColumnStatus(column.service, f"{column.table.name}.{column.index_column}", newest_version)
    with engine.connect() as connection:
        for (stored,) in connection.execute(sa.select(target)).yield_per(5000):
            if stored is None:
                status.empty += 1
                continue
            _count(status, stored_version(stored), newest_version)
    return status


def fingerprint_status(engine: Engine, table: sa.Table, newest_version: int, service: str) -> ColumnStatus:
    """Kept request fingerprints (`idempotency_keys.fingerprint`) by the index-key version that keyed them.

    Plain SHA-256 fingerprints (64 hex characters, never keyed) are left out: no index key made them.
    """
    status = ColumnStatus(service, f"{table.name}.fingerprint", newest_version)
    with engine.connect() as connection:
        for (stored,) in connection.execute(sa.select(table.c.fingerprint)).yield_per(5000):
            if len(stored) == UNKEYED_LENGTH:
                continue
            _count(status, stored_version(stored), newest_version)
    return status


def fingerprints_under(engine: Engine, table: sa.Table, version: int, since: datetime) -> int:
    """Kept fingerprints keyed under `version` and kept since `since` (still inside their retry window)."""
    count = 0
    with engine.connect() as connection:
        query = sa.select(table.c.fingerprint).where(table.c.created_at >= since)
        for (stored,) in connection.execute(query).yield_per(5000):
            if len(stored) != UNKEYED_LENGTH and stored_version(stored) == version:
                count += 1
    return count


def _count(status: ColumnStatus, version: int | None, newest_version: int) -> None:
    if version is None:
        status.unreadable += 1
        status.remaining += 1
        return
    status.by_version[version] = status.by_version.get(version, 0) + 1
    if version == newest_version:
        status.done += 1
    else:
        status.remaining += 1


class IndexRotation(ColumnRotation):
    """Recomputes a declared column's blind index under the newest index-key version, in batches.

    An index is a keyed hash, so it cannot be re-keyed from itself: each row's value is decrypted (the
    column's envelope, under its binding), hashed under the new key and written, compare-and-set on the
    old index. Look-ups ask for every version's hash while this runs (VersionedBlindIndex.candidates), so
    a row is found whether the batch that holds it has committed or not. Same checkpoints, paging and
    passes as a re-wrap; the checkpoint's `kek_version` holds the index-key version.
    """

    def __init__(
        self,
        engine: Engine,
        checkpoints: sa.Table,
        column: EncryptedColumn,
        crypto: FieldCrypto,
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        if column.index_column is None:
            raise ValueError(f"{column.name} has no blind index")
        super().__init__(engine, checkpoints, column, crypto.cipher, batch_size=batch_size, target=column.index_column)
        self.crypto = crypto
        self._indexes = crypto.indexes

    def version(self) -> int:
        self._indexes = self.crypto.indexes
        return self._indexes.newest_version

    def is_current(self, token: str, version: int) -> bool:
        return stored_version(token) == version

    def fresh(self, row: Any, token: str, version: int) -> str:
        binding = self.column.binding(row)
        value = self.crypto.open(_text(getattr(row, self.column.column)), binding)
        return self._indexes.compute_under(
            version, value, tenant=binding.tenant, entity=binding.entity, field=binding.field
        )

    def remaining(self, version: int) -> int:
        return index_status(self.engine, self.column, version).remaining
