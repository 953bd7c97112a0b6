"""Satisfaction surveys on solved tickets; macros (named canned actions, per merchant or platform-wide).

Revision ID: customer_service_0004
Revises: customer_service_0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "customer_service_0004"
down_revision = "customer_service_0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "satisfaction_surveys",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("offered_at", UTC_TIME, nullable=False),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("rated_at", UTC_TIME, nullable=True),
    )
    op.create_index("ix_satisfaction_surveys_merchant_code", "satisfaction_surveys", ["merchant_code"])
    op.create_table(
        "macros",
        sa.Column("owner", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("reply_visibility", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("add_tags", sa.Text, nullable=False),
        sa.Column("remove_tags", sa.Text, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("macros")
    op.drop_index("ix_satisfaction_surveys_merchant_code", "satisfaction_surveys")
    op.drop_table("satisfaction_surveys")
