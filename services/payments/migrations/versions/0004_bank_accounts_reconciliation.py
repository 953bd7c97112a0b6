"""Bank-account vault (envelope-encrypted numbers and holder names, blind index).

Revision ID: payments_0004
Revises: payments_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "payments_0004"
down_revision = "payments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("number_field", sa.String(20), nullable=False),
        sa.Column("number_enc", sa.Text, nullable=False),
        sa.Column("number_index", sa.String(64), nullable=False),
        sa.Column("number_masked", sa.String(40), nullable=False),
        sa.Column("holder_name_enc", sa.Text, nullable=False),
        sa.Column("holder_name_masked", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("merchant_code", "number_index", name="uq_bank_accounts_merchant_number"),
    )
    op.create_index("ix_bank_accounts_merchant", "bank_accounts", ["merchant_code", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_bank_accounts_merchant", "bank_accounts")
    op.drop_table("bank_accounts")
