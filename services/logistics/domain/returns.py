"""Returns (RMA): the lifecycle of a return of a booked shipment, its lines, and the cost comparison shown
when it is authorised (restock at an overseas warehouse of the destination market against return to origin).

A return carries what the China customs cross-border return message (CEB 625, InvtRefundHead and
InvtRefundList) carries for a return: the original order and waybill, a reason, and per line the goods
code, quantity and unit. The shipment gives the waybill and merchant; lines name the merchant's SKU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import Enum

from services.logistics.domain.pricing import Cost, Parcel
from services.shared.errors import ValidationError
from services.shared.money import Money, minor_unit


class ReturnStatus(Enum):
    AUTHORISED = "authorised"
    LABEL_ISSUED = "label_issued"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    DISPOSITION_DECIDED = "disposition_decided"
    REFUND_REQUESTED = "refund_requested"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


S = ReturnStatus
TRANSITIONS: Mapping[ReturnStatus, frozenset[ReturnStatus]] = {
    S.AUTHORISED: frozenset({S.LABEL_ISSUED, S.CANCELLED}),
    S.LABEL_ISSUED: frozenset({S.IN_TRANSIT, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.DISPOSITION_DECIDED, S.REJECTED}),
    S.DISPOSITION_DECIDED: frozenset({S.REFUND_REQUESTED}),
    S.REFUND_REQUESTED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
"""The legal moves. A parcel that has left the buyer cannot be cancelled (it is coming back anyway); a
return is rejected only once inspected (the goods are not what the buyer claimed); a refund is requested
once, after the disposition."""

TERMINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


class Route(Enum):
    """Where the return label sends the parcel, and the two options compared at authorisation."""

    RESTOCK = "restock"  # to the overseas warehouse of the destination market
    RETURN_TO_ORIGIN = "return_to_origin"  # back to the origin country on a reverse-lane channel


class Disposition(Enum):
    RESTOCK = "restock"
    RETURN_TO_ORIGIN = "return_to_origin"
    DISPOSE = "dispose"


class ReasonCode(Enum):
    """Why the buyer returns a line (the free text of CEB 625's `reason`, as codes a merchant can count)."""

    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    NO_LONGER_NEEDED = "no_longer_needed"
    OTHER = "other"


class Condition(Enum):
    """A line's condition found at inspection."""

    RESALEABLE = "resaleable"  # can go back on sale as it is
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    MISSING = "missing"  # not in the parcel


@dataclass(frozen=True)
class ReturnLine:
    line_no: int  # CEB 625 gnum: 1, 2, ...
    sku: str
    quantity: int
    reason: ReasonCode
    condition: Condition | None = None  # set at inspection


@dataclass(frozen=True)
class Rma:
    code: str  # TH unified code
    merchant_code: str
    shipment_code: str
    outbound_waybill: str  # CEB 625 logisticsNo
    order_reference: str  # CEB 625 orderNo; "" when the merchant gave none
    reason: str  # free text, CEB 625 reason
    destination_country: str  # where the buyer is: the start of the return
    origin_country: str  # where a return to origin goes
    lines: tuple[ReturnLine, ...]
    parcels: tuple[Parcel, ...]
    status: ReturnStatus
    authorised_at: datetime
    updated_at: datetime
    route: Route | None = None
    return_waybill: str = ""
    label_reference: str = ""
    disposition: Disposition | None = None
    warehouse_code: str = ""
    refund_collection_code: str = ""
    refund_amount: Money | None = None
    note: str = ""  # the reason given when rejected or cancelled
    comparison: CostComparison | None = None  # made at authorisation, kept as it was then
    carrier: str = ""  # returning to origin: the reverse-lane channel's carrier id, set with the label

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def receiving_warehouse(self) -> str:
        """The warehouse a restock label sends the parcel to (the one priced at authorisation); "" otherwise."""
        if self.route is not Route.RESTOCK or self.comparison is None:
            return ""
        return self.comparison.restock.warehouse_code


def check_move(rma: Rma, to: ReturnStatus) -> None:
    if to not in TRANSITIONS[rma.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[rma.status])) or "none: it is final"
        raise ValidationError.single(
            "status", f"return {rma.code} is {rma.status.value}; it cannot become {to.value} (allowed: {allowed})"
        )


def moved(rma: Rma, to: ReturnStatus, at: datetime, **changes: object) -> Rma:
    check_move(rma, to)
    return replace(rma, status=to, updated_at=at, **changes)  # type: ignore[arg-type]


def inspected(rma: Rma, conditions: Mapping[int, Condition], at: datetime) -> Rma:
    """Every line gets its condition, no more and no less."""
    check_move(rma, S.INSPECTED)
    known = {line.line_no for line in rma.lines}
    problems = [f"line {n} is not a line of return {rma.code}" for n in sorted(set(conditions) - known)]
    problems += [f"line {n} has no condition" for n in sorted(known - set(conditions))]
    if problems:
        raise ValidationError.single("lines", "; ".join(problems))
    lines = tuple(replace(line, condition=conditions[line.line_no]) for line in rma.lines)
    return moved(rma, S.INSPECTED, at, lines=lines)


def restocked_lines(rma: Rma) -> tuple[ReturnLine, ...]:
    """The lines a restock hands to stock: those found resaleable."""
    return tuple(line for line in rma.lines if line.condition is Condition.RESALEABLE)


def decided(rma: Rma, disposition: Disposition, warehouse_code: str, at: datetime) -> Rma:
    check_move(rma, S.DISPOSITION_DECIDED)
    if disposition is Disposition.RESTOCK:
        if rma.route is Route.RETURN_TO_ORIGIN:
            raise ValidationError.single(
                "disposition",
                f"return {rma.code} went back to {rma.origin_country}: it cannot be restocked at an overseas warehouse",
            )
        if not warehouse_code:
            raise ValidationError.single("warehouse_code", "is required to restock")
        if not restocked_lines(rma):
            raise ValidationError.single(
                "disposition", f"no line of return {rma.code} was found resaleable: nothing to restock"
            )
    return moved(
        rma,
        S.DISPOSITION_DECIDED,
        at,
        disposition=disposition,
        warehouse_code=warehouse_code if disposition is Disposition.RESTOCK else "",
    )


# --- the cost comparison at authorisation ---


@dataclass(frozen=True)
class WarehouseFees:
    """An overseas warehouse's fees for taking returns in its markets (sample parameters)."""

    code: str
    name: str
    countries: frozenset[str]
    currency: str
    leg_per_parcel: Decimal
    leg_per_kg: Decimal
    receiving_per_parcel: Decimal
    inspection_per_unit: Decimal
    restocking_per_unit: Decimal


@dataclass(frozen=True)
class CostOption:
    route: Route
    basis: str  # the channel or warehouse priced, in words
    total: Money | None  # None: not computable, `missing` says why
    breakdown: tuple[tuple[str, Money], ...] = ()
    missing: str = ""
    channel_code: str = ""
    warehouse_code: str = ""


@dataclass(frozen=True)
class CostComparison:
    restock: CostOption
    return_to_origin: CostOption
    recommended: Route | None
    reason: str


WEIGHT_STEP = Decimal("0.1")


def _rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def restock_cost(fees: WarehouseFees | None, country: str, parcels: Sequence[Parcel], units: int) -> CostOption:
    if fees is None:
        return CostOption(Route.RESTOCK, "", None, missing=f"no overseas warehouse takes returns in {country}")
    kg = sum(
        ((p.weight_kg / WEIGHT_STEP).to_integral_value(rounding=ROUND_CEILING) * WEIGHT_STEP for p in parcels),
        Decimal(0),
    )
    currency = fees.currency
    items = (
        ("local_return_leg", fees.leg_per_parcel * len(parcels) + fees.leg_per_kg * kg),
        ("receiving", fees.receiving_per_parcel * len(parcels)),
        ("inspection", fees.inspection_per_unit * units),
        ("restocking", fees.restocking_per_unit * units),
    )
    breakdown = tuple((name, Money(_rounded(amount, currency), currency)) for name, amount in items)
    total = sum((m for _, m in breakdown[1:]), breakdown[0][1])
    basis = f"local return leg to {fees.code} ({fees.name}) and its handling fees for {units} units"
    return CostOption(Route.RESTOCK, basis, total, breakdown, warehouse_code=fees.code)


def origin_cost(channel_code: str, cost: Cost, origin: str) -> CostOption:
    breakdown = (("base", cost.base), ("weight", cost.weight), ("fuel", cost.fuel), ("remote_area", cost.remote_area))
    return CostOption(
        Route.RETURN_TO_ORIGIN,
        f"cheapest reverse-lane channel to {origin}: {channel_code}",
        cost.total,
        breakdown,
        channel_code=channel_code,
    )


def no_reverse_channel(country: str, origin: str, reasons: str) -> CostOption:
    missing = f"no channel of the catalogue carries returns from {country} to {origin}"
    return CostOption(Route.RETURN_TO_ORIGIN, "", None, missing=f"{missing}{': ' + reasons if reasons else ''}")


def compare(restock: CostOption, to_origin: CostOption) -> CostComparison:
    """Recommend the cheaper option when both are priced in one currency; otherwise say what is missing."""
    if restock.total is None and to_origin.total is None:
        return CostComparison(
            restock, to_origin, None, f"neither option can be priced: {restock.missing}; {to_origin.missing}"
        )
    if restock.total is None:
        return CostComparison(restock, to_origin, Route.RETURN_TO_ORIGIN, f"the only option priced ({restock.missing})")
    if to_origin.total is None:
        return CostComparison(restock, to_origin, Route.RESTOCK, f"the only option priced ({to_origin.missing})")
    if restock.total.currency != to_origin.total.currency:
        return CostComparison(
            restock,
            to_origin,
            None,
            f"not compared: restock is priced in {restock.total.currency}, return to origin in "
            f"{to_origin.total.currency}, and no FX rate is applied",
        )
    difference = to_origin.total - restock.total
    if difference.amount >= 0:
        return CostComparison(
            restock,
            to_origin,
            Route.RESTOCK,
            f"restocking at {restock.warehouse_code} costs {difference} less than returning to origin on "
            f"{to_origin.channel_code} ({restock.total} against {to_origin.total}), and the goods stay in the market",
        )
    return CostComparison(
        restock,
        to_origin,
        Route.RETURN_TO_ORIGIN,
        f"returning to origin on {to_origin.channel_code} costs {-difference} less than restocking at "
        f"{restock.warehouse_code} ({to_origin.total} against {restock.total})",
    )
