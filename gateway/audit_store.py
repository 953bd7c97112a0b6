"""The gateway's audit table: an append-only SQLite file in var/ (docs/adr/0024-gateway-owns-its-audit-log.md).

The database itself refuses UPDATE and DELETE on the table (triggers), so the gateway's own code cannot
rewrite history; someone with the file can drop the triggers, and then the hash chain shows what they did.
A platform on PostgreSQL keeps the same table there instead (gateway/audit_store_pg.py), one chain for every
gateway replica; `open_store` picks the one the settings ask for.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gateway.audit_chain import Call, Entry, chain
from services.shared.settings import Settings

if TYPE_CHECKING:
    from gateway.edge_settings import EdgeSettings

ENTRY_COLUMNS = """
    at TEXT NOT NULL,
    door TEXT NOT NULL,
    rpc TEXT NOT NULL,
    outcome TEXT NOT NULL,
    key_id TEXT NOT NULL,
    merchant_code TEXT NOT NULL,
    request_classes TEXT NOT NULL,
    response_classes TEXT NOT NULL,
    caller_country TEXT NOT NULL,
    service TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    previous TEXT NOT NULL,
    digest TEXT NOT NULL,
    destination TEXT NOT NULL DEFAULT '',
    transfers TEXT NOT NULL DEFAULT '[]'
"""
"""The columns after `seq`, declared alike in SQLite and PostgreSQL (whose `seq` is a BIGINT)."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_entries (
    seq INTEGER PRIMARY KEY,
{ENTRY_COLUMNS});
CREATE INDEX IF NOT EXISTS audit_entries_at ON audit_entries (at);
CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

COLUMNS = (
    "seq, at, door, rpc, outcome, key_id, merchant_code, request_classes, response_classes, caller_country, "
    "service, correlation_id, previous, digest, destination, transfers"
)
HEAD = f"SELECT {COLUMNS} FROM audit_entries ORDER BY seq DESC LIMIT 1"
_ADDEDCOLUMNS = (
    ("destination", "TEXT NOT NULL DEFAULT ''"),
    ("transfers", "TEXT NOT NULL DEFAULT '[]'"),
)


def row_of(entry: Entry) -> tuple[object, ...]:
    c = entry.call
    return (
        entry.seq,
        c.at,
        c.door,
        c.rpc,
        c.outcome,
        c.key_id,
        c.merchant_code,
        json.dumps(sorted(c.request_classes)),
        json.dumps(sorted(c.response_classes)),
        c.caller_country,
        c.service,
        c.correlation_id,
        entry.previous,
        entry.digest,
        c.destination,
        json.dumps(list(c.transfers)),
    )


def entry_of(row: Sequence[object]) -> Entry:
    call = Call(
        at=str(row[1]),
        door=str(row[2]),
        rpc=str(row[3]),
        outcome=str(row[4]),
        key_id=str(row[5]),
        merchant_code=str(row[6]),
        request_classes=tuple(json.loads(str(row[7]))),
        response_classes=tuple(json.loads(str(row[8]))),
        caller_country=str(row[9]),
        service=str(row[10]),
        correlation_id=str(row[11]),
        destination=str(row[14]),
        transfers=tuple(json.loads(str(row[15]))),
    )
    return Entry(int(str(row[0])), call, str(row[12]), str(row[13]))


def selection(start: str | None, end: str | None, merchant: str | None) -> tuple[str, dict[str, str]]:
    """The SELECT of the entries with start <= at < end and of one merchant (each bound when given), without
    an order, and its named parameters."""
    where, args = [], {}
    for name, value, condition in (
        ("start", start, "at >= :start"),
        ("end", end, "at < :end"),
        ("merchant", merchant, "merchant_code = :merchant"),
    ):
        if value is not None:
            where.append(condition)
            args[name] = value
    sql = f"SELECT {COLUMNS} FROM audit_entries"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args


class ChainStore(Protocol):
    """Where the audit chain is kept: a SQLite file (AuditStore) or PostgreSQL (PostgresAuditStore)."""

    where: str

    def append(self, calls: Sequence[Call]) -> list[Entry]: ...

    def last(self) -> Entry | None: ...

    def entries(
        self, start: str | None = None, end: str | None = None, merchant: str | None = None
    ) -> Iterator[Entry]: ...

    def close(self) -> None: ...


def shared_database(settings: Settings) -> bool:
    """Whether the platform runs on PostgreSQL, where every gateway replica keeps its state together."""
    return (settings.database_url or "").startswith("postgresql")


def open_store(edge: EdgeSettings, settings: Settings) -> ChainStore:
    """The gateway's audit store: PostgreSQL when the platform runs on it and no file is set, else the file."""
    if edge.audit_path is None and shared_database(settings):
        from gateway.audit_store_pg import PostgresAuditStore  # the embedded default never loads it

        return PostgresAuditStore(settings)
    return AuditStore(edge.audit_file(settings))


class AuditStore:
    """Appends batches of entries in one transaction each; reads them back in chain order."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.where = str(path)
        self._lock = threading.Lock()
        # One connection shared by the writer thread and readers, serialised by the lock.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: a committed batch survives a crash of the process; an OS crash or power loss may
        # take the last commits back, as it may the queue. An fsync per commit (FULL) cost ~5 ms each.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # A file written before transfer decisions were audited gets their columns (empty for old entries).
        present = {str(r[1]) for r in self._db.execute("PRAGMA table_info(audit_entries)")}
        for name, declaration in _ADDEDCOLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE audit_entries ADD COLUMN {name} {declaration}")

    def append(self, calls: Sequence[Call]) -> list[Entry]:
        """Chain `calls` after the stored head and insert them, in one transaction.

        The head is read inside the write lock (BEGIN IMMEDIATE), so two writers on one file, in one
        process or two, extend one chain instead of forking it.
        """
        if not calls:
            return []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(HEAD).fetchone()
                entries = list(chain(calls, None if row is None else entry_of(row)))
                self._db.executemany(
                    f"INSERT INTO audit_entries ({COLUMNS}) VALUES ({', '.join('?' * 16)})",
                    [row_of(e) for e in entries],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return entries

    def last(self) -> Entry | None:
        with self._lock:
            row = self._db.execute(HEAD).fetchone()
        return None if row is None else entry_of(row)

    def entries(self, start: str | None = None, end: str | None = None, merchant: str | None = None) -> Iterator[Entry]:
        """Entries in chain order, optionally those with start <= at < end and of one merchant."""
        sql, args = selection(start, end, merchant)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return (entry_of(r) for r in rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
