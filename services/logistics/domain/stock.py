"""Merchants' stock in overseas warehouses: levels, pushes, reservations and the orders in and out.

The invariant every change keeps: for each (warehouse, merchant, SKU), on hand = available + reserved,
with on hand, reserved, available and in transit inbound never negative. A change that would break it is
refused whole, naming the line (`StockRefused`); nothing is clamped, because a clamp would hide units
that either exist and are sold twice or do not exist and are sold anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from services.shared.errors import FieldViolation, XborderError

MAX_UNITS = 10**9
"""More units of one SKU than any warehouse holds: a figure over it is a unit or sign mistake."""


class StockRefused(XborderError):
    """A change asks for more units than are there (reservation beyond available, a count below reserved)."""

    reason = "INSUFFICIENT_STOCK"

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self._violations = tuple(violations)

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return self._violations


class InvalidState(XborderError):
    """A status change the record's state does not allow (a released reservation confirmed, a step back)."""

    reason = "INVALID_STATE"

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(message)
        self.field = field

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return (FieldViolation(self.field, self.message),)


@dataclass(frozen=True)
class Level:
    """One SKU of one merchant in one warehouse."""

    warehouse_code: str
    merchant_code: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    in_transit_inbound: int = 0
    updated_at: datetime | None = None
    snapshot_as_of: datetime | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.warehouse_code, self.merchant_code, self.sku)

    def conserved(self) -> bool:
        return min(self.on_hand, self.reserved, self.available, self.in_transit_inbound) >= 0


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Counts:
    """A pushed line: absolute figures (snapshot) or signed changes (delta)."""

    sku: str
    on_hand: int
    in_transit_inbound: int


def stale(current: Mapping[str, Level], as_of: datetime) -> bool:
    """A snapshot counted before the last one applied for this warehouse and merchant (it arrived late)."""
    return any(x.snapshot_as_of is not None and as_of < x.snapshot_as_of for x in current.values())


def apply_snapshot(
    current: Mapping[str, Level], lines: Sequence[Counts], warehouse: str, merchant: str, at: datetime
) -> dict[str, Level]:
    """The levels after a full snapshot counted at `at`: listed SKUs take its figures, the merchant's
    others go to zero.

    A SKU whose new on hand is below its reserved units is refused: the warehouse counted fewer units than
    orders hold, and someone must release or confirm those reservations first.
    """
    problems: list[FieldViolation] = []
    listed = {line.sku: i for i, line in enumerate(lines)}
    after: dict[str, Level] = {}
    for sku in sorted(set(current) | set(listed)):
        level = current.get(sku) or Level(warehouse, merchant, sku)
        if sku in listed:
            line = lines[listed[sku]]
            new = replace(
                level,
                on_hand=line.on_hand,
                in_transit_inbound=line.in_transit_inbound,
                updated_at=at,
                snapshot_as_of=at,
            )
            field = f"lines[{listed[sku]}].on_hand"
        else:
            new = replace(level, on_hand=0, in_transit_inbound=0, updated_at=at, snapshot_as_of=at)
            field = "lines"
        if new.available < 0:
            problems.append(
                FieldViolation(field, f"SKU {sku}: {new.on_hand} on hand is below the {level.reserved} reserved")
            )
        if new != level:
            after[sku] = new
    if problems:
        raise StockRefused(problems)
    return after


def apply_delta(
    current: Mapping[str, Level], lines: Sequence[Counts], warehouse: str, merchant: str, at: datetime
) -> dict[str, Level]:
    """The levels after signed changes; one that would go negative or below reserved is refused, naming it."""
    problems: list[FieldViolation] = []
    after: dict[str, Level] = {}
    for i, line in enumerate(lines):
        level = current.get(line.sku) or Level(warehouse, merchant, line.sku)
        new = replace(
            level,
            on_hand=level.on_hand + line.on_hand,
            in_transit_inbound=level.in_transit_inbound + line.in_transit_inbound,
            updated_at=at,
        )
        if new.available < 0:
            problems.append(
                FieldViolation(
                    f"lines[{i}].on_hand",
                    f"SKU {line.sku}: {level.on_hand} on hand {line.on_hand:+d} leaves "
                    f"{new.on_hand}, below the {level.reserved} reserved",
                )
            )
        if new.in_transit_inbound < 0:
            problems.append(
                FieldViolation(
                    f"lines[{i}].in_transit_inbound",
                    f"SKU {line.sku}: {level.in_transit_inbound} in transit {line.in_transit_inbound:+d} is negative",
                )
            )
        after[line.sku] = new
    if problems:
        raise StockRefused(problems)
    return after


def receive(level: Level, units: int, at: datetime) -> Level:
    """Units counted into on hand (an inbound receipt, a restocked return)."""
    return replace(level, on_hand=level.on_hand + units, updated_at=at)


def pick_warehouse(
    levels: Iterable[Level],
    lines: Sequence[Line],
    countries: Mapping[str, str],
    preferred_country: str = "",
) -> str:
    """The warehouse that can fill every line: one in the preferred country first, then by code.

    None can: StockRefused naming each line that no single warehouse can fill, with the best one's figure.
    """
    by_warehouse: dict[str, dict[str, int]] = {}
    for level in levels:
        by_warehouse.setdefault(level.warehouse_code, {})[level.sku] = level.available
    candidates = sorted(by_warehouse, key=lambda code: (countries.get(code) != preferred_country, code))
    for code in candidates:
        stock = by_warehouse[code]
        if all(stock.get(line.sku, 0) >= line.quantity for line in lines):
            return code
    raise StockRefused(shortages(by_warehouse, lines))


def split_warehouses(
    levels: Iterable[Level],
    lines: Sequence[Line],
    countries: Mapping[str, str],
    preferred_country: str = "",
) -> dict[str, tuple[Line, ...]]:
    """Each line (whole) in a warehouse that can fill it, in as few warehouses as this greedy pass finds.

    Repeatedly takes the warehouse that can fill the most of the lines left (ties: the preferred country
    first, then by code), so an order one warehouse can fill stays in one. A line is never divided between
    warehouses, so each outbound order carries whole lines. A line no warehouse can fill alone:
    StockRefused naming it, as pick_warehouse does.
    """
    by_warehouse: dict[str, dict[str, int]] = {}
    for level in levels:
        by_warehouse.setdefault(level.warehouse_code, {})[level.sku] = level.available
    short = [
        line for line in lines if not any(stock.get(line.sku, 0) >= line.quantity for stock in by_warehouse.values())
    ]
    if short:
        raise StockRefused(shortages(by_warehouse, lines))
    order = sorted(by_warehouse, key=lambda code: (countries.get(code) != preferred_country, code))
    left = list(lines)
    chosen: dict[str, tuple[Line, ...]] = {}
    while left:
        fits = {code: [x for x in left if by_warehouse[code].get(x.sku, 0) >= x.quantity] for code in order}
        best = max(order, key=lambda code: (len(fits[code]), -order.index(code)))
        chosen[best] = tuple(fits[best])
        left = [x for x in left if x not in fits[best]]
        order.remove(best)
    return dict(sorted(chosen.items()))


def shortages(by_warehouse: Mapping[str, Mapping[str, int]], lines: Sequence[Line]) -> list[FieldViolation]:
    """One violation per line no single warehouse can fill; when each line fits somewhere, say so."""
    problems = []
    for i, line in enumerate(lines):
        best = max(((stock.get(line.sku, 0), code) for code, stock in by_warehouse.items()), default=(0, ""))
        if best[0] < line.quantity:
            where = f" (most in one warehouse: {best[0]} in {best[1]})" if best[1] else ""
            problems.append(
                FieldViolation(f"lines[{i}].quantity", f"SKU {line.sku}: {line.quantity} wanted, short{where}")
            )
    if not problems:
        problems.append(
            FieldViolation("lines", "each line is available somewhere, but no one warehouse can fill every line")
        )
    return problems


class ReservationStatus(Enum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    CONFIRMED = "CONFIRMED"


@dataclass(frozen=True)
class Reservation:
    code: str
    merchant_code: str
    order_reference: str
    warehouse_code: str
    status: ReservationStatus
    lines: tuple[Line, ...]
    created_at: datetime
    expires_at: datetime
    outbound_order_code: str = ""


def hold(level: Level, units: int) -> Level:
    if units > level.available:
        raise StockRefused([FieldViolation("lines", f"SKU {level.sku}: {units} wanted, {level.available} available")])
    return replace(level, reserved=level.reserved + units)


def unhold(level: Level, units: int, ship: bool, at: datetime) -> Level:
    """Give reserved units back to available, or (ship) take them out of on hand for an outbound order."""
    if units > level.reserved:
        raise AssertionError(f"{level.key}: releasing {units} of {level.reserved} reserved")
    return replace(
        level,
        reserved=level.reserved - units,
        on_hand=level.on_hand - units if ship else level.on_hand,
        updated_at=at,
    )


def closing(reservation: Reservation) -> None:
    """Only an active reservation is released, confirmed or expired."""
    if reservation.status is not ReservationStatus.ACTIVE:
        raise InvalidState(f"reservation {reservation.code} is {reservation.status.value}, not ACTIVE", field="code")


class OutboundStatus(Enum):
    CREATED = "CREATED"
    PICKING = "PICKING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class InboundStatus(Enum):
    CREATED = "CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    ARRIVED = "ARRIVED"
    RECEIVED = "RECEIVED"


OUTBOUND_ORDER = [OutboundStatus.CREATED, OutboundStatus.PICKING, OutboundStatus.SHIPPED, OutboundStatus.DELIVERED]
"""The warehouse's forward path; CANCELLED is off it (the merchant's, before SHIPPED, and final)."""
CANCELLABLE = frozenset({OutboundStatus.CREATED, OutboundStatus.PICKING})
INBOUND_ORDER = list(InboundStatus)


def forward(order: list, before: Enum, after: Enum, what: str) -> None:
    """Statuses only move forward (a repeat of the current one is refused too: request ids replay repeats).

    A refusal names the statuses the record can still move to; a status off the path (a cancelled order) is
    final.
    """
    later = order[order.index(before) + 1 :] if before in order else []
    allowed = ", ".join(s.value for s in later) or "none: it is final"
    if before not in order or after not in order:
        raise InvalidState(f"{what} is {before.value}; it cannot move to {after.value} (allowed: {allowed})")
    if after not in later:
        raise InvalidState(
            f"{what} is {before.value}; it can only move on to a later status, not {after.value} (allowed: {allowed})"
        )


@dataclass(frozen=True)
class OutboundOrder:
    code: str
    merchant_code: str
    reservation_code: str
    warehouse_code: str
    order_reference: str
    status: OutboundStatus
    lines: tuple[Line, ...]
    tracking_number: str
    created_at: datetime
    status_since: datetime


def cancellable(order: OutboundOrder) -> None:
    """Only an order the warehouse has not handed to the carrier yet can be cancelled."""
    if order.status not in CANCELLABLE:
        raise InvalidState(
            f"outbound order {order.code} is {order.status.value}; only CREATED or PICKING can be cancelled",
            field="code",
        )


@dataclass(frozen=True)
class InboundLine:
    sku: str
    expected: int
    received: int = 0


@dataclass(frozen=True)
class InboundShipment:
    code: str
    merchant_code: str
    warehouse_code: str
    reference: str
    status: InboundStatus
    lines: tuple[InboundLine, ...]
    created_at: datetime
    status_since: datetime
