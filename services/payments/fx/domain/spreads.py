"""Executable rates: a reference rate less the platform's spread for the pair, the merchant tier and the lock.

The spread is in basis points of the reference rate and always works against the merchant: a merchant who
sells `base` for `quote` receives `reference * (1 - bps / 10_000)` units of quote per unit of base.

A longer quote lock costs a wider spread (the platform carries the market risk until the lock ends), as
Airwallex and Nium price their locked rates (quote locks from 1 minute to 24 hours, docs/fx.md). The tier
table and the lock ladder below are platform defaults set by the business, not figures from a source: ops
change the table with `xborder rates spread` (docs/fx.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from services.payments.fx.domain.rates import round_significant

BPS = Decimal(10_000)
ANY = "*"
MIN_LOCK_SECONDS = 60
MAX_LOCK_SECONDS = 86_400
TIERS = ("STANDARD", "PLUS", "ENTERPRISE")
DEFAULT_TIER = "STANDARD"
MAX_SPREAD_BPS = 2_000  # 20 %: anything wider is a typo, not a price


@dataclass(frozen=True)
class SpreadRule:
    """`bps` for converting `sell` into `buy` for merchants of `tier`; `*` matches any currency."""

    sell: str
    buy: str
    tier: str
    bps: int

    def specificity(self) -> int:
        return (self.sell != ANY) + (self.buy != ANY)


DEFAULT_SPREADS: tuple[SpreadRule, ...] = (
    # Any pair: the fallback every lookup ends on.
    SpreadRule(ANY, ANY, "STANDARD", 100),
    SpreadRule(ANY, ANY, "PLUS", 70),
    SpreadRule(ANY, ANY, "ENTERPRISE", 40),
    # The corridors the platform's merchants convert most (CNY against the settlement majors): tighter.
    *(
        SpreadRule(sell, buy, tier, bps)
        for a, b in (("USD", "CNY"), ("EUR", "CNY"), ("GBP", "CNY"), ("HKD", "CNY"), ("EUR", "USD"))
        for sell, buy in ((a, b), (b, a))
        for tier, bps in (("STANDARD", 60), ("PLUS", 40), ("ENTERPRISE", 25))
    ),
)

LOCK_LADDER: tuple[tuple[int, int], ...] = (
    (60, 0),  # up to 1 minute: the rate is as good as live
    (900, 5),  # up to 15 minutes
    (3_600, 10),  # up to 1 hour
    (14_400, 20),  # up to 4 hours
    (86_400, 40),  # up to 24 hours
)
"""(lock seconds up to and including, extra basis points)."""


def lock_premium_bps(lock_seconds: int) -> int:
    if not MIN_LOCK_SECONDS <= lock_seconds <= MAX_LOCK_SECONDS:
        raise ValueError(f"lock must be {MIN_LOCK_SECONDS}..{MAX_LOCK_SECONDS} seconds, got {lock_seconds}")
    return next(extra for upto, extra in LOCK_LADDER if lock_seconds <= upto)


def base_spread_bps(rules: Iterable[SpreadRule], sell: str, buy: str, tier: str) -> int:
    """The most specific rule for the tier: exact pair, then one side, then `*`/`*`. KeyError if none."""
    candidates = [r for r in rules if r.tier == tier and r.sell in (sell, ANY) and r.buy in (buy, ANY)]
    if not candidates:
        raise KeyError(f"no spread rule for {sell}/{buy} tier {tier}")
    return max(candidates, key=SpreadRule.specificity).bps


@dataclass(frozen=True)
class ExecutableRate:
    reference: Decimal
    spread_bps: int
    rate: Decimal

    @property
    def spread_fraction(self) -> Decimal:
        return Decimal(self.spread_bps) / BPS


def executable(reference: Decimal, spread_bps: int) -> ExecutableRate:
    if not 0 <= spread_bps < BPS:
        raise ValueError(f"spread must be 0..9999 bps, got {spread_bps}")
    # Truncated, never rounded up: a rate rounded to 10 digits must not end up above reference * (1 - spread),
    # or a zero spread would pay the merchant more than the reference rate (found by the hypothesis test).
    exact = reference * (1 - Decimal(spread_bps) / BPS)
    return ExecutableRate(reference, spread_bps, round_significant(exact, rounding=ROUND_DOWN))
