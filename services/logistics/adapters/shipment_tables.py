"""Tables of shipments and their carrier tracking events (schema `logistics`)."""

from __future__ import annotations

import sqlalchemy as sa

from services.logistics.adapters.tables import metadata
from services.shared.clock import UtcDateTime

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("channel_code", sa.String(40), nullable=False),
    sa.Column("rate_sheet_version", sa.Integer, nullable=False),
    sa.Column("waybill_number", sa.String(40), nullable=False, unique=True),
    sa.Column("label_reference", sa.String(80), nullable=False),
    sa.Column("destination_country", sa.String(2), nullable=False),
    sa.Column("destination_postal_code", sa.String(20), nullable=False),
    sa.Column("parcels", sa.Text, nullable=False),  # JSON: weights and sides as exact decimal strings
    sa.Column("booked_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("sub_status", sa.String(80), nullable=False),
    sa.Column("rec24_code", sa.String(8), nullable=False),
    sa.Column("status_since", UtcDateTime, nullable=True),
)

# The unique key is the duplicate check: the same carrier, waybill, code and time is one event.
tracking_events = sa.Table(
    "tracking_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shipment_code", sa.String(18), sa.ForeignKey("shipments.code"), nullable=False),
    sa.Column("carrier", sa.String(40), nullable=False),
    sa.Column("waybill_number", sa.String(40), nullable=False),
    sa.Column("raw_code", sa.String(40), nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(24), nullable=True),  # NULL: the carrier's table does not map raw_code
    sa.Column("sub_status", sa.String(80), nullable=False),
    sa.Column("rec24_code", sa.String(8), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("carrier", "waybill_number", "raw_code", "occurred_at", name="uq_tracking_events_key"),
    sa.Index("ix_tracking_events_shipment_code", "shipment_code"),
)
