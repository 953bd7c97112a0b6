"""Tables of the channel catalogue (schema `logistics`): channel definitions and versioned rate sheets.

Decimal quantities are stored as their exact decimal strings, so SQLite and PostgreSQL return the very
value that was imported.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.logistics.adapters.tables import metadata
from services.shared.clock import UtcDateTime

# One row per channel; `definition` is the channel's definition as JSON (domain.channels reads it).
channels = sa.Table(
    "channels",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("carrier", sa.Text, nullable=False),
    sa.Column("carrier_id", sa.String(40), nullable=False, server_default=""),
    # The further carriers whose events move its shipments, space-separated and sorted (the ingest joins it).
    sa.Column("tracking_carriers", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
)

rate_sheets = sa.Table(
    "rate_sheets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel_code", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("valid_from", UtcDateTime, nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.UniqueConstraint("channel_code", "version", name="uq_rate_sheets_channel_version"),
)

rate_rows = sa.Table(
    "rate_rows",
    metadata,
    sa.Column("sheet_id", sa.Integer, sa.ForeignKey("rate_sheets.id"), primary_key=True),
    sa.Column("zone", sa.String(80), primary_key=True),
    sa.Column("weight_from_kg", sa.String(24), primary_key=True),
    sa.Column("weight_to_kg", sa.String(24), nullable=False),
    sa.Column("per_parcel", sa.String(32), nullable=False),
    sa.Column("per_kg", sa.String(32), nullable=False),
)
