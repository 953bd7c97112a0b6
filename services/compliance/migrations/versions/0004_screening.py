"""Sanctions lists, their entries, and stored screenings.

Revision ID: compliance_0003
Revises: compliance_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0003"
down_revision = "compliance_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sanctions_entries",
        sa.Column("list_name", sa.String(40), primary_key=True),
        sa.Column("entry_id", sa.String(80), primary_key=True),
        sa.Column("party_type", sa.String(16), nullable=False),
        sa.Column("primary_name", sa.Text, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "sanctions_lists",
        sa.Column("list_name", sa.String(40), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("published_on", sa.String(10), nullable=False),
        sa.Column("date_basis", sa.Text, nullable=False),
        sa.Column("entry_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "screenings",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("party", sa.JSON, nullable=False),
        sa.Column("hit_entries", sa.JSON, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_screenings_merchant_time", "screenings", ["merchant_code", "screened_at", "code"])


def downgrade() -> None:
    op.drop_table("screenings")
    op.drop_table("sanctions_lists")
    op.drop_table("sanctions_entries")
