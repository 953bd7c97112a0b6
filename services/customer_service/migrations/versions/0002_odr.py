"""ODR cases, their versioned case files, provider status history and deliveries.

Revision ID: customer_service_0002
Revises: customer_service_0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "customer_service_0002"
down_revision = "customer_service_0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "odr_cases",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("escalated_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_table(
        "odr_case_files",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("odr_cases.ticket_code"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "odr_status_history",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("odr_cases.ticket_code"), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("provider_reference", sa.Text, nullable=False),
    )
    op.create_table(
        "odr_deliveries",
        sa.Column("ticket_code", sa.String(18), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.Column("provider_reference", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["ticket_code", "version"], ["odr_case_files.ticket_code", "odr_case_files.version"]),
    )
    op.create_index("ix_odr_deliveries_next_attempt_at", "odr_deliveries", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_odr_deliveries_next_attempt_at", "odr_deliveries")
    for table in ("odr_deliveries", "odr_status_history", "odr_case_files", "odr_cases"):
        op.drop_table(table)
