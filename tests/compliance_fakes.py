"""In-memory fakes of the compliance unit of work, its repositories and the check views.

They hold what the SQL repositories hold, with the same visibility: a unit of work's writes are seen by
others only after its commit. Service-layer tests run on them; the SQLite/PostgreSQL behaviour of the
real repositories is covered by the integration tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from services.compliance.adapters.reference_views import CheckViews, CompiledLibraries, CountryView, HsView
from services.compliance.domain.alerts import AlertStatus, RiskAlert
from services.compliance.domain.fx import EcbRates
from services.compliance.domain.library import LibraryVersion
from services.compliance.domain.rules import Rule
from services.compliance.domain.vat import VatTable
from tests.fakes import InMemoryDatabase, InMemoryUnitOfWork

T = TypeVar("T")


class FakeAlerts:
    """AlertRepository over a dict of committed alerts and this unit of work's changes."""

    def __init__(self, committed: dict[str, RiskAlert]) -> None:
        self.committed = committed
        self.pending: dict[str, RiskAlert] = {}

    def _all(self) -> dict[str, RiskAlert]:
        return self.committed | self.pending

    def raised_for(self, cause: str, subject_codes: list[str]) -> set[str]:
        return {a.subject_code for a in self._all().values() if a.cause == cause and a.subject_code in subject_codes}

    def add_all(self, alerts: list[RiskAlert]) -> None:
        self.pending.update({a.code: a for a in alerts})

    def get(self, code: str) -> RiskAlert | None:
        return self._all().get(code)

    def for_merchant(self, merchant_code: str, status: AlertStatus | None, offset: int, limit: int) -> list[RiskAlert]:
        mine = [a for a in self._all().values() if a.merchant_code == merchant_code and status in (None, a.status)]
        mine.sort(key=lambda a: (a.raised_at, a.code), reverse=True)
        return mine[offset : offset + limit]

    def save_status(self, alert: RiskAlert) -> None:
        stored = self._all()[alert.code]
        self.pending[alert.code] = replace(stored, status=alert.status, acknowledged_at=alert.acknowledged_at)

    def count(self) -> int:
        return len(self._all())


class FakeChecks:
    """CheckRepository: stored product checks as rows with the columns' names as attributes."""

    def __init__(self, committed: dict[str, SimpleNamespace]) -> None:
        self.committed = committed
        self.pending: dict[str, SimpleNamespace] = {}

    def _all(self) -> dict[str, SimpleNamespace]:
        return self.committed | self.pending

    def add(self, **row: Any) -> None:
        self.pending[row["code"]] = SimpleNamespace(**row)

    def affected(self, destinations: set[str], hs_prefixes: set[str] | None) -> list[SimpleNamespace]:
        rows = [
            r
            for r in self._all().values()
            if r.destination in destinations
            and (hs_prefixes is None or any(r.hs_code.startswith(p) for p in hs_prefixes))
        ]
        return sorted(rows, key=lambda r: (r.checked_at, r.code))

    def get(self, code: str) -> SimpleNamespace | None:
        row = self._all().get(code)
        if row is None:
            return None
        stored = SimpleNamespace(**vars(row))
        if not isinstance(stored.product, str):  # the SQL row holds the document as JSON text
            stored.product = json.dumps(stored.product, sort_keys=True)
        return stored

    def update_verdict(self, code: str, verdict: str, library_version: int, report: bytes) -> None:
        row = SimpleNamespace(**vars(self._all()[code]))
        row.verdict, row.library_version, row.report = verdict, library_version, report
        self.pending[code] = row

    def count(self) -> int:
        return len(self._all())


class FakeLibrary:
    """LibraryRepository, read side: the published versions and the rules each one holds."""

    def __init__(self, versions: dict[int, tuple[LibraryVersion, list[Rule]]]) -> None:
        self.published = versions

    def lock(self) -> None:
        pass

    def versions(self) -> list[LibraryVersion]:
        return [self.published[v][0] for v in sorted(self.published)]

    def latest(self) -> LibraryVersion | None:
        return self.published[max(self.published)][0] if self.published else None

    def get(self, version: int) -> LibraryVersion | None:
        found = self.published.get(version)
        return found[0] if found else None

    def rules(self, version: int) -> list[Rule]:
        return list(self.published[version][1])


class FakeComplianceDatabase(InMemoryDatabase):
    def __init__(self) -> None:
        super().__init__()
        self.alerts: dict[str, RiskAlert] = {}
        self.checks: dict[str, SimpleNamespace] = {}
        self.library: dict[int, tuple[LibraryVersion, list[Rule]]] = {}

    def publish(self, rules: list[Rule], *, at: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> LibraryVersion:
        number = max(self.library, default=0) + 1
        version = LibraryVersion(number, f"library-{number}", at, "digest", ("test-pack",), len(rules))
        self.library[number] = (version, rules)
        return version


class FakeComplianceUnitOfWork(InMemoryUnitOfWork):
    """ComplianceUnitOfWork's repositories that the checks and alerts use cases ask for, in memory."""

    def __init__(self, database: FakeComplianceDatabase) -> None:
        super().__init__(database)
        self.compliance = database

    def _bind(self) -> None:
        super()._bind()
        self.alerts = FakeAlerts(self.compliance.alerts)
        self.checks = FakeChecks(self.compliance.checks)
        self.library = FakeLibrary(self.compliance.library)

    def _apply(self) -> None:
        self.compliance.alerts.update(self.alerts.pending)
        self.compliance.checks.update(self.checks.pending)


@dataclass
class Fixed(Generic[T]):
    """A DatasetCache that always holds the same value."""

    value: T

    def get(self) -> T:
        return self.value

    def invalidate(self) -> None:
        pass


def fixed_views(
    hs_codes: set[str], countries: dict[str, tuple[str, str]], vat: list[tuple[str, date, Any]] | None = None
) -> CheckViews:
    """Check views over the given codes and countries, no ECB rates, the given VAT periods."""
    return CheckViews(
        hs=Fixed(HsView(frozenset(hs_codes), "hs-test")),  # type: ignore[arg-type]
        countries=Fixed(CountryView(countries, "countries-test")),  # type: ignore[arg-type]
        rates=Fixed(EcbRates.from_rows([], "ecb-test")),  # type: ignore[arg-type]
        vat=Fixed(VatTable.from_rows(vat or [], "vat-test")),  # type: ignore[arg-type]
        libraries=CompiledLibraries(),
    )
