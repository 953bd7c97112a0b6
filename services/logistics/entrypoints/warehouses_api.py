"""WarehouseService servicer: parse each message once (every bad field named), call the use case, answer proto."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from xborder.logistics.v1 import warehouses_service_pb2 as pb
from xborder.logistics.v1 import warehouses_service_pb2_grpc as pb_grpc

from services.logistics.domain.stock import (
    MAX_UNITS,
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
from services.logistics.domain.warehouses import CODE as WAREHOUSE_CODE
from services.logistics.domain.warehouses import Warehouse
from services.logistics.service_layer import stock as handlers
from services.shared import request_fields
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint

MAX_PUSH_LINES = 1000
MAX_ORDER_LINES = 100
MAX_REFERENCE = 100
DEFAULT_TTL = timedelta(minutes=30)
MIN_TTL_S, MAX_TTL_S = 60, 7 * 24 * 3600
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
ALPHA2 = re.compile(r"^[A-Z]{2}$")

RESERVATION_STATUSES = {
    ReservationStatus.ACTIVE: pb.RESERVATION_STATUS_ACTIVE,
    ReservationStatus.RELEASED: pb.RESERVATION_STATUS_RELEASED,
    ReservationStatus.EXPIRED: pb.RESERVATION_STATUS_EXPIRED,
    ReservationStatus.CONFIRMED: pb.RESERVATION_STATUS_CONFIRMED,
}
OUTBOUND_STATUSES = {
    OutboundStatus.CREATED: pb.OUTBOUND_STATUS_CREATED,
    OutboundStatus.PICKING: pb.OUTBOUND_STATUS_PICKING,
    OutboundStatus.SHIPPED: pb.OUTBOUND_STATUS_SHIPPED,
    OutboundStatus.DELIVERED: pb.OUTBOUND_STATUS_DELIVERED,
    OutboundStatus.CANCELLED: pb.OUTBOUND_STATUS_CANCELLED,
}
INBOUND_STATUSES = {
    InboundStatus.CREATED: pb.INBOUND_STATUS_CREATED,
    InboundStatus.IN_TRANSIT: pb.INBOUND_STATUS_IN_TRANSIT,
    InboundStatus.ARRIVED: pb.INBOUND_STATUS_ARRIVED,
    InboundStatus.RECEIVED: pb.INBOUND_STATUS_RECEIVED,
}


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def warehouse_to_proto(w: Warehouse) -> pb.Warehouse:
    return pb.Warehouse(
        code=w.code, name=w.name, operator=w.operator, country=w.country, address=w.address, time_zone=w.time_zone
    )


def level_to_proto(level: Level, countries: dict[str, str]) -> pb.StockLevel:
    return pb.StockLevel(
        warehouse_code=level.warehouse_code,
        country=countries.get(level.warehouse_code, ""),
        sku=level.sku,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        in_transit_inbound=level.in_transit_inbound,
        updated_at=_timestamp(level.updated_at),
        merchant_code=level.merchant_code,
    )


def _order_lines(lines: tuple[Line, ...]) -> list[pb.OrderLine]:
    return [pb.OrderLine(sku=x.sku, quantity=x.quantity) for x in lines]


def reservation_to_proto(r: Reservation) -> pb.Reservation:
    return pb.Reservation(
        code=r.code,
        merchant_code=r.merchant_code,
        order_reference=r.order_reference,
        warehouse_code=r.warehouse_code,
        status=RESERVATION_STATUSES[r.status],
        lines=_order_lines(r.lines),
        created_at=_timestamp(r.created_at),
        expires_at=_timestamp(r.expires_at),
        outbound_order_code=r.outbound_order_code,
    )


def outbound_to_proto(o: OutboundOrder) -> pb.OutboundOrder:
    return pb.OutboundOrder(
        code=o.code,
        merchant_code=o.merchant_code,
        reservation_code=o.reservation_code,
        warehouse_code=o.warehouse_code,
        order_reference=o.order_reference,
        status=OUTBOUND_STATUSES[o.status],
        lines=_order_lines(o.lines),
        tracking_number=o.tracking_number,
        created_at=_timestamp(o.created_at),
        status_since=_timestamp(o.status_since),
    )


def inbound_to_proto(s: InboundShipment) -> pb.InboundShipment:
    return pb.InboundShipment(
        code=s.code,
        merchant_code=s.merchant_code,
        warehouse_code=s.warehouse_code,
        reference=s.reference,
        status=INBOUND_STATUSES[s.status],
        lines=[pb.InboundLine(sku=x.sku, expected=x.expected, received=x.received) for x in s.lines],
        created_at=_timestamp(s.created_at),
        status_since=_timestamp(s.status_since),
    )


def warehouse_code(value: str, violations: Violations, field: str = "warehouse_code", required: bool = True) -> str:
    code = value.strip().upper()
    if not code:
        if required:
            violations.add(field, "is required")
    elif not WAREHOUSE_CODE.match(code):
        violations.add(field, f"{value!r} is not a warehouse code (3-40 letters, digits and hyphens)")
    return code


def sku(value: str, field: str, violations: Violations) -> str:
    text = value.strip()
    if not text:
        violations.add(field, "is required")
    elif not SKU.match(text):
        violations.add(field, f"{value!r} is not a SKU (1-64 letters, digits and . _ / -, no spaces)")
    return text


def units(value: int, field: str, violations: Violations, minimum: int) -> int:
    if value < minimum:
        what = "negative" if minimum == 0 else f"below {minimum}"
        violations.add(field, f"{value} is {what}" + ("" if minimum == 0 else f": at least {minimum} unit"))
    elif abs(value) > MAX_UNITS:
        violations.add(field, f"{value} is beyond {MAX_UNITS} units")
    return value


def _unique(skus: list[str], field: str, violations: Violations) -> None:
    seen: set[str] = set()
    for i, value in enumerate(skus):
        if value and value in seen:
            violations.add(f"{field}[{i}].sku", f"SKU {value} appears twice")
        seen.add(value)


def push_command(request: pb.PushInventoryRequest) -> handlers.PushInventory:
    violations = Violations()
    key = request_fields.request_id(request.push_id, violations, "push_id")
    warehouse = warehouse_code(request.warehouse_code, violations)
    merchant = request_fields.merchant_code(request.merchant_code, violations)
    if request.kind == pb.INVENTORY_PUSH_KIND_UNSPECIFIED:
        violations.add("kind", "is required: INVENTORY_PUSH_KIND_SNAPSHOT or INVENTORY_PUSH_KIND_DELTA")
    snapshot = request.kind == pb.INVENTORY_PUSH_KIND_SNAPSHOT
    if not request.lines and not snapshot:
        violations.add("lines", "at least one line is required")
    if len(request.lines) > MAX_PUSH_LINES:
        violations.add("lines", f"at most {MAX_PUSH_LINES} lines, got {len(request.lines)}")
    lines = []
    for i, line in enumerate(request.lines[:MAX_PUSH_LINES]):
        where = f"lines[{i}]"
        minimum = 0 if snapshot else -MAX_UNITS
        lines.append(
            Counts(
                sku(line.sku, f"{where}.sku", violations),
                units(line.on_hand, f"{where}.on_hand", violations, minimum),
                units(line.in_transit_inbound, f"{where}.in_transit_inbound", violations, minimum),
            )
        )
    _unique([x.sku for x in lines], "lines", violations)
    violations.raise_if_any()
    as_of = request.as_of.ToDatetime(tzinfo=UTC) if request.HasField("as_of") else None
    return handlers.PushInventory(
        key, fingerprint(request, ("push_id",)), warehouse, merchant, snapshot, tuple(lines), as_of
    )


def reserve_command(request: pb.ReserveStockRequest) -> handlers.Reserve:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    merchant = request_fields.merchant_code(request.merchant_code, violations)
    reference = request.order_reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        violations.add("order_reference", f"is required, at most {MAX_REFERENCE} characters")
    if not request.lines:
        violations.add("lines", "at least one line is required")
    if len(request.lines) > MAX_ORDER_LINES:
        violations.add("lines", f"at most {MAX_ORDER_LINES} lines, got {len(request.lines)}")
    lines = tuple(
        Line(sku(x.sku, f"lines[{i}].sku", violations), units(x.quantity, f"lines[{i}].quantity", violations, 1))
        for i, x in enumerate(request.lines[:MAX_ORDER_LINES])
    )
    _unique([x.sku for x in lines], "lines", violations)
    warehouse = warehouse_code(request.warehouse_code, violations, required=False)
    country = request.destination_country.strip().upper()
    if country and not ALPHA2.match(country):
        violations.add("destination_country", f"{request.destination_country!r} is not an ISO 3166-1 alpha-2 code")
    ttl = request.ttl_seconds
    if ttl and not MIN_TTL_S <= ttl <= MAX_TTL_S:
        violations.add("ttl_seconds", f"{ttl} is outside {MIN_TTL_S}-{MAX_TTL_S} seconds")
    if request.allow_split and warehouse:
        violations.add("allow_split", "not with warehouse_code: a split reserves in several warehouses")
    violations.raise_if_any()
    return handlers.Reserve(
        key,
        fingerprint(request),
        merchant,
        reference,
        lines,
        warehouse,
        country,
        timedelta(seconds=ttl) if ttl else DEFAULT_TTL,
        request.allow_split,
    )


MAX_TEXT = 200


def _text(value: str, field: str, violations: Violations, required: bool) -> str:
    text = value.strip()
    if required and not text:
        violations.add(field, "is required")
    elif len(text) > MAX_TEXT:
        violations.add(field, f"at most {MAX_TEXT} characters")
    return text


def _country(value: str, field: str, violations: Violations, required: bool) -> str:
    country = value.strip().upper()
    if required and not country:
        violations.add(field, "is required")
    elif country and not ALPHA2.match(country):
        violations.add(field, f"{value!r} is not an ISO 3166-1 alpha-2 code")
    return country


def _time_zone(value: str, field: str, violations: Violations, required: bool) -> str:
    zone = value.strip()
    if required and not zone:
        violations.add(field, "is required")
    elif zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            violations.add(field, f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles)")
    return zone


def warehouse_from_request(request: pb.RegisterWarehouseRequest) -> tuple[str, Warehouse]:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    w = request.warehouse
    warehouse = Warehouse(
        warehouse_code(w.code, violations, "warehouse.code"),
        _text(w.name, "warehouse.name", violations, True),
        _text(w.operator, "warehouse.operator", violations, True),
        _country(w.country, "warehouse.country", violations, True),
        _text(w.address, "warehouse.address", violations, True),
        _time_zone(w.time_zone, "warehouse.time_zone", violations, True),
    )
    violations.raise_if_any()
    return key, warehouse


def warehouse_changes(request: pb.UpdateWarehouseRequest) -> tuple[str, str, dict[str, str]]:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    code = warehouse_code(request.code, violations, "code")
    given = {
        "name": _text(request.name, "name", violations, False),
        "operator": _text(request.operator, "operator", violations, False),
        "country": _country(request.country, "country", violations, False),
        "address": _text(request.address, "address", violations, False),
        "time_zone": _time_zone(request.time_zone, "time_zone", violations, False),
    }
    changes = {k: v for k, v in given.items() if v}
    if not changes and not violations:
        violations.add("name", "nothing to change: give at least one of name, operator, country, address, time_zone")
    violations.raise_if_any()
    return key, code, changes


def inbound_command(request: pb.CreateInboundShipmentRequest) -> handlers.CreateInbound:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    merchant = request_fields.merchant_code(request.merchant_code, violations)
    warehouse = warehouse_code(request.warehouse_code, violations)
    reference = request.reference.strip()
    if len(reference) > MAX_REFERENCE:
        violations.add("reference", f"at most {MAX_REFERENCE} characters")
    if not request.lines:
        violations.add("lines", "at least one line is required")
    if len(request.lines) > MAX_PUSH_LINES:
        violations.add("lines", f"at most {MAX_PUSH_LINES} lines, got {len(request.lines)}")
    lines = tuple(
        InboundLine(sku(x.sku, f"lines[{i}].sku", violations), units(x.expected, f"lines[{i}].expected", violations, 1))
        for i, x in enumerate(request.lines[:MAX_PUSH_LINES])
    )
    _unique([x.sku for x in lines], "lines", violations)
    violations.raise_if_any()
    return handlers.CreateInbound(key, fingerprint(request), merchant, warehouse, reference, lines)


def _code(value: str, violations: Violations, kind: str) -> str:
    return request_fields.unified_code(value, "code", violations, kind)


def _read_code(value: str, kind: str) -> str:
    """The code (entity type `kind`) a read names; a malformed one is INVALID_ARGUMENT naming `code`."""
    violations = Violations()
    code = _code(value, violations, kind)
    violations.raise_if_any()
    return code


MoveRequest = (
    pb.ReleaseReservationRequest
    | pb.ConfirmReservationRequest
    | pb.CancelOutboundOrderRequest
    | pb.UpdateOutboundOrderRequest
    | pb.UpdateInboundShipmentRequest
)
R = TypeVar("R", bound=Message)


def _move_target(request: MoveRequest, kind: str, violations: Violations) -> tuple[str, str, str]:
    """A status move's request id, its payload's fingerprint, and the code (entity type `kind`) it moves."""
    key = request_fields.request_id(request.request_id, violations)
    return key, fingerprint(request), _code(request.code, violations, kind)


class WarehouseServicer(pb_grpc.WarehouseServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory, now: Callable[[], datetime] = utcnow) -> None:
        self.uow_factory = uow_factory
        self.now = now

    def ListWarehouses(
        self, request: pb.ListWarehousesRequest, context: grpc.ServicerContext
    ) -> pb.ListWarehousesResponse:
        violations = Violations()
        country = request.country.strip().upper()
        if country and not ALPHA2.match(country):
            violations.add("country", f"{request.country!r} is not an ISO 3166-1 alpha-2 code")
        violations.raise_if_any()
        found = handlers.list_warehouses(self.uow_factory, country)
        return pb.ListWarehousesResponse(warehouses=[warehouse_to_proto(w) for w in found])

    def PushInventory(
        self, request: pb.PushInventoryRequest, context: grpc.ServicerContext
    ) -> pb.PushInventoryResponse:
        command = push_command(request)
        countries = {w.code: w.country for w in handlers.list_warehouses(self.uow_factory)}
        return handlers.push_inventory(
            self.uow_factory,
            command,
            pb.PushInventoryResponse,
            lambda levels, stale: pb.PushInventoryResponse(
                levels=[level_to_proto(x, countries) for x in levels], stale=stale
            ),
            self.now,
        )

    def GetStock(self, request: pb.GetStockRequest, context: grpc.ServicerContext) -> pb.GetStockResponse:
        violations = Violations()
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        wanted = sku(request.sku, "sku", violations)
        violations.raise_if_any()
        view = handlers.stock_levels(self.uow_factory, merchant, wanted)
        levels = view.levels
        return pb.GetStockResponse(
            merchant_code=merchant,
            sku=wanted,
            warehouses=[level_to_proto(x, view.countries) for x in levels],
            on_hand=sum(x.on_hand for x in levels),
            reserved=sum(x.reserved for x in levels),
            available=sum(x.available for x in levels),
            in_transit_inbound=sum(x.in_transit_inbound for x in levels),
        )

    def ListStock(self, request: pb.ListStockRequest, context: grpc.ServicerContext) -> pb.ListStockResponse:
        violations = Violations()
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        warehouse = warehouse_code(request.warehouse_code, violations, required=False)
        violations.raise_if_any()
        view = handlers.stock_levels(self.uow_factory, merchant, warehouse=warehouse)
        return pb.ListStockResponse(levels=[level_to_proto(x, view.countries) for x in view.levels])

    def ReserveStock(self, request: pb.ReserveStockRequest, context: grpc.ServicerContext) -> pb.ReserveStockResponse:
        command = reserve_command(request)
        return handlers.reserve(
            self.uow_factory,
            command,
            pb.ReserveStockResponse,
            lambda made: pb.ReserveStockResponse(
                reservation=reservation_to_proto(made[0]), reservations=[reservation_to_proto(r) for r in made]
            ),
            self.now,
        )

    def GetReservation(
        self, request: pb.GetReservationRequest, context: grpc.ServicerContext
    ) -> pb.GetReservationResponse:
        found = handlers.get_reservation(self.uow_factory, _read_code(request.code, "YL"))
        return pb.GetReservationResponse(reservation=reservation_to_proto(found), merchant_code=found.merchant_code)

    def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: grpc.ServicerContext
    ) -> pb.ReleaseReservationResponse:
        response = pb.ReleaseReservationResponse
        return self._move(
            request, "YL", handlers.release, response, lambda r: response(reservation=reservation_to_proto(r))
        )

    def ConfirmReservation(
        self, request: pb.ConfirmReservationRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmReservationResponse:
        response = pb.ConfirmReservationResponse
        return self._move(
            request,
            "YL",
            handlers.confirm,
            response,
            lambda r, o: response(reservation=reservation_to_proto(r), outbound_order=outbound_to_proto(o)),
        )

    def GetOutboundOrder(
        self, request: pb.GetOutboundOrderRequest, context: grpc.ServicerContext
    ) -> pb.GetOutboundOrderResponse:
        found = handlers.get_outbound(self.uow_factory, _read_code(request.code, "CK"))
        return pb.GetOutboundOrderResponse(outbound_order=outbound_to_proto(found), merchant_code=found.merchant_code)

    def UpdateOutboundOrder(
        self, request: pb.UpdateOutboundOrderRequest, context: grpc.ServicerContext
    ) -> pb.UpdateOutboundOrderResponse:
        violations = Violations()
        key, digest, code = _move_target(request, "CK", violations)
        by_proto = {v: k for k, v in OUTBOUND_STATUSES.items()}
        status = by_proto.get(request.status)
        if status is None or status is OutboundStatus.CANCELLED:
            violations.add("status", "is required: PICKING, SHIPPED or DELIVERED (the merchant cancels)")
        tracking = request.tracking_number.strip()
        if len(tracking) > 64:
            violations.add("tracking_number", "at most 64 characters")
        if status is OutboundStatus.SHIPPED and not tracking:
            violations.add("tracking_number", "is required with SHIPPED: the last-mile carrier's number")
        violations.raise_if_any()
        assert status is not None
        return handlers.update_outbound(
            self.uow_factory,
            key,
            digest,
            code,
            status,
            tracking,
            pb.UpdateOutboundOrderResponse,
            lambda o: pb.UpdateOutboundOrderResponse(outbound_order=outbound_to_proto(o)),
            self.now,
        )

    def CancelOutboundOrder(
        self, request: pb.CancelOutboundOrderRequest, context: grpc.ServicerContext
    ) -> pb.CancelOutboundOrderResponse:
        response = pb.CancelOutboundOrderResponse
        return self._move(
            request, "CK", handlers.cancel_outbound, response, lambda o: response(outbound_order=outbound_to_proto(o))
        )

    def _move(
        self, request: MoveRequest, kind: str, handler: Callable[..., R], response: type[R], render: Callable[..., R]
    ) -> R:
        """A status move that takes nothing but the request id and the code of the record it moves."""
        violations = Violations()
        key, digest, code = _move_target(request, kind, violations)
        violations.raise_if_any()
        return handler(self.uow_factory, key, digest, code, response, render, self.now)

    def RegisterWarehouse(
        self, request: pb.RegisterWarehouseRequest, context: grpc.ServicerContext
    ) -> pb.RegisterWarehouseResponse:
        key, warehouse = warehouse_from_request(request)
        return handlers.register_warehouse(
            self.uow_factory,
            key,
            fingerprint(request),
            warehouse,
            pb.RegisterWarehouseResponse,
            lambda w: pb.RegisterWarehouseResponse(warehouse=warehouse_to_proto(w)),
        )

    def UpdateWarehouse(
        self, request: pb.UpdateWarehouseRequest, context: grpc.ServicerContext
    ) -> pb.UpdateWarehouseResponse:
        key, code, changes = warehouse_changes(request)
        return handlers.update_warehouse(
            self.uow_factory,
            key,
            fingerprint(request),
            code,
            changes,
            pb.UpdateWarehouseResponse,
            lambda w: pb.UpdateWarehouseResponse(warehouse=warehouse_to_proto(w)),
        )

    def CreateInboundShipment(
        self, request: pb.CreateInboundShipmentRequest, context: grpc.ServicerContext
    ) -> pb.CreateInboundShipmentResponse:
        command = inbound_command(request)
        return handlers.create_inbound(
            self.uow_factory,
            command,
            pb.CreateInboundShipmentResponse,
            lambda s: pb.CreateInboundShipmentResponse(inbound_shipment=inbound_to_proto(s)),
            self.now,
        )

    def GetInboundShipment(
        self, request: pb.GetInboundShipmentRequest, context: grpc.ServicerContext
    ) -> pb.GetInboundShipmentResponse:
        found = handlers.get_inbound(self.uow_factory, _read_code(request.code, "JC"))
        return pb.GetInboundShipmentResponse(
            inbound_shipment=inbound_to_proto(found), merchant_code=found.merchant_code
        )

    def UpdateInboundShipment(
        self, request: pb.UpdateInboundShipmentRequest, context: grpc.ServicerContext
    ) -> pb.UpdateInboundShipmentResponse:
        violations = Violations()
        key, digest, code = _move_target(request, "JC", violations)
        by_proto = {v: k for k, v in INBOUND_STATUSES.items()}
        status = by_proto.get(request.status)
        if status is None:
            violations.add("status", "is required: IN_TRANSIT, ARRIVED or RECEIVED")
        counted = [
            (sku(x.sku, f"counted[{i}].sku", violations), units(x.received, f"counted[{i}].received", violations, 0))
            for i, x in enumerate(request.counted[:MAX_PUSH_LINES])
        ]
        if status is not InboundStatus.RECEIVED and counted:
            violations.add("counted", "only with RECEIVED")
        violations.raise_if_any()
        assert status is not None
        return handlers.update_inbound(
            self.uow_factory,
            key,
            digest,
            code,
            status,
            counted,
            pb.UpdateInboundShipmentResponse,
            lambda s: pb.UpdateInboundShipmentResponse(inbound_shipment=inbound_to_proto(s)),
            self.now,
        )
