"""In-memory views of reference datasets, reloaded when the dataset's current version changes.

Reference tables are small and read on every request; reading them through SQL each time cost most of a
lookup's CPU (docs/benchmarks.md). A cache re-reads the dataset's current version at most every `ttl`
seconds, and at once after `invalidate()` (an import in this process), so an import by another process
shows within `ttl`. Readers always get one consistent snapshot: a reload builds a new object and swaps it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.shared.refdata import DatasetVersion, DatasetVersions

T = TypeVar("T")

Load = Callable[[Connection, DatasetVersion], T]


class DatasetCache(Generic[T]):
    def __init__(
        self,
        engine: Engine,
        versions: sa.Table,
        dataset: str,
        load: Load[T],
        *,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.versions = versions
        self.dataset = dataset
        self._load = load
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version: str | None = None
        self._checked_at = float("-inf")

    def get(self) -> T:
        """The view of the current version; ReferenceDataMissing when the dataset was never imported."""
        if self._value is not None and self._clock() - self._checked_at < self.ttl:
            return self._value
        with self._lock:
            if self._value is not None and self._clock() - self._checked_at < self.ttl:
                return self._value
            with self.engine.connect() as connection:
                current = DatasetVersions(connection, self.versions).require(self.dataset)
                if current.version != self._version or self._value is None:
                    self._value = self._load(connection, current)
                    self._version = current.version
            self._checked_at = self._clock()
            return self._value

    def invalidate(self) -> None:
        self._checked_at = float("-inf")
