"""The audit table in PostgreSQL: one chain that every gateway replica extends.

Why: docs/adr/0029-gateway-replicas-share-state.md.

The same entries, canonical form and digests as the SQLite file (gateway/audit_store.py), in the gateway's
own schema (`<XB_DB_SCHEMA_PREFIX>gateway`). A batch is chained and inserted in one transaction that first
takes a transaction-scoped advisory lock, so replicas append one after another: each reads the head the
previous one committed, and the chain never forks (were the lock bypassed, `seq` is the primary key and the
second insert of a number fails rather than forking). Triggers refuse UPDATE, DELETE and TRUNCATE;
someone who can drop them can change rows, and then `xborder audit verify` finds where.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gateway.audit_chain import Call, Entry, chain
from gateway.audit_store import COLUMNS, ENTRY_COLUMNS, HEAD, entry_of, row_of, selection
from services.shared.db import create_engine, schema_name
from services.shared.settings import Settings

SERVICE = "gateway"
_NAMES = [name.strip() for name in COLUMNS.split(",")]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_entries (
    seq BIGINT PRIMARY KEY,
{ENTRY_COLUMNS});
CREATE INDEX IF NOT EXISTS audit_entries_at ON audit_entries (at);
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE OR REPLACE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE OR REPLACE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
"""

_INSERT = sa.text(f"INSERT INTO audit_entries ({COLUMNS}) VALUES ({', '.join(':' + n for n in _NAMES)})")


def lock_key(schema: str, what: str) -> sa.TextClause:
    """A transaction-scoped advisory lock on one thing of one schema (replicas of other stacks never wait)."""
    return sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))").bindparams(key=f"xborder-{schema}:{what}")


def prepare_schema(engine: Engine, schema: str, ddl: str) -> None:
    """Create the schema and its tables once, even when several replicas start at the same moment."""
    with engine.begin() as connection:
        connection.execute(lock_key(schema, "ddl"))
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
        connection.exec_driver_sql(ddl)


class PostgresAuditStore:
    """Appends batches of entries in one transaction each, after the head any replica wrote last."""

    def __init__(self, settings: Settings) -> None:
        self.schema = schema_name(settings, SERVICE)
        self.engine = create_engine(settings, SERVICE)
        prepare_schema(self.engine, self.schema, _SCHEMA)
        self.where = f"PostgreSQL schema {self.schema}"

    def append(self, calls: Sequence[Call]) -> list[Entry]:
        if not calls:
            return []
        with self.engine.begin() as connection:
            connection.execute(lock_key(self.schema, "audit-head"))
            row = connection.execute(sa.text(HEAD)).fetchone()
            entries = list(chain(calls, None if row is None else entry_of(row)))
            connection.execute(_INSERT, [dict(zip(_NAMES, row_of(e), strict=True)) for e in entries])
        return entries

    def last(self) -> Entry | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.text(HEAD)).fetchone()
        return None if row is None else entry_of(row)

    def entries(self, start: str | None = None, end: str | None = None, merchant: str | None = None) -> Iterator[Entry]:
        """Entries in chain order, optionally those with start <= at < end and of one merchant."""
        sql, args = selection(start, end, merchant)
        return self._stream(sql + " ORDER BY seq", args)

    def _stream(self, sql: str, args: dict[str, Any]) -> Iterator[Entry]:
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=1000).execute(sa.text(sql), args)
            for row in result:
                yield entry_of(row)

    def close(self) -> None:
        self.engine.dispose()
