"""Shipments and their carrier tracking events.

Revision ID: logistics_0005
Revises: logistics_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0005"
down_revision = "logistics_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("channel_code", sa.String(40), nullable=False),
        sa.Column("rate_sheet_version", sa.Integer, nullable=False),
        sa.Column("waybill_number", sa.String(40), nullable=False, unique=True),
        sa.Column("label_reference", sa.String(80), nullable=False),
        sa.Column("destination_country", sa.String(2), nullable=False),
        sa.Column("destination_postal_code", sa.String(20), nullable=False),
        sa.Column("parcels", sa.Text, nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("sub_status", sa.String(80), nullable=False),
        sa.Column("rec24_code", sa.String(8), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shipment_code", sa.String(18), sa.ForeignKey("shipments.code"), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("waybill_number", sa.String(40), nullable=False),
        sa.Column("raw_code", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=True),
        sa.Column("sub_status", sa.String(80), nullable=False),
        sa.Column("rec24_code", sa.String(8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("carrier", "waybill_number", "raw_code", "occurred_at", name="uq_tracking_events_key"),
    )
    op.create_index("ix_tracking_events_shipment_code", "tracking_events", ["shipment_code"])


def downgrade() -> None:
    op.drop_index("ix_tracking_events_shipment_code", "tracking_events")
    op.drop_table("tracking_events")
    op.drop_table("shipments")
