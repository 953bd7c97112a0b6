"""Warehouses, stock levels, reservations and inbound/outbound orders in the database.

Row locks: every method that reads stock to change it reads `FOR UPDATE` in (warehouse, merchant, SKU)
order, and reservations before stock, so two writers never wait on each other in opposite orders. SQLite
renders no FOR UPDATE; the unit of work's BEGIN IMMEDIATE serialises its writers instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from services.logistics.adapters.warehouse_tables import (
    inbound_shipments,
    outbound_orders,
    reservation_lines,
    reservations,
    stock_levels,
    stock_receipts,
    warehouses,
)
from services.logistics.domain.stock import (
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
from services.shared.uow import insert_for

_S = stock_levels.c
_LEVEL_ORDER = (_S.warehouse_code, _S.merchant_code, _S.sku)


def _level(row: Row) -> Level:
    return Level(
        row.warehouse_code,
        row.merchant_code,
        row.sku,
        row.on_hand,
        row.reserved,
        row.in_transit_inbound,
        row.updated_at,
        row.snapshot_as_of,
    )


def _lines(text: str) -> tuple[Line, ...]:
    return tuple(Line(item["sku"], int(item["quantity"])) for item in json.loads(text))


class WarehouseRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._locks = connection.dialect.name == "postgresql"

    def _locked(self, query: sa.Select) -> sa.Select:
        return query.with_for_update() if self._locks else query

    # --- warehouses -------------------------------------------------------------------------------
    def replace_warehouses(self, found: Iterable[Warehouse]) -> int:
        """Upsert each warehouse; one no longer in the file stays, because stock may still refer to it."""
        rows = [
            {
                "code": w.code,
                "name": w.name,
                "operator": w.operator,
                "country": w.country,
                "address": w.address,
                "time_zone": w.time_zone,
            }
            for w in found
        ]
        for row in rows:
            insert = insert_for(self.connection)(warehouses).values(**row)
            self.connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["code"], set_={k: v for k, v in row.items() if k != "code"}
                )
            )
        return len(rows)

    def add_warehouse(self, w: Warehouse) -> bool:
        """Insert a new warehouse; False when the code is taken (a concurrent registration waits, then loses)."""
        insert = insert_for(self.connection)(warehouses).values(
            code=w.code, name=w.name, operator=w.operator, country=w.country, address=w.address, time_zone=w.time_zone
        )
        added = self.connection.execute(
            insert.on_conflict_do_nothing(index_elements=["code"]).returning(warehouses.c.code)
        ).first()
        return added is not None

    def warehouses(self, country: str = "") -> list[Warehouse]:
        query = sa.select(warehouses).order_by(warehouses.c.code)
        if country:
            query = query.where(warehouses.c.country == country)
        return [
            Warehouse(r.code, r.name, r.operator, r.country, r.address, r.time_zone)
            for r in self.connection.execute(query)
        ]

    def warehouse(self, code: str, for_update: bool = False) -> Warehouse | None:
        query = sa.select(warehouses).where(warehouses.c.code == code)
        r = self.connection.execute(self._locked(query) if for_update else query).first()
        return None if r is None else Warehouse(r.code, r.name, r.operator, r.country, r.address, r.time_zone)

    # --- stock levels -----------------------------------------------------------------------------
    def ensure_levels(self, keys: Iterable[tuple[str, str, str]], at: datetime) -> None:
        """Zero rows for keys not stored yet, so the locking read that follows sees (and locks) every key.

        Without them two first pushes of one SKU would both read nothing and the second would overwrite
        the first's units instead of waiting for them.
        """
        rows = [
            {"warehouse_code": w, "merchant_code": m, "sku": s, "on_hand": 0, "reserved": 0, "in_transit_inbound": 0}
            | {"updated_at": at}
            for w, m, s in sorted(set(keys))
        ]
        if rows:
            insert = insert_for(self.connection)(stock_levels)
            self.connection.execute(
                insert.on_conflict_do_nothing(index_elements=list(stock_levels.primary_key.columns.keys())), rows
            )

    def levels_for_update(self, warehouse: str, merchant: str) -> dict[str, Level]:
        """Every SKU of the merchant in the warehouse, locked."""
        query = sa.select(stock_levels).where(_S.warehouse_code == warehouse, _S.merchant_code == merchant)
        return {r.sku: _level(r) for r in self.connection.execute(self._locked(query.order_by(*_LEVEL_ORDER)))}

    def merchant_levels_for_update(self, merchant: str, skus: Iterable[str], warehouse: str = "") -> list[Level]:
        """The merchant's levels of these SKUs in every warehouse (or one), locked."""
        query = sa.select(stock_levels).where(_S.merchant_code == merchant, _S.sku.in_(sorted(set(skus))))
        if warehouse:
            query = query.where(_S.warehouse_code == warehouse)
        return [_level(r) for r in self.connection.execute(self._locked(query.order_by(*_LEVEL_ORDER)))]

    def save_levels(self, levels: Iterable[Level]) -> None:
        """Write levels whose rows exist (ensure_levels or a locking read found them)."""
        rows = [
            {
                "k_warehouse": level.warehouse_code,
                "k_merchant": level.merchant_code,
                "k_sku": level.sku,
                "v_on_hand": level.on_hand,
                "v_reserved": level.reserved,
                "v_inbound": level.in_transit_inbound,
                "v_updated_at": level.updated_at,
                "v_snapshot_as_of": level.snapshot_as_of,
            }
            for level in sorted(levels, key=lambda level: level.key)
        ]
        if not rows:
            return
        update = (
            stock_levels.update()
            .where(
                _S.warehouse_code == sa.bindparam("k_warehouse"),
                _S.merchant_code == sa.bindparam("k_merchant"),
                _S.sku == sa.bindparam("k_sku"),
            )
            .values(
                on_hand=sa.bindparam("v_on_hand"),
                reserved=sa.bindparam("v_reserved"),
                in_transit_inbound=sa.bindparam("v_inbound"),
                updated_at=sa.bindparam("v_updated_at"),
                snapshot_as_of=sa.bindparam("v_snapshot_as_of"),
            )
        )
        self.connection.execute(update, rows)

    def levels(self, merchant: str, sku: str = "", warehouse: str = "") -> list[Level]:
        query = sa.select(stock_levels).where(_S.merchant_code == merchant)
        if sku:
            query = query.where(_S.sku == sku)
        if warehouse:
            query = query.where(_S.warehouse_code == warehouse)
        return [_level(r) for r in self.connection.execute(query.order_by(*_LEVEL_ORDER))]

    def levels_of(self, merchant: str, skus: Iterable[str]) -> list[Level]:
        """The merchant's levels of these SKUs in every warehouse (a read, no lock)."""
        query = sa.select(stock_levels).where(_S.merchant_code == merchant, _S.sku.in_(sorted(set(skus))))
        return [_level(r) for r in self.connection.execute(query.order_by(*_LEVEL_ORDER))]

    def claim_receipt(self, source: str, level: Level, units: int, at: datetime) -> bool:
        """Record units received from `source`; False when that source was received before (do nothing)."""
        insert = insert_for(self.connection)(stock_receipts).values(
            source_reference=source,
            warehouse_code=level.warehouse_code,
            merchant_code=level.merchant_code,
            sku=level.sku,
            units=units,
            received_at=at,
        )
        claimed = self.connection.execute(
            insert.on_conflict_do_nothing(index_elements=["source_reference"]).returning(
                stock_receipts.c.source_reference
            )
        ).first()
        return claimed is not None

    # --- reservations -----------------------------------------------------------------------------
    def add_reservation(self, reservation: Reservation) -> None:
        self.connection.execute(
            reservations.insert().values(
                code=reservation.code,
                merchant_code=reservation.merchant_code,
                order_reference=reservation.order_reference,
                warehouse_code=reservation.warehouse_code,
                status=reservation.status.value,
                created_at=reservation.created_at,
                expires_at=reservation.expires_at,
                outbound_order_code=reservation.outbound_order_code,
            )
        )
        self.connection.execute(
            reservation_lines.insert(),
            [{"reservation_code": reservation.code, "sku": x.sku, "quantity": x.quantity} for x in reservation.lines],
        )

    def _reservations(self, query: sa.Select) -> list[Reservation]:
        rows = list(self.connection.execute(query))
        if not rows:
            return []
        codes = [r.code for r in rows]
        lines: dict[str, list[Line]] = {}
        line_query = (
            sa.select(reservation_lines)
            .where(reservation_lines.c.reservation_code.in_(codes))
            .order_by(reservation_lines.c.reservation_code, reservation_lines.c.sku)
        )
        for line in self.connection.execute(line_query):
            lines.setdefault(line.reservation_code, []).append(Line(line.sku, line.quantity))
        return [
            Reservation(
                r.code,
                r.merchant_code,
                r.order_reference,
                r.warehouse_code,
                ReservationStatus(r.status),
                tuple(lines.get(r.code, ())),
                r.created_at,
                r.expires_at,
                r.outbound_order_code,
            )
            for r in rows
        ]

    def reservation(self, code: str, for_update: bool = False) -> Reservation | None:
        query = sa.select(reservations).where(reservations.c.code == code)
        found = self._reservations(self._locked(query) if for_update else query)
        return found[0] if found else None

    def expired_for_update(self, now: datetime, limit: int) -> list[Reservation]:
        """Active reservations past their expiry, locked; rows another transaction holds are skipped."""
        query = (
            sa.select(reservations)
            .where(reservations.c.status == ReservationStatus.ACTIVE.value, reservations.c.expires_at <= now)
            .order_by(reservations.c.code)
            .limit(limit)
        )
        if self._locks:
            query = query.with_for_update(skip_locked=True)
        return self._reservations(query)

    def set_reservation_status(self, code: str, status: ReservationStatus, outbound_order_code: str = "") -> None:
        self.connection.execute(
            reservations.update()
            .where(reservations.c.code == code)
            .values(status=status.value, outbound_order_code=outbound_order_code)
        )

    # --- outbound orders --------------------------------------------------------------------------
    def add_outbound(self, order: OutboundOrder) -> None:
        self.connection.execute(
            outbound_orders.insert().values(
                code=order.code,
                merchant_code=order.merchant_code,
                reservation_code=order.reservation_code,
                warehouse_code=order.warehouse_code,
                order_reference=order.order_reference,
                status=order.status.value,
                lines=json.dumps([{"sku": x.sku, "quantity": x.quantity} for x in order.lines]),
                tracking_number=order.tracking_number,
                created_at=order.created_at,
                status_since=order.status_since,
            )
        )

    def outbound(self, code: str, for_update: bool = False) -> OutboundOrder | None:
        query = sa.select(outbound_orders).where(outbound_orders.c.code == code)
        row = self.connection.execute(self._locked(query) if for_update else query).first()
        if row is None:
            return None
        return OutboundOrder(
            row.code,
            row.merchant_code,
            row.reservation_code,
            row.warehouse_code,
            row.order_reference,
            OutboundStatus(row.status),
            _lines(row.lines),
            row.tracking_number,
            row.created_at,
            row.status_since,
        )

    def update_outbound(self, order: OutboundOrder) -> None:
        self.connection.execute(
            outbound_orders.update()
            .where(outbound_orders.c.code == order.code)
            .values(status=order.status.value, tracking_number=order.tracking_number, status_since=order.status_since)
        )

    # --- inbound shipments ------------------------------------------------------------------------
    @staticmethod
    def _inbound_lines(lines: Iterable[InboundLine]) -> str:
        return json.dumps([{"sku": x.sku, "expected": x.expected, "received": x.received} for x in lines])

    def add_inbound(self, shipment: InboundShipment) -> None:
        self.connection.execute(
            inbound_shipments.insert().values(
                code=shipment.code,
                merchant_code=shipment.merchant_code,
                warehouse_code=shipment.warehouse_code,
                reference=shipment.reference,
                status=shipment.status.value,
                lines=self._inbound_lines(shipment.lines),
                created_at=shipment.created_at,
                status_since=shipment.status_since,
            )
        )

    def inbound(self, code: str, for_update: bool = False) -> InboundShipment | None:
        query = sa.select(inbound_shipments).where(inbound_shipments.c.code == code)
        row = self.connection.execute(self._locked(query) if for_update else query).first()
        if row is None:
            return None
        return InboundShipment(
            row.code,
            row.merchant_code,
            row.warehouse_code,
            row.reference,
            InboundStatus(row.status),
            tuple(InboundLine(x["sku"], int(x["expected"]), int(x["received"])) for x in json.loads(row.lines)),
            row.created_at,
            row.status_since,
        )

    def update_inbound(self, shipment: InboundShipment) -> None:
        self.connection.execute(
            inbound_shipments.update()
            .where(inbound_shipments.c.code == shipment.code)
            .values(
                status=shipment.status.value,
                lines=self._inbound_lines(shipment.lines),
                status_since=shipment.status_since,
            )
        )
