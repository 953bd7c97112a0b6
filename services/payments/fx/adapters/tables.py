"""FX tables (migration payments_0003), on the payments metadata.

Amounts are integers of minor units beside their ISO 4217 code; rates are decimal text (SQLite has no exact
NUMERIC, and a rate keeps 10 significant digits). Times are UtcDateTime (aware UTC on both engines).
"""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

ops_rates = sa.Table(
    "fx_ops_rates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("base", sa.String(3), nullable=False),
    sa.Column("quote", sa.String(3), nullable=False),
    sa.Column("rate", sa.String(40), nullable=False),
    sa.Column("valid_from", UtcDateTime, nullable=False),
    sa.Column("valid_until", UtcDateTime, nullable=False),
    sa.Column("entered_by", sa.String(120), nullable=False),
    sa.Index("ix_fx_ops_rates_pair", "base", "quote", "valid_from"),
)

spreads = sa.Table(
    "fx_spreads",
    metadata,
    sa.Column("sell", sa.String(3), primary_key=True),  # "*" = any currency
    sa.Column("buy", sa.String(3), primary_key=True),
    sa.Column("tier", sa.String(20), primary_key=True),
    sa.Column("bps", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

quotes = sa.Table(
    "fx_quotes",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("tier", sa.String(20), nullable=False),
    sa.Column("sell_currency", sa.String(3), nullable=False),
    sa.Column("buy_currency", sa.String(3), nullable=False),
    sa.Column("sell_minor", sa.BigInteger, nullable=False),
    sa.Column("buy_minor", sa.BigInteger, nullable=False),
    sa.Column("spread_minor", sa.BigInteger, nullable=False),  # in the buy currency
    sa.Column("fixed_side", sa.String(4), nullable=False),
    sa.Column("reference_rate", sa.String(40), nullable=False),
    sa.Column("spread_bps", sa.Integer, nullable=False),
    sa.Column("rate", sa.String(40), nullable=False),
    sa.Column("rate_source", sa.String(40), nullable=False),
    sa.Column("rate_as_of", UtcDateTime, nullable=False),
    sa.Column("rate_fresh_until", UtcDateTime, nullable=False),
    sa.Column("rate_derivation", sa.String(80), nullable=False),
    sa.Column("lock_premium_bps", sa.Integer, nullable=False),
    sa.Column("lock_seconds", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("conversion_code", sa.String(18), nullable=True, unique=True),
    sa.Column("ledger_reference", sa.String(64), nullable=True),
    sa.Column("converted_at", UtcDateTime, nullable=True),
    sa.Index("ix_fx_quotes_merchant", "merchant_code", "created_at"),
)

rate_snapshots = sa.Table(
    "fx_rate_snapshots",
    metadata,
    sa.Column("base", sa.String(3), primary_key=True),
    sa.Column("quote", sa.String(3), primary_key=True),
    sa.Column("rate", sa.String(40), nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("as_of", UtcDateTime, nullable=False),
    sa.Column("fetched_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)
