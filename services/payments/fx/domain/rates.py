"""Rates as the FX desk sees them: a number with its source, its time, and how long it may be trusted.

A reference rate is information (the ECB says so of its own table); an executable rate is a reference rate
plus the platform's spread (see spreads.py). Either way a rate is only used while fresh: a provider gives
each rate a maximum staleness, and a rate older than that is refused by name, never used quietly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

SIGNIFICANT_DIGITS = 10
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


def round_significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round to `digits` significant digits (the precision every stored rate keeps), half-even unless told."""
    if value == 0:
        return Decimal(0)
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), rounding=rounding)


def invert(rate: Decimal) -> Decimal:
    return round_significant(_CONTEXT.divide(Decimal(1), rate))


@dataclass(frozen=True)
class Rate:
    """Units of `quote` per one unit of `base`, as `source` gave it.

    `as_of` is the time the source says the rate describes (an ECB publication, an ops entry, a live
    fetch); `fetched_at` is when we read it; `max_staleness` is how long after `as_of` it may still be used.
    """

    base: str
    quote: str
    rate: Decimal
    source: str
    as_of: datetime
    fetched_at: datetime
    max_staleness: timedelta
    derivation: str = "direct"

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate <= 0:
            raise ValueError(f"a rate must be a positive finite Decimal, got {self.rate!r}")
        for name in ("as_of", "fetched_at"):
            moment = getattr(self, name)
            if moment.tzinfo is None:
                raise ValueError(f"Rate.{name} must be timezone-aware")

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def expires_at(self) -> datetime:
        return self.as_of + self.max_staleness

    def age(self, now: datetime) -> timedelta:
        return now - self.as_of

    def is_fresh(self, now: datetime) -> bool:
        return now < self.expires_at

    def inverted(self) -> Rate:
        return Rate(
            self.quote,
            self.base,
            invert(self.rate),
            self.source,
            self.as_of,
            self.fetched_at,
            self.max_staleness,
            f"inverse of {self.base}/{self.quote}",
        )


class RateMissing(Exception):
    """The provider has no rate for the pair (not an outage: asking again will not help)."""


class ProviderFailed(Exception):
    """The provider could not answer (timeout, network, malformed data)."""


@dataclass(frozen=True)
class Attempt:
    """What one provider of the chain said about a pair: a rate (fresh or stale) or why there was none."""

    provider: str
    rate: Rate | None
    problem: str

    def describe(self, now: datetime) -> str:
        if self.rate is not None:
            age = self.rate.age(now)
            return (
                f"{self.provider}: stale ({self.rate.rate} as of {self.rate.as_of.isoformat()}, "
                f"{_human(age)} old, limit {_human(self.rate.max_staleness)})"
            )
        return f"{self.provider}: {self.problem}"


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if abs(seconds) < 120:
        return f"{seconds}s"
    if abs(seconds) < 7200:
        return f"{seconds // 60}min"
    if abs(seconds) < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
