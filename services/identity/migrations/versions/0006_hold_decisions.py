"""Decisions on held merchants and partners (append-only), and where key rotation got to in identity's
encrypted column (operators' TOTP secrets).

Revision ID: identity_0006
Revises: identity_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.shared.migration_ops import create_key_rotation_checkpoints

revision = "identity_0006"
down_revision = "identity_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hold_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("code", sa.String(18), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("previous_status", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hold_decisions_code", "hold_decisions", ["code"])
    create_key_rotation_checkpoints(op)


def downgrade() -> None:
    op.drop_table("key_rotation_checkpoints")
    op.drop_table("hold_decisions")
