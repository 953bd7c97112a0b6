"""Tracking history per channel and lane (schema `logistics`): counts updated in the ingest's transaction."""

from __future__ import annotations

import sqlalchemy as sa

from services.logistics.adapters.tables import metadata

# Shipments that reached a final status, per channel and destination country.
lane_outcomes = sa.Table(
    "lane_outcomes",
    metadata,
    sa.Column("channel_code", sa.String(40), primary_key=True),
    sa.Column("destination_country", sa.String(2), primary_key=True),
    sa.Column("finished", sa.Integer, nullable=False),
    sa.Column("delivered", sa.Integer, nullable=False),
    sa.Column("exceptions", sa.Integer, nullable=False),
    sa.Column("lost", sa.Integer, nullable=False),
)

# Delivered shipments per whole day of transit (booking day to delivery day), per channel and country.
lane_transit_days = sa.Table(
    "lane_transit_days",
    metadata,
    sa.Column("channel_code", sa.String(40), primary_key=True),
    sa.Column("destination_country", sa.String(2), primary_key=True),
    sa.Column("days", sa.Integer, primary_key=True),
    sa.Column("shipments", sa.Integer, nullable=False),
)
