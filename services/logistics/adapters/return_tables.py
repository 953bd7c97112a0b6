"""Tables of returns (RMA) and their lines (schema `logistics`)."""

from __future__ import annotations

import sqlalchemy as sa

from services.logistics.adapters.tables import metadata
from services.shared.clock import UtcDateTime

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("shipment_code", sa.String(18), sa.ForeignKey("shipments.code"), nullable=False),
    sa.Column("outbound_waybill", sa.String(40), nullable=False),
    sa.Column("order_reference", sa.String(60), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("destination_country", sa.String(2), nullable=False),
    sa.Column("origin_country", sa.String(2), nullable=False),
    sa.Column("parcels", sa.Text, nullable=False),  # JSON, as shipments.parcels
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("route", sa.String(24), nullable=True),
    sa.Column("return_waybill", sa.String(40), nullable=True, unique=True),
    sa.Column("label_reference", sa.String(80), nullable=False),
    sa.Column("disposition", sa.String(24), nullable=True),
    sa.Column("warehouse_code", sa.String(40), nullable=False),
    sa.Column("refund_collection_code", sa.String(18), nullable=False),
    sa.Column("refund_amount", sa.String(40), nullable=True),  # exact decimal string
    sa.Column("refund_currency", sa.String(3), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("carrier", sa.String(40), nullable=False, server_default=""),
    sa.Column("comparison", sa.Text, nullable=False),  # JSON: the cost comparison made at authorisation
    sa.Column("authorised_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_returns_shipment_code", "shipment_code"),
)

return_lines = sa.Table(
    "return_lines",
    metadata,
    sa.Column("return_code", sa.String(18), sa.ForeignKey("returns.code"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(24), nullable=False),
    sa.Column("condition", sa.String(24), nullable=True),  # NULL until inspected
)
