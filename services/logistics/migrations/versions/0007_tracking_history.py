"""Tracking history per channel and lane: finished, delivered, exceptions, lost, transit days.

Revision ID: logistics_0007
Revises: logistics_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0007"
down_revision = "logistics_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lane_outcomes",
        sa.Column("channel_code", sa.String(40), primary_key=True),
        sa.Column("destination_country", sa.String(2), primary_key=True),
        sa.Column("finished", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("exceptions", sa.Integer, nullable=False),
        sa.Column("lost", sa.Integer, nullable=False),
    )
    op.create_table(
        "lane_transit_days",
        sa.Column("channel_code", sa.String(40), primary_key=True),
        sa.Column("destination_country", sa.String(2), primary_key=True),
        sa.Column("days", sa.Integer, primary_key=True),
        sa.Column("shipments", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lane_transit_days")
    op.drop_table("lane_outcomes")
