"""The matcher over the current version of every sanctions list, and the screening service's readiness.

Screening is ready only when every list in LIST_NAMES has a current version and the index was built
from exactly those versions. A list never imported, or whose rows do not match its recorded version, or
an index that fails to build, makes it not ready: the gRPC health of ScreeningService turns NOT_SERVING
and ScreenParty fails with FAILED_PRECONDITION (REFERENCE_DATA_MISSING) instead of answering from a
partial set of lists. The versions are re-read at most every `ttl` seconds, so an import by another
process shows within `ttl`.

The screening configuration (decision thresholds and name-variant table, adapters/screening_config.py) is
read with the lists and counts the same way: missing or inconsistent means not ready. Thresholds given by
XB_SCREENING_* (`override`) replace the imported ones, and each build says so in the log.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from services.compliance.adapters.sanctions_store import LIST_NAMES, SanctionsRepository
from services.compliance.adapters.screening_config import CONFIG_NAMES, NAME_VARIANTS, ScreeningConfigRepository
from services.compliance.domain.matching import Matcher, NameIndex
from services.compliance.domain.sanctions import ListInfo
from services.compliance.domain.screening import OVERRIDDEN, Thresholds
from services.shared.errors import ReferenceDataMissing
from services.shared.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class LoadedLists:
    matcher: Matcher
    lists: tuple[ListInfo, ...]
    versions: dict[str, str]  # every list's and config dataset's version
    thresholds: Thresholds
    variants_version: str


class ListsNotReady(ReferenceDataMissing):
    """A sanctions list is not loaded: screening refuses rather than answer from a partial set."""


class SanctionsIndex:
    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        override: Callable[[Thresholds], Thresholds] | None = None,
    ) -> None:
        self.engine = engine
        self._override = override or (lambda imported: imported)
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: LoadedLists | None = None
        self._problem: str | None = "not checked yet"
        self._failed_versions: dict[str, str] | None = None
        self._checked_at = float("-inf")

    def get(self) -> LoadedLists:
        """The current lists' matcher (built on first use after a version change); ListsNotReady naming
        what is missing."""
        if self._clock() - self._checked_at >= self.ttl or self._loaded is None:
            self.refresh(build=True)
        loaded, problem = self._loaded, self._problem
        if problem is not None or loaded is None:
            raise ListsNotReady(
                f"sanctions screening is not ready: {problem}; run `xborder import --service compliance`",
                metadata={"lists": ",".join(LIST_NAMES)},
            )
        return loaded

    def invalidate(self) -> None:
        self._checked_at = float("-inf")

    def ready(self) -> bool:
        """Every list current and consistent (a cheap query; the index itself is built by get())."""
        if self._clock() - self._checked_at >= self.ttl:
            self.refresh(build=False)
        return self._problem is None

    def refresh(self, *, build: bool = True) -> None:
        with self._lock:
            try:
                with self.engine.connect() as connection:
                    repository = SanctionsRepository(connection)
                    config_repository = ScreeningConfigRepository(connection)
                    versions = {**repository.current_versions(), **config_repository.current_versions()}
                    missing = [name for name in LIST_NAMES if name not in versions]
                    if missing:
                        self._set(None, f"list(s) not loaded: {', '.join(missing)}")
                        return
                    unconfigured = [name for name in CONFIG_NAMES if name not in versions]
                    if unconfigured:
                        self._set(None, f"screening configuration not loaded: {', '.join(unconfigured)}")
                        return
                    if self._loaded is not None and self._loaded.versions == versions:
                        self._set(self._loaded, None)
                        return
                    if self._failed_versions == versions:
                        return  # this set of versions failed to build: stay not ready until it changes
                    lists = tuple(i for i in repository.lists() if i.list_name in LIST_NAMES)
                    stale = [i.list_name for i in lists if versions.get(i.list_name) != i.version]
                    if stale or len(lists) != len(LIST_NAMES):
                        self._set(None, f"list rows do not match their recorded versions: {', '.join(stale) or 'some'}")
                        return
                    if not build:
                        self._problem = None  # consistent; get() builds the index on first use
                        return
                    started = time.perf_counter()
                    gc.unfreeze()  # let a replaced index be collected
                    config = config_repository.current()
                    variants = config.variants
                    thresholds = self._thresholds(config.thresholds)
                    previous = self._loaded
                    if previous is not None and all(
                        previous.versions.get(name) == versions.get(name) for name in (*LIST_NAMES, NAME_VARIANTS)
                    ):
                        matcher = previous.matcher  # only the thresholds changed: the index stands
                    else:
                        matcher = Matcher(NameIndex(repository.entries(), variants=variants))
                    index = matcher.index
                    self._set(LoadedLists(matcher, lists, versions, thresholds, versions[NAME_VARIANTS]), None)
                    # The index is ~1M long-lived objects: frozen, the collector stops rescanning them,
                    # which otherwise shows as 10-20 ms pauses in the p99 of unrelated requests.
                    gc.collect()
                    gc.freeze()
                    log.info(
                        "sanctions_index_built",
                        names=index.name_count,
                        name_variants=variants.version,
                        thresholds_version=thresholds.version,
                        block=thresholds.block,
                        review=thresholds.review,
                        entries=len(index.entries),
                        seconds=round(time.perf_counter() - started, 2),
                    )
            except Exception as error:  # a database outage or a bad row: not ready, and say why
                log.exception("sanctions_index_failed")
                self._set(None, f"the lists could not be read ({type(error).__name__}: {error})")
                if build and "versions" in locals():
                    self._failed_versions = versions
            finally:
                self._checked_at = self._clock()

    def _thresholds(self, imported: Thresholds) -> Thresholds:
        applied = self._override(imported)
        if applied.version == OVERRIDDEN:
            log.warning(
                "screening_thresholds_overridden",
                by="XB_SCREENING_BLOCK_THRESHOLD / XB_SCREENING_REVIEW_THRESHOLD",
                block=applied.block,
                review=applied.review,
                imported_block=imported.block,
                imported_review=imported.review,
                imported_version=imported.version,
            )
        return applied

    def _set(self, loaded: LoadedLists | None, problem: str | None) -> None:
        self._loaded = loaded if problem is None else None
        self._problem = problem

    def watch_health(self, health: Any, service_name: str, interval: float = 2.0) -> Callable[[], None]:
        """Build the index in the background and keep `service_name`'s gRPC health in step with readiness;
        returns the function that stops it."""
        from grpc_health.v1 import health_pb2

        stop = threading.Event()

        def publish() -> None:
            status = (
                health_pb2.HealthCheckResponse.SERVING if self.ready() else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            health.set(service_name, status)

        def loop() -> None:
            # Build the index now rather than on the first screening: it takes seconds, and the first caller
            # (onboarding's screening, a payout) would otherwise spend its deadline waiting for it.
            self.refresh(build=True)
            publish()
            while not stop.wait(interval):
                publish()

        publish()
        threading.Thread(target=loop, name="screening-health", daemon=True).start()
        return stop.set
