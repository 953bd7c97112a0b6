"""Overseas warehouses, stock levels, reservations, inbound and outbound orders, stock receipts.

Revision ID: logistics_0006
Revises: logistics_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0006"
down_revision = "logistics_0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "warehouses",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
    )
    op.create_table(
        "stock_levels",
        sa.Column("warehouse_code", sa.String(40), primary_key=True),
        sa.Column("merchant_code", sa.String(18), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False),
        sa.Column("in_transit_inbound", sa.BigInteger, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("snapshot_as_of", _TS, nullable=True),
        sa.CheckConstraint(
            "reserved >= 0 AND on_hand >= reserved AND in_transit_inbound >= 0", name="ck_stock_conserved"
        ),
    )
    op.create_index("ix_stock_levels_merchant_sku", "stock_levels", ["merchant_code", "sku"])
    op.create_table(
        "reservations",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("order_reference", sa.String(100), nullable=False),
        sa.Column("warehouse_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("outbound_order_code", sa.String(18), nullable=False),
    )
    op.create_index("ix_reservations_status_expires_at", "reservations", ["status", "expires_at"])
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_code", sa.String(18), sa.ForeignKey("reservations.code"), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "outbound_orders",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("reservation_code", sa.String(18), nullable=False, unique=True),
        sa.Column("warehouse_code", sa.String(40), nullable=False),
        sa.Column("order_reference", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        sa.Column("tracking_number", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("status_since", _TS, nullable=False),
    )
    op.create_table(
        "inbound_shipments",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("warehouse_code", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("status_since", _TS, nullable=False),
    )
    op.create_table(
        "stock_receipts",
        sa.Column("source_reference", sa.String(120), primary_key=True),
        sa.Column("warehouse_code", sa.String(40), nullable=False),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("units", sa.BigInteger, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_receipts")
    op.drop_table("inbound_shipments")
    op.drop_table("outbound_orders")
    op.drop_table("reservation_lines")
    op.drop_index("ix_reservations_status_expires_at", "reservations")
    op.drop_table("reservations")
    op.drop_index("ix_stock_levels_merchant_sku", "stock_levels")
    op.drop_table("stock_levels")
    op.drop_table("warehouses")
