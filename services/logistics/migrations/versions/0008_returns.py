"""Returns (RMA) and their lines.

Revision ID: logistics_0008
Revises: logistics_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0008"
down_revision = "logistics_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("shipment_code", sa.String(18), sa.ForeignKey("shipments.code"), nullable=False),
        sa.Column("outbound_waybill", sa.String(40), nullable=False),
        sa.Column("order_reference", sa.String(60), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("destination_country", sa.String(2), nullable=False),
        sa.Column("origin_country", sa.String(2), nullable=False),
        sa.Column("parcels", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("route", sa.String(24), nullable=True),
        sa.Column("return_waybill", sa.String(40), nullable=True, unique=True),
        sa.Column("label_reference", sa.String(80), nullable=False),
        sa.Column("disposition", sa.String(24), nullable=True),
        sa.Column("warehouse_code", sa.String(40), nullable=False),
        sa.Column("refund_collection_code", sa.String(18), nullable=False),
        sa.Column("refund_amount", sa.String(40), nullable=True),
        sa.Column("refund_currency", sa.String(3), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("comparison", sa.Text, nullable=False),
        sa.Column("authorised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_returns_shipment_code", "returns", ["shipment_code"])
    op.create_table(
        "return_lines",
        sa.Column("return_code", sa.String(18), sa.ForeignKey("returns.code"), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("condition", sa.String(24), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("return_lines")
    op.drop_index("ix_returns_shipment_code", "returns")
    op.drop_table("returns")
