"""Remembered requests of idempotent mutating RPCs (services/shared/idempotency.py).

Revision ID: payments_0001b
Revises: payments_0001
Create Date: 2026-12-01
"""

from alembic import op

from services.shared.idempotency import create_idempotency_table

revision = "payments_0001b"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
