"""Channel catalogue: channel definitions and versioned rate sheets.

Revision ID: logistics_0004
Revises: logistics_0001b
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0004"
down_revision = "logistics_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
    )
    op.create_table(
        "rate_sheets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel_code", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("channel_code", "version", name="uq_rate_sheets_channel_version"),
    )
    op.create_table(
        "rate_rows",
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("rate_sheets.id"), primary_key=True),
        sa.Column("zone", sa.String(80), primary_key=True),
        sa.Column("weight_from_kg", sa.String(24), primary_key=True),
        sa.Column("weight_to_kg", sa.String(24), nullable=False),
        sa.Column("per_parcel", sa.String(32), nullable=False),
        sa.Column("per_kg", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_rows")
    op.drop_table("rate_sheets")
    op.drop_table("channels")
