"""Value-added services tables (schema `payments`): insurance and financing offers, country regions."""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

vas_offers = sa.Table(
    "vas_offers",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("kind", sa.String(24), nullable=False),  # CARGO_INSURANCE | TRADE_FINANCING
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # premium, or financing limit
    sa.Column("basis_minor", sa.BigInteger, nullable=False),  # declared value, or trailing settled volume
    sa.Column("details", sa.Text, nullable=False),  # JSON: how the price was built
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("accepted_at", UtcDateTime, nullable=True),
    sa.Index("ix_vas_offers_merchant", "merchant_code", "created_at"),
)

# ISO 3166-1 countries with their UN M49 region, for the insurance route loading (dataset "vas_countries").
vas_countries = sa.Table(
    "vas_countries",
    metadata,
    sa.Column("alpha2", sa.String(2), primary_key=True),
    sa.Column("region", sa.String(60), nullable=False),
    sa.Column("subregion", sa.String(60), nullable=False),
)
