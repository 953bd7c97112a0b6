"""Distinct persons per calendar year, merchant and data class sent abroad: the CAC Provisions' thresholds.

Persons are kept only as HMAC-SHA256 digests under a random key created with the file (never a value), in
a SQLite file of the gateway's own (`XB_TRANSFER_COUNTERS_PATH`, default var/gateway-transfer-persons.sqlite3).
A digest already seen is answered from memory; new ones are inserted (INSERT OR IGNORE) in one transaction
per answer. The count reaches a threshold on the call that crosses it, so the stricter rule applies from the
next call on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfer_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS transfer_persons (
    year INTEGER NOT NULL,
    merchant TEXT NOT NULL,
    data_class TEXT NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (year, merchant, data_class, person)
);
"""
MAX_REMEMBERED = 200_000


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

    def digest(self, identity: str) -> str:
        return hmac.new(self._key, identity.encode(), hashlib.sha256).hexdigest()

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
        fresh = [
            (year, merchant, data_class, d)
            for d in {self.digest(i) for i in identities}
            if (year, merchant, data_class, d) not in self._seen
        ]
        total = self.count(year, merchant, data_class)
        if not fresh:
            return total
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("INSERT OR IGNORE INTO transfer_persons VALUES (?, ?, ?, ?)", fresh)
                added = self._db.total_changes - before
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if len(self._seen) > MAX_REMEMBERED:
                self._seen.clear()
            self._seen.update(fresh)
            key = (year, merchant, data_class)
            self._counts[key] = self._counts.get(key, 0) + added
            return self._counts[key]

    def close(self) -> None:
        with self._lock:
            self._db.close()
