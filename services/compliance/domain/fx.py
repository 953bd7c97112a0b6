"""Converting a declared value into a threshold's currency at the ECB reference rate of the check date.

Compliance keeps its own copy of the ECB euro reference rates (ADR 0009). The rate of a day is the one of
the last TARGET day on or before it: within MAX_STALE_DAYS (weekends and holidays) it is the rate of the
day; further back it is an old rate, returned with its date and age (`RateUsed`) so a check can say what it
used and how far it may have moved (`stale_margin`) instead of failing. For a currency the ECB does not
quote (SAR, AED, ...) or a day before the history there is no rate at all (`RateMissing`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MAX_STALE_DAYS = 7

# How far an old rate may have moved since its day, as a fraction of the value: two standard deviations of a
# 10 %-a-year volatility scaled by the square root of the age (the major ECB pairs moved less than 10 % a
# year over 2015-2025). A converted value within this margin of a threshold may lie on either side of it.
ANNUAL_VOLATILITY = Decimal("0.10")
_DEVIATIONS = 2


def stale_margin(age_days: int) -> Decimal:
    """The fraction by which a rate `age_days` old may have moved (docs/compliance-rules.md)."""
    if age_days <= 0:
        return Decimal(0)
    return (_DEVIATIONS * ANNUAL_VOLATILITY * (Decimal(age_days) / 365).sqrt()).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class RateUsed:
    """The rate a conversion used: `rate` units of `target` per 1 `source`, published on `day`."""

    source: str
    target: str
    rate: Decimal
    day: date  # the older of the two EUR legs' publication days
    age_days: int  # the check date minus `day`

    @property
    def stale(self) -> bool:
        """Older than the weekend-and-holiday window: an old rate, not the rate of the check date."""
        return self.age_days > MAX_STALE_DAYS

    @property
    def margin(self) -> Decimal:
        return stale_margin(self.age_days) if self.stale else Decimal(0)


class RateMissing(LookupError):
    """No rate on or before the day at all: a currency the ECB does not quote, or a day before the history."""

    def __init__(self, currency: str, day: date) -> None:
        super().__init__(f"no ECB reference rate for {currency} on or before {day}")
        self.currency = currency
        self.day = day


@dataclass(frozen=True)
class EcbRates:
    """Units of each currency per 1 EUR, by day (sorted), for one version of the ECB dataset."""

    days: Mapping[str, tuple[date, ...]]
    rates: Mapping[str, tuple[Decimal, ...]]
    version: str = ""

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

    def latest(self, currency: str, day: date) -> tuple[Decimal, date]:
        """Units of `currency` per 1 EUR on the last publication day on or before `day`, however old."""
        if currency == "EUR":
            return Decimal(1), day
        days = self.days.get(currency)
        at = bisect.bisect_right(days, day) - 1 if days else -1
        if days is None or at < 0:
            raise RateMissing(currency, day)
        return self.rates[currency][at], days[at]

    def conversion(self, amount: Decimal, source: str, target: str, day: date) -> tuple[Decimal, RateUsed]:
        """`amount` in `target` at the latest rates on or before `day`, and the rate used with its age."""
        source_rate, source_day = self.latest(source, day)
        target_rate, target_day = self.latest(target, day)
        published = min(source_day, target_day)
        used = RateUsed(source, target, target_rate / source_rate, published, (day - published).days)
        return amount / source_rate * target_rate, used


NO_RATES = EcbRates({}, {})
