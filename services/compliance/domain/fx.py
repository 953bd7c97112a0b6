"""Converting a declared value into a threshold's currency at the ECB reference rate of the check date.

Compliance keeps its own copy of the ECB euro reference rates (ADR 0009). The rate of a day is the one of
the last TARGET day on or before it, at most MAX_STALE_DAYS back (weekends and holidays); further back, or
for a currency the ECB does not quote (SAR, AED, ...), there is no rate and the check says so.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

MAX_STALE_DAYS = 7
_MEMO_LIMIT = 50_000


class RateMissing(LookupError):
    def __init__(self, currency: str, day: date) -> None:
        super().__init__(f"no ECB reference rate for {currency} on or within {MAX_STALE_DAYS} days before {day}")
        self.currency = currency
        self.day = day


@dataclass(frozen=True)
class EcbRates:
    """Units of each currency per 1 EUR, by day (sorted), for one version of the ECB dataset."""

    days: Mapping[str, tuple[date, ...]]
    rates: Mapping[str, tuple[Decimal, ...]]
    version: str = ""
    # (currency, day) -> rate, filled as checks ask: most checks of a run share a handful of days.
    _memo: dict[tuple[str, date], Decimal] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_rows(cls, rows: list[tuple[date, str, Decimal]], version: str = "") -> EcbRates:
        series: dict[str, list[tuple[date, Decimal]]] = {}
        for day, currency, rate in rows:
            series.setdefault(currency, []).append((day, rate))
        days: dict[str, tuple[date, ...]] = {}
        rates: dict[str, tuple[Decimal, ...]] = {}
        for currency, points in series.items():
            points.sort()
            days[currency] = tuple(p[0] for p in points)
            rates[currency] = tuple(p[1] for p in points)
        return cls(days, rates, version)

    def per_eur(self, currency: str, day: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        known = self._memo.get((currency, day))
        if known is not None:
            return known
        days = self.days.get(currency)
        if not days:
            raise RateMissing(currency, day)
        at = bisect.bisect_right(days, day) - 1
        if at < 0 or day - days[at] > timedelta(days=MAX_STALE_DAYS):
            raise RateMissing(currency, day)
        if len(self._memo) >= _MEMO_LIMIT:  # callers choose the dates: keep the memo bounded
            self._memo.clear()
        rate = self._memo[(currency, day)] = self.rates[currency][at]
        return rate

    def convert(self, amount: Decimal, source: str, target: str, day: date) -> Decimal:
        """`amount` of `source` in `target`, crossed through EUR; exact Decimal, not rounded (a comparison)."""
        if source == target:
            return amount
        return amount / self.per_eur(source, day) * self.per_eur(target, day)


NO_RATES = EcbRates({}, {})
