"""EU member-state standard VAT rates by period (pure Python), from the versioned EU VAT dataset."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class VatRate:
    country: str
    standard_percent: Decimal
    effective_from: date
    dataset_version: str


@dataclass(frozen=True)
class VatTable:
    periods: Mapping[str, tuple[tuple[date, Decimal], ...]]  # sorted by effective_from
    version: str = ""

    @classmethod
    def from_rows(cls, rows: list[tuple[str, date, Decimal]], version: str = "") -> VatTable:
        periods: dict[str, list[tuple[date, Decimal]]] = {}
        for country, since, rate in rows:
            periods.setdefault(country, []).append((since, rate))
        return cls({c: tuple(sorted(p)) for c, p in periods.items()}, version)

    def standard(self, country: str, day: date) -> VatRate | None:
        """The standard rate in force in `country` on `day`; None outside the dataset (not an EU state)."""
        periods = self.periods.get(country)
        if not periods:
            return None
        at = bisect.bisect_right([p[0] for p in periods], day) - 1
        if at < 0:
            return None
        since, rate = periods[at]
        return VatRate(country, rate, since, self.version)


EMPTY_VAT = VatTable({})
