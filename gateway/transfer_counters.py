"""Distinct persons per calendar year, merchant and data class sent abroad: the CAC Provisions' thresholds.

Persons are kept only as HMAC-SHA256 digests under a random key created with the file (never a value), in
a SQLite file of the gateway's own (`XB_TRANSFER_COUNTERS_PATH`, default var/gateway-transfer-persons.sqlite3).
The count is kept in memory (loaded from the file once per year, merchant and class); new digests are
counted at once (a digest not in memory is looked up in the file first, so a restart does not count a person
twice) and written by one writer thread in batches (INSERT OR IGNORE, one transaction per batch, after a
50 ms linger, as the audit log does), so a request never waits for a commit. A crash loses at most the last
batch's digests: those persons would be counted again, the safe direction. The count reaches a
threshold on the call that crosses it, so the stricter rule applies from the next call on.

A platform on PostgreSQL counts in the gateway's schema there instead (gateway/transfer_counters_pg.py), so
every gateway replica counts into one set; `open_counters` picks the one the settings ask for.
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from services.shared.settings import Settings

PERSONS_TABLE = """CREATE TABLE IF NOT EXISTS transfer_persons (
    year INTEGER NOT NULL,
    merchant TEXT NOT NULL,
    data_class TEXT NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (year, merchant, data_class, person)
);
"""
"""One row a person counted (an HMAC digest), the same in SQLite and PostgreSQL."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS transfer_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
{PERSONS_TABLE}"""
MAX_REMEMBERED = 200_000
LINGER_S = 0.05
_STOP = object()


class Counters(Protocol):
    def count(self, year: int, merchant: str, data_class: str) -> int: ...

    def add(self, year: int, merchant: str, data_class: str, identities: Iterable[str]) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def open_counters(path: Path | None, default: Path, settings: Settings) -> Counters:
    """PostgreSQL's counters when the platform runs on it and no file is set, else the file (`path` or `default`)."""
    if path is None and (settings.database_url or "").startswith("postgresql"):
        from gateway.transfer_counters_pg import PostgresPersonCounters  # the embedded default never loads it

        return PostgresPersonCounters(settings)
    return PersonCounters(path or default)


def person_digest(key: bytes, identity: str) -> str:
    """How a person is kept: HMAC-SHA256 under the store's key, never the value."""
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()


class PersonCounters:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO transfer_key (id, key) VALUES (1, ?)", (secrets.token_bytes(32),))
        self._key = bytes(self._db.execute("SELECT key FROM transfer_key WHERE id = 1").fetchone()[0])
        self._counts: dict[tuple[int, str, str], int] = {}
        self._seen: set[tuple[int, str, str, str]] = set()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._run, name="transfer-persons-writer", daemon=True)
        self._writer.start()

    def digest(self, identity: str) -> str:
        return person_digest(self._key, identity)

    def count(self, year: int, merchant: str, data_class: str) -> int:
        key = (year, merchant, data_class)
        with self._lock:
            if key not in self._counts:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM transfer_persons WHERE year = ? AND merchant = ? AND data_class = ?", key
                ).fetchone()
                self._counts[key] = int(row[0])
            return self._counts[key]

    def add(self, year: int, merchant: str, data_class: str, identities: Iterable[str]) -> int:
        """Count these persons (hashed here); the class's count for the year after."""
        total = self.count(year, merchant, data_class)
        digests = {self.digest(i) for i in identities}
        with self._lock:
            fresh = [
                (year, merchant, data_class, d) for d in digests if (year, merchant, data_class, d) not in self._seen
            ]
            if fresh:  # persons stored before this process started (or before `_seen` was last cleared)
                marks = ",".join("?" * len(fresh))
                stored = self._db.execute(
                    "SELECT person FROM transfer_persons WHERE year = ? AND merchant = ? AND data_class = ?"
                    f" AND person IN ({marks})",
                    (year, merchant, data_class, *(row[3] for row in fresh)),
                ).fetchall()
                known = {str(r[0]) for r in stored}
                self._seen.update(row for row in fresh if row[3] in known)
                fresh = [row for row in fresh if row[3] not in known]
            if not fresh:
                return total
            if len(self._seen) > MAX_REMEMBERED:
                self._seen.clear()  # later look-ups go to the file
            self._seen.update(fresh)
            key = (year, merchant, data_class)
            self._counts[key] = self._counts.get(key, total) + len(fresh)
            total = self._counts[key]
        self._queue.put(fresh)
        return total

    def flush(self) -> None:
        """Wait until every person counted so far is in the file."""
        if self._writer.is_alive():
            done = threading.Event()
            self._queue.put(done)
            done.wait()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            if isinstance(batch[0], list):
                time.sleep(LINGER_S)
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [row for item in batch if isinstance(item, list) for row in item]
            if rows:
                with self._lock:
                    self._db.execute("BEGIN IMMEDIATE")
                    try:
                        self._db.executemany("INSERT OR IGNORE INTO transfer_persons VALUES (?, ?, ?, ?)", rows)
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise
                    self._db.execute("COMMIT")
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in batch):
                return

    def close(self) -> None:
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join()
        with self._lock:
            self._db.close()
