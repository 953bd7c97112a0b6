"""Distinct persons per year, merchant and class, counted in PostgreSQL: once, whichever replica sent them.

The platform on PostgreSQL keeps the counters of gateway/transfer_counters.py in the gateway's schema, so
every gateway replica counts into the same sets: a person is a row (year, merchant, class, HMAC digest)
inserted with ON CONFLICT DO NOTHING, and the same statement adds the rows it really inserted to the
class's total, so the total is exact under any number of replicas and never counts a person twice. The
HMAC key is created once, in the database, and read by every replica (a key per replica would hash one
person to several digests).

A request waits for one statement only when its answer carries persons this replica has not seen stored
yet; a count is read at most every `refresh_s` (1 s) per year, merchant and class, so a threshold crossed
through another replica applies here within that second. Nothing is held in memory that the database does
not have: a crash loses no person.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from gateway.audit_store_pg import SERVICE, prepare_schema
from gateway.transfer_counters import MAX_REMEMBERED, PERSONS_TABLE, person_digest
from services.shared.db import create_engine, schema_name
from services.shared.settings import Settings

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS transfer_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BYTEA NOT NULL);
{PERSONS_TABLE}
CREATE TABLE IF NOT EXISTS transfer_person_counts (
    year INTEGER NOT NULL,
    merchant TEXT NOT NULL,
    data_class TEXT NOT NULL,
    persons BIGINT NOT NULL,
    PRIMARY KEY (year, merchant, data_class)
);
"""

# The persons this statement inserts (and no others) are added to the total, in one transaction.
_ADD = sa.text(
    """
    WITH fresh AS (
        INSERT INTO transfer_persons (year, merchant, data_class, person)
        SELECT :year, :merchant, :data_class, unnest(CAST(:persons AS TEXT[]))
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    INSERT INTO transfer_person_counts (year, merchant, data_class, persons)
    VALUES (:year, :merchant, :data_class, (SELECT count(*) FROM fresh))
    ON CONFLICT (year, merchant, data_class)
    DO UPDATE SET persons = transfer_person_counts.persons + EXCLUDED.persons
    RETURNING persons
    """
)
_COUNT = sa.text(
    "SELECT persons FROM transfer_person_counts"
    " WHERE year = :year AND merchant = :merchant AND data_class = :data_class"
)
REFRESH_S = 1.0


class PostgresPersonCounters:
    def __init__(
        self, settings: Settings, *, refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        schema = schema_name(settings, SERVICE)
        self.engine = create_engine(settings, SERVICE)
        prepare_schema(self.engine, schema, _SCHEMA)
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO transfer_key (id, key) VALUES (1, :key) ON CONFLICT (id) DO NOTHING"),
                {"key": secrets.token_bytes(32)},
            )
            self._key = bytes(connection.execute(sa.text("SELECT key FROM transfer_key WHERE id = 1")).scalar_one())
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, str, str], tuple[int, float]] = {}  # total and when it was read
        self._seen: set[tuple[int, str, str, str]] = set()  # digests known to be stored

    def digest(self, identity: str) -> str:
        return person_digest(self._key, identity)

    def count(self, year: int, merchant: str, data_class: str) -> int:
        key = (year, merchant, data_class)
        now = self._clock()
        with self._lock:
            cached = self._counts.get(key)
        if cached is not None and now - cached[1] < self.refresh_s:
            return cached[0]
        with self.engine.connect() as connection:
            found = connection.execute(_COUNT, {"year": year, "merchant": merchant, "data_class": data_class})
            total = int(found.scalar() or 0)
        self._remember(key, total, now)
        return total

    def add(self, year: int, merchant: str, data_class: str, identities: Iterable[str]) -> int:
        """Count these persons (hashed here); the class's count for the year after."""
        key = (year, merchant, data_class)
        with self._lock:
            fresh = sorted({d for d in map(self.digest, identities) if (*key, d) not in self._seen})
        if not fresh:
            return self.count(year, merchant, data_class)
        now = self._clock()
        with self.engine.begin() as connection:
            # The answer waits for this statement, not for the WAL flush: a database crash may forget the
            # last fraction of a second of persons, who are then counted when next sent (as after a crash
            # of the file's writer), and the request path is spared an fsync per answer.
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            total = int(
                connection.execute(
                    _ADD, {"year": year, "merchant": merchant, "data_class": data_class, "persons": fresh}
                ).scalar_one()
            )
        with self._lock:
            if len(self._seen) > MAX_REMEMBERED:
                self._seen.clear()  # later persons are checked against the table again
            self._seen.update((*key, d) for d in fresh)
        self._remember(key, total, now)
        return total

    def _remember(self, key: tuple[int, str, str], total: int, at: float) -> None:
        with self._lock:
            previous = self._counts.get(key)
            # Two threads may read at once: the higher total is the later one (counts only grow).
            if previous is None or total >= previous[0]:
                self._counts[key] = (total, at)

    def flush(self) -> None:
        """Every person counted is already stored: nothing to wait for."""

    def close(self) -> None:
        self.engine.dispose()
