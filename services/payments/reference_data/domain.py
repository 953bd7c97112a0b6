"""ECB euro reference rates and cross rates through EUR (pure Decimal arithmetic).

The ECB publishes units of each currency per 1 EUR around 16:00 CET on TARGET days, for information only
(https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html).
A day without a publication (weekend, TARGET holiday) takes the previous publication: at most
MAX_LOOKBACK_DAYS back, which covers Good Friday to Easter Monday; a longer gap means the data does not
cover the day, and that is an error, never a stale rate passed off as current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

FIRST_PUBLICATION = date(1999, 1, 4)
MAX_LOOKBACK_DAYS = 7
SIGNIFICANT_DIGITS = 10
SOURCE = "ECB euro foreign exchange reference rates"
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class CrossRate:
    rate: Decimal
    derivation: str


def round_significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> Decimal:
    """Round to `digits` significant digits, half-even, without exponent notation surprises."""
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)


def cross_rate(base: str, quote: str, per_eur: dict[str, Decimal]) -> CrossRate:
    """Units of `quote` per 1 `base`, from one day's units-per-EUR table (EUR itself is 1).

    Raises KeyError naming the currency the day does not quote.
    """
    if base == quote:
        return CrossRate(Decimal(1), "identity")
    table = {**per_eur, "EUR": Decimal(1)}
    for code in (base, quote):
        if code not in table:
            raise KeyError(code)
    if base == "EUR":
        return CrossRate(round_significant(table[quote]), f"EUR->{quote}")
    if quote == "EUR":
        return CrossRate(round_significant(_CONTEXT.divide(Decimal(1), table[base])), f"{base}->EUR")
    return CrossRate(round_significant(_CONTEXT.divide(table[quote], table[base])), f"{base}->EUR->{quote}")


def describe(requested: date, published: date, base: str, quote: str) -> str:
    if requested == published:
        lead = f"ECB reference rate of {published.isoformat()}"
    else:
        lead = (
            f"{requested.isoformat()} is not a TARGET publication day ({requested.strftime('%A')}); "
            f"the ECB reference rate of {published.isoformat()} applies"
        )
    return f"{lead}, {base}/{quote} crossed through EUR where needed; for information only, not executable."
