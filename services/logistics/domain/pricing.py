"""What a shipment asks for, billable weight and cost on one channel (pure Python).

Billable weight per parcel is the larger of the actual and the dimensional weight (L x W x H / divisor),
rounded up to the channel's increment. Each component of the cost is rounded to the currency's minor unit
(half up) once, over all parcels, and the total is their sum, so it equals the parts exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import Enum

from services.logistics.domain.channels import Battery, Channel, Zone
from services.logistics.domain.rate_sheets import Bracket, ZoneRates
from services.shared.money import Money

HUNDRED = Decimal(100)


class Preference(Enum):
    CHEAPEST = "cheapest"
    FASTEST = "fastest"
    BEST_VALUE = "best_value"
    DELIVER_BY = "deliver_by"


@dataclass(frozen=True)
class Parcel:
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal

    @property
    def longest_side_cm(self) -> Decimal:
        return max(self.length_cm, self.width_cm, self.height_cm)

    @property
    def girth_cm(self) -> Decimal:
        """Length (longest side) plus twice the other two sides, as carriers measure it."""
        sides = sorted((self.length_cm, self.width_cm, self.height_cm))
        return sides[2] + 2 * (sides[0] + sides[1])


@dataclass(frozen=True)
class Goods:
    hs_code: str  # digits only
    battery: Battery | None
    liquid: bool
    magnet: bool
    powder: bool


@dataclass(frozen=True)
class Shipment:
    parcels: tuple[Parcel, ...]
    origin: str
    country: str
    postal_code: str  # normalised (domain.channels.normalise_postal_code); "" when none
    goods: Goods
    declared_value: Money
    preference: Preference
    deliver_by: date | None
    ship_at: datetime  # aware UTC


def billable_weight(parcel: Parcel, divisor: int | None, increment: Decimal) -> Decimal:
    """max(actual, L x W x H / divisor) rounded up to a whole number of increments."""
    weight = parcel.weight_kg
    if divisor is not None:
        weight = max(weight, parcel.length_cm * parcel.width_cm * parcel.height_cm / Decimal(divisor))
    steps = (weight / increment).to_integral_value(rounding=ROUND_CEILING)
    return max(steps, Decimal(1)) * increment


@dataclass(frozen=True)
class Cost:
    base: Money
    weight: Money
    fuel: Money
    remote_area: Money
    total: Money  # the sum of the four; `Cost.of` computes it, ranking reads it many times

    @classmethod
    def of(cls, base: Money, weight: Money, fuel: Money, remote_area: Money) -> Cost:
        return cls(base, weight, fuel, remote_area, base + weight + fuel + remote_area)


def _round(amount: Decimal, exponent: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def price(channel: Channel, brackets: list[Bracket], billable: list[Decimal], remote: bool) -> Cost:
    """The cost of parcels whose brackets and billable weights are given in parcel order."""
    exponent, currency = channel.currency_exponent, channel.currency
    base = _round(sum((b.per_parcel for b in brackets), Decimal(0)), exponent)
    weight = _round(sum((b.per_kg * kg for b, kg in zip(brackets, billable, strict=True)), Decimal(0)), exponent)
    fuel = _round((base + weight) * channel.fuel_surcharge_percent / HUNDRED, exponent)
    remote_fee = channel.remote_area.fee_per_parcel if remote and channel.remote_area else Decimal(0)
    remote_area = _round(remote_fee * len(brackets), exponent)
    return Cost.of(Money(base, currency), Money(weight, currency), Money(fuel, currency), Money(remote_area, currency))


@dataclass(frozen=True)
class Transit:
    p50_days: int
    p90_days: int
    p50_delivery: date
    p90_delivery: date
    source: str


def transit(channel: Channel, zone: Zone, ship_at: datetime) -> Transit:
    """p50/p90 from the zone's published range (read as uniform), counted from the hand-over day in the
    channel's time zone; a hand-over after the cut-off leaves the next day."""
    low, high = zone.transit_min_days, zone.transit_max_days
    p50 = math.ceil(low + (high - low) * 0.5)
    p90 = math.ceil(low + (high - low) * 0.9)
    local = ship_at.astimezone(channel.timezone)
    leaves = local.date() + timedelta(days=1 if local.time() >= channel.cutoff else 0)
    cutoff = f"cut-off {channel.cutoff.strftime('%H:%M')} {channel.timezone.key}"
    return Transit(
        p50,
        p90,
        leaves + timedelta(days=p50),
        leaves + timedelta(days=p90),
        f"from the channel's published range {low}-{high} days for zone {zone.name} ({cutoff})",
    )


def rates_for_parcels(rates: ZoneRates, billable: list[Decimal]) -> list[Bracket] | int:
    """The bracket of each parcel, or the index of the first parcel no bracket prices."""
    found: list[Bracket] = []
    for index, kg in enumerate(billable):
        bracket = rates.bracket_for(kg)
        if bracket is None:
            return index
        found.append(bracket)
    return found
