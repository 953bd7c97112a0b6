"""Plan totals in the merchant's settlement currency, at the payments service's reference rate.

`ReferenceRates` is the port; the gRPC adapter (adapters/payments_rates.py) asks payments, and bootstrap
wires it. A conversion that cannot be made (payments unreachable, no rate for the pair) never fails the
match: the plans keep their channel-currency costs and the note says which conversions are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from services.shared.money import Money


class RateUnavailable(Exception):
    """No rate for the pair now; the message says why (unreachable service, unknown pair)."""


@dataclass(frozen=True)
class Rate:
    value: Decimal  # units of quote per unit of base
    description: str  # where it comes from, e.g. "ECB reference rate of 2026-12-04"


class ReferenceRates(Protocol):
    def rate(self, base: str, quote: str) -> Rate: ...


@dataclass(frozen=True)
class Settlement:
    currency: str
    rates: dict[str, Decimal]  # channel currency -> units of the settlement currency per unit
    note: str

    def convert(self, total: Money) -> Money | None:
        """The total in the settlement currency, half-up to its minor unit; None when its rate is missing."""
        rate = self.rates.get(total.currency)
        if rate is None:
            return None
        return Money(total.amount * rate, self.currency).rounded(ROUND_HALF_UP)


def settle(channel_currencies: set[str], currency: str, rates: ReferenceRates) -> Settlement:
    """Each channel currency's rate, fetched once per match; the note names each source or what is missing."""
    found: dict[str, Decimal] = {}
    parts: list[str] = []
    for base in sorted(channel_currencies):
        if base == currency:
            found[base] = Decimal(1)
            continue
        try:
            rate = rates.rate(base, currency)
        except RateUnavailable as error:
            parts.append(f"conversion {base}->{currency} missing: {error}")
            continue
        found[base] = rate.value
        parts.append(f"{base}->{currency} {rate.value:f}: {rate.description}")
    return Settlement(currency, found, "; ".join(parts) or f"every plan is priced in {currency} already")
