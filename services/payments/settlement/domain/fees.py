"""Fee schedules per merchant tier: a percentage of the gross plus a fixed amount, per currency.

The percentage part is the share of the gross that a largest-remainder split of the gross into
(fee, rest) gives the fee (`Money.allocate`), so fee + rest is exactly the gross and the fee is rounded to
the currency's minor unit (ISO 4217: JPY 0, USD 2, KWD 3) with ties going to the fee. The fixed part is
added in the same currency. The fee never exceeds the gross.
Schedules live in the `fee_schedules` table (seeded by migration payments_0002; ops edit the table); a
tier's row for currency "*" applies, without a fixed part, to currencies it does not list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.shared.money import Money

DEFAULT_TIER = "STANDARD"
ANY_CURRENCY = "*"


@dataclass(frozen=True)
class FeeSchedule:
    tier: str
    currency: str  # the schedule's currency, or "*"
    percent: Decimal  # e.g. Decimal("2.9") for 2.9 %
    fixed_minor: int  # in the collection's currency's minor units; 0 for "*"

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise ValueError(f"fee percent must be within 0..100, got {self.percent}")
        if self.fixed_minor < 0:
            raise ValueError("fixed fee must not be negative")


@dataclass(frozen=True)
class FeeBreakdown:
    percentage: Money
    fixed: Money

    @property
    def total(self) -> Money:
        return self.percentage + self.fixed


def platform_fee(gross: Money, schedule: FeeSchedule) -> FeeBreakdown:
    if gross.amount <= 0:
        raise ValueError("fees are charged on a positive gross")
    if schedule.percent == 0:
        percentage = Money.from_minor(0, gross.currency)
    elif schedule.percent == 100:
        percentage = gross
    else:
        percentage, _rest = gross.allocate([schedule.percent, Decimal(100) - schedule.percent])
    fixed_minor = 0 if schedule.currency == ANY_CURRENCY else schedule.fixed_minor
    fixed_minor = min(fixed_minor, gross.minor - percentage.minor)  # never more than the gross in total
    return FeeBreakdown(percentage, Money.from_minor(fixed_minor, gross.currency))
