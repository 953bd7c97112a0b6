"""Kernel tables, ISO 3166-1 countries, UN/CEFACT Rec. 24 status codes.

Revision ID: logistics_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.shared.migration_ops import create_kernel_tables

revision = "logistics_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op)
    op.create_table(
        "countries",
        sa.Column("alpha2", sa.String(2), primary_key=True),
        sa.Column("alpha3", sa.String(3), nullable=False, unique=True),
        sa.Column("numeric", sa.String(3), nullable=False, unique=True),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("formal_name_en", sa.Text, nullable=False),
        sa.Column("formal_name_zh", sa.Text, nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("capital", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("sub_region", sa.Text, nullable=False),
        sa.Column("languages", sa.Text, nullable=False),
        sa.Column("tld", sa.Text, nullable=False),
    )
    op.create_table(
        "status_codes",
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_codes")
    op.drop_table("countries")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("dataset_versions")
