"""Remembered requests of idempotent mutating RPCs (services/shared/idempotency.py).

Revision ID: logistics_0001b
Revises: logistics_0001
Create Date: 2026-12-01
"""

from alembic import op

from services.shared.idempotency import create_idempotency_table

revision = "logistics_0001b"
down_revision = "logistics_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
