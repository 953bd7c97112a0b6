"""Cross-border transfer rules: rule table versions, the kill-switch log and legal bases on file.

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_rule_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "transfer_kill_switches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("engaged", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "legal_bases",
        sa.Column("basis_id", sa.String(32), primary_key=True),
        sa.Column("merchant_code", sa.String(18), sa.ForeignKey("merchants.merchant_code"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("destination", sa.String(40), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_legal_bases_merchant_code", "legal_bases", ["merchant_code"])


def downgrade() -> None:
    op.drop_table("legal_bases")
    op.drop_table("transfer_kill_switches")
    op.drop_table("transfer_rule_versions")
