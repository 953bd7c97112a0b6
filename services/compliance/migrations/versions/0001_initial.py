"""Kernel tables, HS 2022 sections and codes, upstream dataset versions.

Revision ID: compliance_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.shared.migration_ops import create_kernel_tables

revision = "compliance_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op)
    op.create_table(
        "hs_sections",
        sa.Column("numeral", sa.String(6), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "hs_codes",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("section", sa.String(6), nullable=False),
        sa.Column("chapter", sa.String(2), nullable=False),
        sa.Column("heading", sa.String(4), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
    )
    op.create_index("ix_hs_codes_level_code", "hs_codes", ["level", "code"])
    op.create_table(
        "upstream_datasets",
        sa.Column("service", sa.String(40), primary_key=True),
        sa.Column("dataset", sa.String(60), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("upstream_datasets")
    op.drop_table("hs_codes")
    op.drop_table("hs_sections")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("dataset_versions")
