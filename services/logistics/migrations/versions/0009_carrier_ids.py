"""Carrier ids: the carrier operating each channel, and the carrier a return label was issued with.

Revision ID: logistics_0009
Revises: logistics_0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0009"
down_revision = "logistics_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty until the catalogue is loaded again (its content changed, so the next start reloads it).
    op.add_column("channels", sa.Column("carrier_id", sa.String(40), nullable=False, server_default=""))
    op.add_column("returns", sa.Column("carrier", sa.String(40), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("returns", "carrier")
    op.drop_column("channels", "carrier_id")
