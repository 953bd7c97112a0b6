"""Partners and the client certificates they call the front door with.

Revision ID: identity_0005
Revises: identity_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0005"
down_revision = "identity_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("partner_code", sa.String(18), primary_key=True),
        sa.Column("legal_name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("contacts", sa.Text, nullable=False),
        sa.Column("owns", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("screening_code", sa.String(18), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "partner_certificates",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("partner_code", sa.String(18), sa.ForeignKey("partners.partner_code"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_partner_certificates_partner_code", "partner_certificates", ["partner_code"])


def downgrade() -> None:
    op.drop_table("partner_certificates")
    op.drop_table("partners")
