"""The bot: hand-off time on tickets, conversation turns and hand-off packets.

Revision ID: customer_service_0003
Revises: customer_service_0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "customer_service_0003"
down_revision = "customer_service_0002"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tickets", sa.Column("handed_off_at", UTC_TIME, nullable=True))
    op.create_table(
        "bot_turns",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("asked_at", UTC_TIME, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("intent", sa.String(40), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("handed_off", sa.Boolean, nullable=False),
    )
    op.create_table(
        "bot_handoffs",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("handed_off_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("packet", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_handoffs")
    op.drop_table("bot_turns")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("handed_off_at")
