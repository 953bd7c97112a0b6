"""Kernel tables, merchants and API keys.

Revision ID: identity_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.shared.migration_ops import add_dataset_provenance, create_kernel_tables

revision = "identity_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op)
    add_dataset_provenance(op)
    op.create_table(
        "merchants",
        sa.Column("merchant_code", sa.String(18), primary_key=True),
        sa.Column("legal_name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("settlement_currency", sa.String(3), nullable=False),
        sa.Column("contacts", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("screening_code", sa.String(18), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_keys_merchant_code", "api_keys", ["merchant_code"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("merchants")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("dataset_versions")
