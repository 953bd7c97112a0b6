"""Tracking carriers: the further carriers (first mile, line haul, last mile) whose events move a channel's
shipments besides its carrier_id.

Revision ID: logistics_0011
Revises: logistics_0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "logistics_0011"
down_revision = "logistics_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty (carrier_id only) until the catalogue is loaded again (its content changed, so the next start reloads it).
    op.add_column("channels", sa.Column("tracking_carriers", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("channels", "tracking_carriers")
