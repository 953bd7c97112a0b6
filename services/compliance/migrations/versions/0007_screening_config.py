"""screening_config holds the current decision thresholds and name-variant table, imported as datasets.

Revision ID: compliance_0007
Revises: compliance_0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0007"
down_revision = "compliance_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_config",
        sa.Column("dataset", sa.String(40), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("screening_config")
