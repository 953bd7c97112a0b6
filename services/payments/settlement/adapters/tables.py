"""Settlement tables (schema `payments`): collections, fee schedules and merchant tiers.

Amounts are BIGINT minor units, never floats.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

fee_schedules = sa.Table(
    "fee_schedules",
    metadata,
    sa.Column("tier", sa.String(32), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),  # "*": the tier's default for other currencies
    sa.Column("percent", sa.String(12), nullable=False),  # decimal text, e.g. "2.9"
    sa.Column("fixed_minor", sa.BigInteger, nullable=False),
)

merchant_tiers = sa.Table(
    "merchant_tiers",
    metadata,
    sa.Column("merchant", sa.String(18), primary_key=True),
    sa.Column("tier", sa.String(32), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(18), nullable=False, unique=True),
    sa.Column("merchant", sa.String(18), nullable=False),
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("partner_ref", sa.String(128), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("gross_minor", sa.BigInteger, nullable=False),
    sa.Column("partner_fee_minor", sa.BigInteger, nullable=False),
    sa.Column("platform_fee_minor", sa.BigInteger, nullable=True),
    sa.Column("pending_minor", sa.BigInteger, nullable=False),  # still in the merchant's PENDING wallet
    sa.Column("refunded_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("collected_txn", sa.String(18), nullable=False),
    sa.Column("settled_txn", sa.String(18), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("settled_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("partner", "partner_ref", name="uq_collections_partner_ref"),
    sa.CheckConstraint("refunded_minor <= gross_minor", name="ck_collections_refunds"),
    sa.Index("ix_collections_merchant", "merchant", "id"),
)
