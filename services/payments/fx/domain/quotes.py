"""Locked FX quotes: price one side from the other, round per ISO 4217, and decide if a quote can be used.

Rounding rule (docs/fx.md): the side the merchant fixes is exact (it may not carry more decimals than its
currency allows); the other side is computed with the executable rate and rounded to its currency's minor
unit half-even (banker's rounding). The platform's margin is the spread, stated in basis points; the
rounding is unbiased so it adds no hidden margin in either direction. Hence
- sell fixed: |buy - sell * rate| <= half a minor unit of the buy currency;
- buy fixed:  |sell - buy / rate| <= half a minor unit of the sell currency.
The spread amount is what the merchant would have received at the reference rate less what they receive,
in the buy currency: round_half_even(sell * reference) - buy, never below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from services.payments.fx.domain.spreads import ExecutableRate

_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)

OPEN = "OPEN"
CONVERTED = "CONVERTED"
ACCEPTED = "ACCEPTED"


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def to_minor_unit(value: Decimal, places: int) -> Decimal:
    return value.quantize(quantum(places), rounding=ROUND_HALF_EVEN)


class AmountTooSmall(ValueError):
    """The computed side rounds to zero: nothing would be delivered."""


@dataclass(frozen=True)
class Pricing:
    sell_amount: Decimal
    buy_amount: Decimal
    spread_amount: Decimal  # in the buy currency
    fixed_side: str  # "sell" or "buy"


def price(
    rate: ExecutableRate,
    *,
    sell_places: int,
    buy_places: int,
    sell_amount: Decimal | None = None,
    buy_amount: Decimal | None = None,
) -> Pricing:
    """Exactly one of sell_amount / buy_amount is given (already valid for its currency)."""
    if (sell_amount is None) == (buy_amount is None):
        raise ValueError("give exactly one of sell_amount and buy_amount")
    if sell_amount is not None:
        sell = sell_amount
        buy = to_minor_unit(_CONTEXT.multiply(sell, rate.rate), buy_places)
        if buy <= 0:
            raise AmountTooSmall(f"{sell} converts to less than one minor unit of the buy currency")
        fixed = "sell"
    else:
        assert buy_amount is not None
        buy = buy_amount
        sell = to_minor_unit(_CONTEXT.divide(buy, rate.rate), sell_places)
        if sell <= 0:
            raise AmountTooSmall(f"{buy} costs less than one minor unit of the sell currency")
        fixed = "buy"
    at_reference = to_minor_unit(_CONTEXT.multiply(sell, rate.reference), buy_places)
    spread = max(at_reference - buy, Decimal(0)).quantize(quantum(buy_places))
    return Pricing(sell, buy, spread, fixed)


class QuoteExpiredError(Exception):
    pass


class QuoteUsedError(Exception):
    pass


@dataclass(frozen=True)
class LockedOffer:
    """What every priced offer (FX quote, insurance quote, financing offer) shares: a lock and one use."""

    code: str
    status: str
    expires_at: datetime

    def check_usable(self, now: datetime) -> None:
        if self.status != OPEN:
            raise QuoteUsedError(f"{self.code} was already {self.status.lower()}")
        if now >= self.expires_at:
            raise QuoteExpiredError(f"{self.code} expired at {self.expires_at.isoformat()}")
