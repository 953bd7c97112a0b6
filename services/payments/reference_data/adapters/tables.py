"""Reference data tables (schema `payments`): ISO 4217 currencies and ECB reference rates."""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata

currencies = sa.Table(
    "currencies",
    metadata,
    sa.Column("code", sa.String(3), primary_key=True),
    sa.Column("numeric_code", sa.String(3), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("minor_unit", sa.Integer, nullable=True),
    sa.Column("entities", sa.Text, nullable=False),  # JSON list
    sa.Column("withdrawn", sa.String(20), nullable=False),
    sa.Column("is_fund_or_metal", sa.Boolean, nullable=False),
)

# Rates as decimal text: SQLite has no exact NUMERIC, and the ECB's own figures are short decimals.
ecb_rates = sa.Table(
    "ecb_rates",
    metadata,
    sa.Column("rate_date", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("units_per_eur", sa.String(24), nullable=False),
)
