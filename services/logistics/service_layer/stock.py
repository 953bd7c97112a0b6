"""Overseas-warehouse stock: inventory pushes, reservations, outbound and inbound orders, expiry.

Every change runs in one unit of work that takes `lock_stock_for_write` first (SQLite: BEGIN IMMEDIATE;
PostgreSQL: nothing service-wide) and reads the stock rows it changes FOR UPDATE, so concurrent
reservations of one SKU queue on its row and never both take the last unit. Mutating calls run through
`run_idempotent`: a repeated request id (a warehouse's push id) replays the first answer and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from google.protobuf.message import Message
from xborder.logistics.v1 import events_pb2

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain import stock
from services.logistics.domain.countries import CodeKind, CountryCode
from services.logistics.domain.stock import (
    INBOUND_ORDER,
    OUTBOUND_ORDER,
    Counts,
    InboundLine,
    InboundShipment,
    InboundStatus,
    Level,
    Line,
    OutboundOrder,
    OutboundStatus,
    Reservation,
    ReservationStatus,
)
from services.logistics.domain.warehouses import Warehouse
from services.logistics.service_layer.status_moves import Move, Record, get, move_status
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import AlreadyExists, NotFound, ValidationError, Violations
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

M = TypeVar("M", bound=Message)
UowFactory = Callable[[], LogisticsUnitOfWork]
EXPIRY_BATCH = 200
log = get_logger(__name__)


def _warehouse(uow: LogisticsUnitOfWork, code: str, field: str = "warehouse_code") -> Warehouse:
    found = uow.stock.warehouse(code)
    if found is None:
        raise NotFound(f"no warehouse {code}", field=field)
    return found


# --- inventory pushes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushInventory:
    push_id: str
    fingerprint: str
    warehouse_code: str
    merchant_code: str
    snapshot: bool
    lines: tuple[Counts, ...]
    as_of: datetime | None


def push_inventory(
    uow_factory: UowFactory,
    command: PushInventory,
    response_type: type[M],
    respond: Callable[[list[Level], bool], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Apply a snapshot or a delta for one merchant in one warehouse; once per push id of that warehouse.

    `respond` gets the levels after the push and whether the push was a stale snapshot (nothing changed).
    """

    def work(uow: LogisticsUnitOfWork) -> M:
        uow.lock_stock_for_write()
        _warehouse(uow, command.warehouse_code)
        at = command.as_of or now()
        uow.stock.ensure_levels(((command.warehouse_code, command.merchant_code, x.sku) for x in command.lines), at)
        current = uow.stock.levels_for_update(command.warehouse_code, command.merchant_code)
        if command.snapshot and stock.stale(current, at):
            # Counted before a snapshot already applied: it would put old figures back, so it changes nothing.
            log.warning("inventory_snapshot_stale", warehouse=command.warehouse_code, merchant=command.merchant_code)
            return respond(sorted(current.values(), key=lambda level: level.sku), True)
        apply = stock.apply_snapshot if command.snapshot else stock.apply_delta
        after = apply(current, command.lines, command.warehouse_code, command.merchant_code, at)
        uow.stock.save_levels(after.values())
        log.info(
            "inventory_pushed",
            warehouse=command.warehouse_code,
            merchant=command.merchant_code,
            kind="snapshot" if command.snapshot else "delta",
            skus=len(after),
        )
        return respond(sorted(after.values(), key=lambda level: level.sku), False)

    request = Request(f"logistics.stock_push:{command.warehouse_code}", command.push_id, command.fingerprint, "push_id")
    return run_idempotent(uow_factory, request, response_type, work, lock=False)


def receive_units(
    uow: LogisticsUnitOfWork,
    warehouse_code: str,
    merchant_code: str,
    sku: str,
    units: int,
    source_reference: str,
    now: datetime,
) -> Level | None:
    """Count `units` into on hand inside the caller's unit of work, once per `source_reference`.

    For units that arrive outside a warehouse's push: an inbound receipt, a return restocked at the
    warehouse (source e.g. "rma:TH...:SKU"). The caller commits. None when the source was received before.
    """
    if units <= 0:
        raise ValidationError.single("units", f"must be 1 or more, got {units}")
    uow.lock_stock_for_write()
    _warehouse(uow, warehouse_code)
    key = (warehouse_code, merchant_code, sku)
    uow.stock.ensure_levels([key], now)
    level = uow.stock.merchant_levels_for_update(merchant_code, [sku], warehouse_code)[0]
    if not uow.stock.claim_receipt(source_reference, level, units, now):
        return None
    received = stock.receive(level, units, now)
    uow.stock.save_levels([received])
    return received


# --- reads --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockView:
    levels: list[Level]
    countries: dict[str, str]


def stock_levels(uow_factory: UowFactory, merchant: str, sku: str = "", warehouse: str = "") -> StockView:
    with uow_factory() as uow:
        if warehouse:
            _warehouse(uow, warehouse)
        levels = uow.stock.levels(merchant, sku, warehouse)
        countries = {w.code: w.country for w in uow.stock.warehouses()}
    return StockView(levels, countries)


def list_warehouses(uow_factory: UowFactory, country: str = "") -> list[Warehouse]:
    with uow_factory() as uow:
        return uow.stock.warehouses(country)


def _emit_warehouse(uow: LogisticsUnitOfWork, w: Warehouse, updated: bool) -> None:
    uow.emit(
        events_pb2.WarehouseRegistered(
            code=w.code,
            name=w.name,
            operator=w.operator,
            country=w.country,
            address=w.address,
            time_zone=w.time_zone,
            updated=updated,
        )
    )


def register_warehouse(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    warehouse: Warehouse,
    response_type: type[M],
    respond: Callable[[Warehouse], M],
) -> M:
    """Store a new warehouse; a code already taken is ALREADY_EXISTS (UpdateWarehouse changes one)."""

    def work(uow: LogisticsUnitOfWork) -> M:
        _known_country(uow, warehouse.country, "warehouse.country")
        if not uow.stock.add_warehouse(warehouse):
            raise AlreadyExists(
                f"warehouse {warehouse.code} exists; UpdateWarehouse changes it", field="warehouse.code"
            )
        _emit_warehouse(uow, warehouse, updated=False)
        log.info("warehouse_registered", code=warehouse.code, country=warehouse.country)
        return respond(warehouse)

    return run_idempotent(
        uow_factory, Request("logistics.warehouse_register", request_id, fingerprint), response_type, work
    )


def update_warehouse(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    changes: dict[str, str],
    response_type: type[M],
    respond: Callable[[Warehouse], M],
) -> M:
    """Change the named fields of a warehouse (its code stays: stock and orders refer to it)."""

    def work(uow: LogisticsUnitOfWork) -> M:
        current = uow.stock.warehouse(code, for_update=True)
        if current is None:
            raise NotFound(f"no warehouse {code}", field="code")
        if "country" in changes:
            _known_country(uow, changes["country"], "country")
        changed = replace(current, **changes)
        uow.stock.replace_warehouses([changed])
        _emit_warehouse(uow, changed, updated=True)
        log.info("warehouse_updated", code=code, fields=sorted(changes))
        return respond(changed)

    return run_idempotent(
        uow_factory, Request(f"logistics.warehouse_update:{code}", request_id, fingerprint), response_type, work
    )


def _known_country(uow: LogisticsUnitOfWork, country: str, field: str) -> None:
    if uow.countries.get(CountryCode(CodeKind.ALPHA2, country)) is None:
        raise ValidationError.single(field, f"{country!r} is not an ISO 3166-1 alpha-2 code")


# --- reservations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reserve:
    request_id: str
    fingerprint: str
    merchant_code: str
    order_reference: str
    lines: tuple[Line, ...]
    warehouse_code: str
    destination_country: str
    ttl: timedelta
    allow_split: bool = False


def reserve(
    uow_factory: UowFactory,
    command: Reserve,
    response_type: type[M],
    respond: Callable[[list[Reservation]], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Hold every line in one warehouse that can fill them all, or refuse naming the short lines.

    With `allow_split`, when no one warehouse can, each line is held (whole) in a warehouse that has it:
    one reservation per warehouse, by warehouse code, made in this one transaction with one expiry, so the
    order is reserved entirely or not at all. `respond` gets the reservations made.
    """

    def work(uow: LogisticsUnitOfWork) -> M:
        uow.lock_stock_for_write()
        if command.warehouse_code:
            _warehouse(uow, command.warehouse_code)
        skus = [x.sku for x in command.lines]
        levels = uow.stock.merchant_levels_for_update(command.merchant_code, skus, command.warehouse_code)
        held = {level.sku for level in levels}
        unknown = Violations()
        for i, line in enumerate(command.lines):
            if line.sku not in held:
                where = f"warehouse {command.warehouse_code}" if command.warehouse_code else "any warehouse"
                unknown.add(f"lines[{i}].sku", f"no stock of SKU {line.sku} for this merchant in {where}")
        unknown.raise_if_any()
        countries = {w.code: w.country for w in uow.stock.warehouses()}
        try:
            chosen = stock.pick_warehouse(levels, command.lines, countries, command.destination_country)
            split = {chosen: command.lines}
        except stock.StockRefused:
            if not command.allow_split:
                raise
            split = stock.split_warehouses(levels, command.lines, countries, command.destination_country)
        at = now()
        made = []
        for warehouse, lines in split.items():
            by_sku = {level.sku: level for level in levels if level.warehouse_code == warehouse}
            uow.stock.save_levels(replace(stock.hold(by_sku[x.sku], x.quantity), updated_at=at) for x in lines)
            reservation = Reservation(
                codes.generate("YL", at=at),
                command.merchant_code,
                command.order_reference,
                warehouse,
                ReservationStatus.ACTIVE,
                lines,
                at,
                at + command.ttl,
            )
            uow.stock.add_reservation(reservation)
            uow.emit(_reservation_changed(reservation))
            log.info("stock_reserved", code=reservation.code, warehouse=warehouse, merchant=command.merchant_code)
            made.append(reservation)
        return respond(made)

    request = Request(f"logistics.reserve:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work, lock=False)


def _reservation_changed(reservation: Reservation, previous: str = "") -> Message:
    return events_pb2.ReservationStatusChanged(
        reservation_code=reservation.code,
        merchant_code=reservation.merchant_code,
        order_reference=reservation.order_reference,
        warehouse_code=reservation.warehouse_code,
        previous_status=previous,
        status=reservation.status.value,
        outbound_order_code=reservation.outbound_order_code,
    )


RESERVATIONS: Record[LogisticsUnitOfWork, Reservation] = Record(
    "reservation",
    load=lambda uow, code, for_update: uow.stock.reservation(code, for_update),
    save=lambda uow, r: uow.stock.set_reservation_status(r.code, r.status, r.outbound_order_code),
    event=lambda before, after: _reservation_changed(after, before.status.value),
    stock=True,
)


def _close(uow: LogisticsUnitOfWork, reservation: Reservation, to: ReservationStatus, at: datetime) -> None:
    """Give the reservation's units back (or ship them, when confirmed) and record its new status."""
    levels = uow.stock.merchant_levels_for_update(
        reservation.merchant_code, [x.sku for x in reservation.lines], reservation.warehouse_code
    )
    by_sku = {level.sku: level for level in levels}
    ship = to is ReservationStatus.CONFIRMED
    uow.stock.save_levels(stock.unhold(by_sku[x.sku], x.quantity, ship, at) for x in reservation.lines)


def get_reservation(uow_factory: UowFactory, code: str) -> Reservation:
    return get(uow_factory, RESERVATIONS, code)


def release(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    response_type: type[M],
    respond: Callable[[Reservation], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def change(uow: LogisticsUnitOfWork, reservation: Reservation) -> Reservation:
        stock.closing(reservation)
        _close(uow, reservation, ReservationStatus.RELEASED, now())
        return replace(reservation, status=ReservationStatus.RELEASED)

    move = Move(request_id, fingerprint, code)
    return move_status(uow_factory, RESERVATIONS, "logistics.release", move, change, response_type, respond)


def confirm(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    response_type: type[M],
    respond: Callable[[Reservation, OutboundOrder], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """The reserved units leave stock for a new outbound order; an expired reservation cannot be confirmed."""
    made: list[OutboundOrder] = []  # the order the move makes, for the answer

    def change(uow: LogisticsUnitOfWork, reservation: Reservation) -> Reservation:
        stock.closing(reservation)
        at = now()
        if at >= reservation.expires_at:
            raise stock.InvalidState(
                f"reservation {code} expired at {reservation.expires_at.isoformat()}; reserve again", field="code"
            )
        _close(uow, reservation, ReservationStatus.CONFIRMED, at)
        order = OutboundOrder(
            codes.generate("CK", at=at),
            reservation.merchant_code,
            reservation.code,
            reservation.warehouse_code,
            reservation.order_reference,
            OutboundStatus.CREATED,
            reservation.lines,
            "",
            at,
            at,
        )
        uow.stock.add_outbound(order)
        uow.emit(_outbound_changed(order))
        made.append(order)
        return replace(reservation, status=ReservationStatus.CONFIRMED, outbound_order_code=order.code)

    def answer(confirmed: Reservation) -> M:
        return respond(confirmed, made[-1])

    move = Move(request_id, fingerprint, code)
    return move_status(uow_factory, RESERVATIONS, "logistics.confirm", move, change, response_type, answer)


def expire_due(uow_factory: UowFactory, now: Callable[[], datetime] = utcnow, batch: int = EXPIRY_BATCH) -> int:
    """Release every active reservation past its expiry, a batch per transaction; the number expired."""
    total = 0
    while True:
        with uow_factory() as uow:
            uow.lock_stock_for_write()
            at = now()
            due = uow.stock.expired_for_update(at, batch)
            for reservation in due:
                _close(uow, reservation, ReservationStatus.EXPIRED, at)
                uow.stock.set_reservation_status(reservation.code, ReservationStatus.EXPIRED)
                uow.emit(_reservation_changed(replace(reservation, status=ReservationStatus.EXPIRED), "ACTIVE"))
            uow.commit()
        total += len(due)
        if len(due) < batch:
            break
    if total:
        log.info("reservations_expired", count=total)
    return total


# --- outbound orders ----------------------------------------------------------------------------------


def _outbound_changed(order: OutboundOrder, previous: str = "") -> Message:
    return events_pb2.OutboundOrderStatusChanged(
        outbound_order_code=order.code,
        merchant_code=order.merchant_code,
        warehouse_code=order.warehouse_code,
        previous_status=previous,
        status=order.status.value,
        tracking_number=order.tracking_number,
    )


OUTBOUND_ORDERS: Record[LogisticsUnitOfWork, OutboundOrder] = Record(
    "outbound order",
    load=lambda uow, code, for_update: uow.stock.outbound(code, for_update),
    save=lambda uow, order: uow.stock.update_outbound(order),
    event=lambda before, after: _outbound_changed(after, before.status.value),
    stock=True,
)


def get_outbound(uow_factory: UowFactory, code: str) -> OutboundOrder:
    return get(uow_factory, OUTBOUND_ORDERS, code)


def update_outbound(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    status: OutboundStatus,
    tracking_number: str,
    response_type: type[M],
    respond: Callable[[OutboundOrder], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def change(uow: LogisticsUnitOfWork, order: OutboundOrder) -> OutboundOrder:
        stock.forward(OUTBOUND_ORDER, order.status, status, f"outbound order {code}")
        return replace(
            order, status=status, tracking_number=tracking_number or order.tracking_number, status_since=now()
        )

    move = Move(request_id, fingerprint, code)
    return move_status(uow_factory, OUTBOUND_ORDERS, "logistics.outbound", move, change, response_type, respond)


def cancel_outbound(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    response_type: type[M],
    respond: Callable[[OutboundOrder], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Cancel an outbound order the warehouse has not shipped: its units go back on hand (available)."""

    def change(uow: LogisticsUnitOfWork, order: OutboundOrder) -> OutboundOrder:
        stock.cancellable(order)
        at = now()
        keys = [(order.warehouse_code, order.merchant_code, x.sku) for x in order.lines]
        uow.stock.ensure_levels(keys, at)  # a snapshot since may have dropped the SKU's row to zero, not away
        levels = {
            level.sku: level
            for level in uow.stock.merchant_levels_for_update(
                order.merchant_code, [x.sku for x in order.lines], order.warehouse_code
            )
        }
        uow.stock.save_levels(stock.receive(levels[x.sku], x.quantity, at) for x in order.lines)
        log.info("outbound_order_cancelled", code=code, warehouse=order.warehouse_code, lines=len(order.lines))
        return replace(order, status=OutboundStatus.CANCELLED, status_since=at)

    move = Move(request_id, fingerprint, code)
    return move_status(uow_factory, OUTBOUND_ORDERS, "logistics.outbound_cancel", move, change, response_type, respond)


# --- inbound shipments --------------------------------------------------------------------------------


def _inbound_changed(shipment: InboundShipment, previous: str = "") -> Message:
    return events_pb2.InboundShipmentStatusChanged(
        inbound_shipment_code=shipment.code,
        merchant_code=shipment.merchant_code,
        warehouse_code=shipment.warehouse_code,
        previous_status=previous,
        status=shipment.status.value,
        received_units=sum(x.received for x in shipment.lines),
    )


INBOUND_SHIPMENTS: Record[LogisticsUnitOfWork, InboundShipment] = Record(
    "inbound shipment",
    load=lambda uow, code, for_update: uow.stock.inbound(code, for_update),
    save=lambda uow, shipment: uow.stock.update_inbound(shipment),
    event=lambda before, after: _inbound_changed(after, before.status.value),
    stock=True,
)


@dataclass(frozen=True)
class CreateInbound:
    request_id: str
    fingerprint: str
    merchant_code: str
    warehouse_code: str
    reference: str
    lines: tuple[InboundLine, ...]


def create_inbound(
    uow_factory: UowFactory,
    command: CreateInbound,
    response_type: type[M],
    respond: Callable[[InboundShipment], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: LogisticsUnitOfWork) -> M:
        _warehouse(uow, command.warehouse_code)
        at = now()
        shipment = InboundShipment(
            codes.generate("JC", at=at),
            command.merchant_code,
            command.warehouse_code,
            command.reference,
            InboundStatus.CREATED,
            command.lines,
            at,
            at,
        )
        uow.stock.add_inbound(shipment)
        uow.emit(_inbound_changed(shipment))
        return respond(shipment)

    request = Request(f"logistics.inbound:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work, lock=False)


def get_inbound(uow_factory: UowFactory, code: str) -> InboundShipment:
    return get(uow_factory, INBOUND_SHIPMENTS, code)


def update_inbound(
    uow_factory: UowFactory,
    request_id: str,
    fingerprint: str,
    code: str,
    status: InboundStatus,
    counted: Sequence[tuple[str, int]],
    response_type: type[M],
    respond: Callable[[InboundShipment], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Move forward; IN_TRANSIT counts the expected units as in transit inbound, RECEIVED moves the counted
    units into on hand (and the expected ones out of in transit)."""

    def change(uow: LogisticsUnitOfWork, shipment: InboundShipment) -> InboundShipment:
        stock.forward(INBOUND_ORDER, shipment.status, status, f"inbound shipment {code}")
        at = now()
        lines = shipment.lines
        was_in_transit = INBOUND_ORDER.index(shipment.status) >= INBOUND_ORDER.index(InboundStatus.IN_TRANSIT)
        keys = [(shipment.warehouse_code, shipment.merchant_code, x.sku) for x in lines]
        if status is InboundStatus.RECEIVED:
            lines = _counted(shipment, counted)
        if status is InboundStatus.RECEIVED or (status is not InboundStatus.CREATED and not was_in_transit):
            uow.stock.ensure_levels(keys, at)
            levels = {
                level.sku: level
                for level in uow.stock.merchant_levels_for_update(
                    shipment.merchant_code, [x.sku for x in lines], shipment.warehouse_code
                )
            }
            changed = {}
            for line in lines:
                level = levels[line.sku]
                inbound = level.in_transit_inbound
                if not was_in_transit:
                    inbound += line.expected
                if status is InboundStatus.RECEIVED:
                    inbound = max(0, inbound - line.expected)
                changed[line.sku] = replace(level, in_transit_inbound=inbound, updated_at=at)
            uow.stock.save_levels(changed.values())
            if status is InboundStatus.RECEIVED:
                for line in lines:
                    if line.received:
                        receive_units(
                            uow,
                            shipment.warehouse_code,
                            shipment.merchant_code,
                            line.sku,
                            line.received,
                            f"inbound:{code}:{line.sku}",
                            at,
                        )
        return replace(shipment, status=status, lines=lines, status_since=at)

    move = Move(request_id, fingerprint, code)
    return move_status(uow_factory, INBOUND_SHIPMENTS, "logistics.inbound_status", move, change, response_type, respond)


def _counted(shipment: InboundShipment, counted: Sequence[tuple[str, int]]) -> tuple[InboundLine, ...]:
    """Every line's counted units; a SKU not on the shipment or a line left uncounted is named."""
    violations = Violations()
    by_sku = {}
    for i, (sku, units) in enumerate(counted):
        if sku not in {x.sku for x in shipment.lines}:
            violations.add(f"counted[{i}].sku", f"SKU {sku} is not on inbound shipment {shipment.code}")
        elif sku in by_sku:
            violations.add(f"counted[{i}].sku", f"SKU {sku} is counted twice")
        by_sku[sku] = units
    missing = [x.sku for x in shipment.lines if x.sku not in by_sku]
    if missing:
        violations.add("counted", f"every line must be counted; missing: {', '.join(missing)}")
    violations.raise_if_any()
    return tuple(replace(x, received=by_sku[x.sku]) for x in shipment.lines)
