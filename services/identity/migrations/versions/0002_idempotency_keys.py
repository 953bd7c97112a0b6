"""Remembered requests of idempotent mutating RPCs (services/shared/idempotency.py).

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-06
"""

from alembic import op

from services.shared.idempotency import create_idempotency_table

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
