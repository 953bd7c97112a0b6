"""FX: ops-entered rates, spreads (by the merchant tiers of payments_0002), locked quotes, rate snapshots, value-added offers.

Revision ID: payments_0003
Revises: payments_0004
Create Date: 2026-12-01
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "payments_0003"
down_revision = "payments_0004"  # the id is older than its place in the chain; databases record ids
branch_labels = None
depends_on = None

# The spread defaults of services/payments/fx/domain/spreads.py at the time of this revision (frozen here:
# a later change to the defaults is a migration of its own, or an ops edit).
_DEFAULT_SPREADS = [("*", "*", "STANDARD", 100), ("*", "*", "PLUS", 70), ("*", "*", "ENTERPRISE", 40)] + [
    (sell, buy, tier, bps)
    for a, b in (("USD", "CNY"), ("EUR", "CNY"), ("GBP", "CNY"), ("HKD", "CNY"), ("EUR", "USD"))
    for sell, buy in ((a, b), (b, a))
    for tier, bps in (("STANDARD", 60), ("PLUS", 40), ("ENTERPRISE", 25))
]


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "fx_ops_rates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("base", sa.String(3), nullable=False),
        sa.Column("quote", sa.String(3), nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("valid_from", tz, nullable=False),
        sa.Column("valid_until", tz, nullable=False),
        sa.Column("entered_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_fx_ops_rates_pair", "fx_ops_rates", ["base", "quote", "valid_from"])
    spreads = op.create_table(
        "fx_spreads",
        sa.Column("sell", sa.String(3), primary_key=True),
        sa.Column("buy", sa.String(3), primary_key=True),
        sa.Column("tier", sa.String(20), primary_key=True),
        sa.Column("bps", sa.Integer, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        spreads,
        [{"sell": s, "buy": b, "tier": t, "bps": bps, "updated_at": now} for s, b, t, bps in _DEFAULT_SPREADS],
    )
    op.create_table(
        "fx_quotes",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("sell_currency", sa.String(3), nullable=False),
        sa.Column("buy_currency", sa.String(3), nullable=False),
        sa.Column("sell_minor", sa.BigInteger, nullable=False),
        sa.Column("buy_minor", sa.BigInteger, nullable=False),
        sa.Column("spread_minor", sa.BigInteger, nullable=False),
        sa.Column("fixed_side", sa.String(4), nullable=False),
        sa.Column("reference_rate", sa.String(40), nullable=False),
        sa.Column("spread_bps", sa.Integer, nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("rate_source", sa.String(40), nullable=False),
        sa.Column("rate_as_of", tz, nullable=False),
        sa.Column("rate_fresh_until", tz, nullable=False),
        sa.Column("rate_derivation", sa.String(80), nullable=False),
        sa.Column("lock_premium_bps", sa.Integer, nullable=False),
        sa.Column("lock_seconds", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("conversion_code", sa.String(18), nullable=True, unique=True),
        sa.Column("ledger_reference", sa.String(64), nullable=True),
        sa.Column("converted_at", tz, nullable=True),
    )
    op.create_index("ix_fx_quotes_merchant", "fx_quotes", ["merchant_code", "created_at"])
    op.create_table(
        "fx_rate_snapshots",
        sa.Column("base", sa.String(3), primary_key=True),
        sa.Column("quote", sa.String(3), primary_key=True),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("as_of", tz, nullable=False),
        sa.Column("fetched_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
    )
    op.create_table(
        "vas_offers",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("basis_minor", sa.BigInteger, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("accepted_at", tz, nullable=True),
    )
    op.create_index("ix_vas_offers_merchant", "vas_offers", ["merchant_code", "created_at"])
    op.create_table(
        "vas_countries",
        sa.Column("alpha2", sa.String(2), primary_key=True),
        sa.Column("region", sa.String(60), nullable=False),
        sa.Column("subregion", sa.String(60), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vas_countries")
    op.drop_table("vas_offers")
    op.drop_table("fx_rate_snapshots")
    op.drop_table("fx_quotes")
    op.drop_table("fx_spreads")
    op.drop_table("fx_ops_rates")
