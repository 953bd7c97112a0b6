"""In-memory views of the payments reference datasets (see services/shared/refcache.py)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Connection

from services.payments.reference_data.adapters.repositories import CurrencyRepository, ReferenceRateRepository
from services.shared.iso4217 import CurrencyInfo
from services.shared.refdata import DatasetVersion


@dataclass(frozen=True)
class CurrencyTable:
    version: str
    by_code: dict[str, CurrencyInfo]
    by_numeric: dict[str, CurrencyInfo]

    def get(self, code: str) -> CurrencyInfo | None:
        return (self.by_numeric if code.isdigit() else self.by_code).get(code)

    def listed(self, include_withdrawn: bool) -> list[CurrencyInfo]:
        return [c for c in self.by_code.values() if include_withdrawn or not c.withdrawn]


def load_currency_table(connection: Connection, version: DatasetVersion) -> CurrencyTable:
    everything = CurrencyRepository(connection).list(include_withdrawn=True)
    by_numeric: dict[str, CurrencyInfo] = {}
    # A numeric code can be reused after a withdrawal: the active currency wins.
    for currency in sorted(everything, key=lambda c: c.withdrawn == ""):
        by_numeric[currency.numeric_code] = currency
    return CurrencyTable(version.version, {c.code: c for c in everything}, by_numeric)


@dataclass(frozen=True)
class RateCalendar:
    """The days the loaded ECB history has a publication for, in order."""

    version: str
    days: tuple[date, ...]

    @property
    def latest(self) -> date | None:
        return self.days[-1] if self.days else None

    def on_or_before(self, day: date) -> date | None:
        index = bisect.bisect_right(self.days, day)
        return self.days[index - 1] if index else None


def load_rate_calendar(connection: Connection, version: DatasetVersion) -> RateCalendar:
    return RateCalendar(version.version, tuple(ReferenceRateRepository(connection).publication_days()))
