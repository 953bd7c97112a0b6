"""Identity tables (schema `identity`): merchants and API keys (only argon2id hashes of the secrets)."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.clock import UtcDateTime
from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)

merchants = sa.Table(
    "merchants",
    metadata,
    sa.Column("merchant_code", sa.String(18), primary_key=True),
    sa.Column("legal_name", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("settlement_currency", sa.String(3), nullable=False),
    sa.Column("contacts", sa.Text, nullable=False),  # JSON list of {name, email, phone, role}
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("screening_code", sa.String(18), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=True, index=True),
    sa.Column("scopes", sa.Text, nullable=False),  # space-separated, sorted
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)
