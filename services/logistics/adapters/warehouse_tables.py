"""Tables of overseas warehouses, merchants' stock in them, reservations and inbound/outbound orders."""

from __future__ import annotations

import sqlalchemy as sa

from services.logistics.adapters.tables import metadata
from services.shared.clock import UtcDateTime

warehouses = sa.Table(
    "warehouses",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
)

# The checks are the last line of defence of the stock invariant: a bug that would oversell fails the write.
stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("warehouse_code", sa.String(40), primary_key=True),
    sa.Column("merchant_code", sa.String(18), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("reserved", sa.BigInteger, nullable=False),
    sa.Column("in_transit_inbound", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("snapshot_as_of", UtcDateTime, nullable=True),  # when the last applied snapshot was counted
    sa.CheckConstraint("reserved >= 0 AND on_hand >= reserved AND in_transit_inbound >= 0", name="ck_stock_conserved"),
    sa.Index("ix_stock_levels_merchant_sku", "merchant_code", "sku"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("order_reference", sa.String(100), nullable=False),
    sa.Column("warehouse_code", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("outbound_order_code", sa.String(18), nullable=False),
    sa.Index("ix_reservations_status_expires_at", "status", "expires_at"),
)

reservation_lines = sa.Table(
    "reservation_lines",
    metadata,
    sa.Column("reservation_code", sa.String(18), sa.ForeignKey("reservations.code"), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.BigInteger, nullable=False),
)

outbound_orders = sa.Table(
    "outbound_orders",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("reservation_code", sa.String(18), nullable=False, unique=True),
    sa.Column("warehouse_code", sa.String(40), nullable=False),
    sa.Column("order_reference", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lines", sa.Text, nullable=False),  # JSON [{"sku", "quantity"}]
    sa.Column("tracking_number", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("status_since", UtcDateTime, nullable=False),
)

inbound_shipments = sa.Table(
    "inbound_shipments",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("warehouse_code", sa.String(40), nullable=False),
    sa.Column("reference", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lines", sa.Text, nullable=False),  # JSON [{"sku", "expected", "received"}]
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("status_since", UtcDateTime, nullable=False),
)

# One row per source of units received outside a push (an inbound receipt, a restocked return): the key
# makes receiving the same source twice a no-op.
stock_receipts = sa.Table(
    "stock_receipts",
    metadata,
    sa.Column("source_reference", sa.String(120), primary_key=True),
    sa.Column("warehouse_code", sa.String(40), nullable=False),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
)
