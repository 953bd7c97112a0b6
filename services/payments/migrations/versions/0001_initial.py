"""Kernel tables, ISO 4217 currencies, ECB reference rates.

Revision ID: payments_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.shared.migration_ops import create_kernel_tables

revision = "payments_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op)
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("numeric_code", sa.String(3), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("minor_unit", sa.Integer, nullable=True),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("withdrawn", sa.String(20), nullable=False),
        sa.Column("is_fund_or_metal", sa.Boolean, nullable=False),
    )
    op.create_index("ix_currencies_numeric", "currencies", ["numeric_code"])
    op.create_table(
        "ecb_rates",
        sa.Column("rate_date", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("units_per_eur", sa.String(24), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ecb_rates")
    op.drop_table("currencies")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("dataset_versions")
