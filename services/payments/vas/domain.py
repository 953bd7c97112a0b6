"""Value-added offers: a cargo insurance premium and a trade-financing limit, priced by published tables.

Both are platform defaults set by the business, written here so every figure in an offer can be traced
to a line of this file (docs/fx.md, "value-added offers"). They are not an insurer's or a lender's tariff:
the rates and the elevated-risk list below are illustrative and must be replaced by the underwriting
partner's schedule before real cover is sold (flagged in docs/fx.md).

Insurance: premium = max(declared value x goods-class rate x (1 + route loading), minimum premium), rounded
half-even to the currency's minor unit. Cargo insurance is customarily priced as a rate on the insured
value (Incoterms 2020 CIF/CIP ask for at least 110 % of the contract price under Institute Cargo Clauses);
the rate per goods class reflects how claims-prone the goods are, the loading how risky the route is.

Financing: limit = min(advance share x settled volume of the trailing 90 days, cap), rounded down to the
minor unit; no limit without settled history.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

GOODS_CLASS_RATES: dict[str, Decimal] = {
    "GENERAL": Decimal("0.0030"),
    "ELECTRONICS": Decimal("0.0045"),
    "FRAGILE": Decimal("0.0060"),
    "BATTERIES": Decimal("0.0080"),  # lithium cells: IATA DGR UN3480/3481, fire risk in transit
    "PERISHABLE": Decimal("0.0070"),
    "HIGH_VALUE": Decimal("0.0050"),
}

SAME_SUBREGION_LOADING = Decimal("0")
SAME_REGION_LOADING = Decimal("0.10")
INTERCONTINENTAL_LOADING = Decimal("0.25")
ELEVATED_RISK_LOADING = Decimal("1.00")
ELEVATED_RISK_COUNTRIES = frozenset({"AF", "BY", "IQ", "IR", "KP", "LY", "RU", "SD", "SO", "SS", "SY", "UA", "YE"})
"""Countries with war, piracy or sanctions exposure, after the Joint War Committee listed areas (not checked
against the current JWLA circular: illustrative, see the module docstring)."""

MINIMUM_PREMIUM: dict[str, Decimal] = {
    "USD": Decimal("5.00"),
    "EUR": Decimal("5.00"),
    "GBP": Decimal("4.00"),
    "CNY": Decimal("35.00"),
    "HKD": Decimal("40.00"),
    "JPY": Decimal("700"),
    "KWD": Decimal("1.500"),
}
MINIMUM_PREMIUM_USD = MINIMUM_PREMIUM["USD"]
"""For a currency without its own minimum, the USD minimum converted at the reference rate."""

FINANCING_WINDOW_DAYS = 90
FINANCING_ADVANCE_SHARE = Decimal("0.30")
FINANCING_CAP_USD = Decimal("500000")
FINANCING_DAILY_FEE_BPS = 5  # 0.05 % of the drawn amount per day
DEFAULT_OFFER_LOCK_SECONDS = 86_400


@dataclass(frozen=True)
class Place:
    country: str
    region: str
    subregion: str


@dataclass(frozen=True)
class Component:
    name: str
    value: Decimal


@dataclass(frozen=True)
class PricedOffer:
    amount: Decimal
    basis: Decimal
    components: tuple[Component, ...]


def route_loading(origin: Place, destination: Place) -> tuple[Decimal, str]:
    if {origin.country, destination.country} & ELEVATED_RISK_COUNTRIES:
        return ELEVATED_RISK_LOADING, "elevated-risk route"
    if origin.subregion and origin.subregion == destination.subregion:
        return SAME_SUBREGION_LOADING, "same sub-region"
    if origin.region and origin.region == destination.region:
        return SAME_REGION_LOADING, "same region"
    return INTERCONTINENTAL_LOADING, "intercontinental"


def insurance_premium(
    declared_value: Decimal, places: int, goods_class: str, origin: Place, destination: Place, minimum: Decimal
) -> PricedOffer:
    rate = GOODS_CLASS_RATES[goods_class]
    loading, route = route_loading(origin, destination)
    raw = declared_value * rate * (1 + loading)
    premium = max(raw, minimum).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return PricedOffer(
        premium,
        declared_value,
        (
            Component(f"goods class rate ({goods_class})", rate),
            Component(f"route loading ({route})", loading),
            Component("premium before minimum", raw.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)),
            Component("minimum premium", minimum),
        ),
    )


class NoSettledHistory(ValueError):
    pass


def financing_limit(settled_volume: Decimal, settled_count: int, places: int, cap: Decimal) -> PricedOffer:
    if settled_count == 0 or settled_volume <= 0:
        raise NoSettledHistory(f"no settled collections in the last {FINANCING_WINDOW_DAYS} days")
    limit = min(settled_volume * FINANCING_ADVANCE_SHARE, cap).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    return PricedOffer(
        limit,
        settled_volume,
        (
            Component(f"settled volume, trailing {FINANCING_WINDOW_DAYS} days", settled_volume),
            Component("settled collections counted", Decimal(settled_count)),
            Component("advance share", FINANCING_ADVANCE_SHARE),
            Component("cap", cap),
            Component("daily fee (bps of the drawn amount)", Decimal(FINANCING_DAILY_FEE_BPS)),
        ),
    )
