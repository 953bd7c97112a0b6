"""Risk alerts raised when a re-check after a library or list change gives a worse verdict.

Revision ID: compliance_0004
Revises: compliance_0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0004"
down_revision = "compliance_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_alerts",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_code", sa.String(18), nullable=False),
        sa.Column("party_name", sa.Text, nullable=False),
        sa.Column("destination", sa.String(2), nullable=False),
        sa.Column("old_verdict", sa.String(32), nullable=False),
        sa.Column("new_verdict", sa.String(32), nullable=False),
        sa.Column("cause", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("cause", "subject_code", name="uq_risk_alerts_cause_subject"),
    )
    op.create_index("ix_risk_alerts_merchant_time", "risk_alerts", ["merchant_code", "raised_at", "code"])


def downgrade() -> None:
    op.drop_table("risk_alerts")
