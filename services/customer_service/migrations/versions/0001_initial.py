"""Kernel tables, idempotency keys, tickets with history, messages, attachments, links, SLA breaches.

Revision ID: customer_service_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.shared.idempotency import create_idempotency_table
from services.shared.migration_ops import create_kernel_tables

revision = "customer_service_0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_kernel_tables(op)
    create_idempotency_table(op)
    op.create_table(
        "tickets",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("group_name", sa.Text, nullable=False),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("merged_into", sa.String(18), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_tickets_merchant_code", "tickets", ["merchant_code"])
    op.create_table(
        "ticket_history",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("effective_at", UTC_TIME, nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "ticket_messages",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("author_kind", sa.String(10), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "ticket_attachments",
        sa.Column("ticket_code", sa.String(18), primary_key=True),
        sa.Column("message_sequence", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ticket_links",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("linked_code", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
    )
    op.create_index("ix_ticket_links_linked_code", "ticket_links", ["linked_code"])
    op.create_table(
        "sla_breaches",
        sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
        sa.Column("target", sa.String(20), primary_key=True),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("detected_at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    for table in ("sla_breaches", "ticket_links", "ticket_attachments", "ticket_messages", "ticket_history"):
        op.drop_table(table)
    op.drop_index("ix_tickets_merchant_code", "tickets")
    op.drop_table("tickets")
    op.drop_table("idempotency_keys")
    for table in ("processed_events", "outbox", "dataset_versions"):
        op.drop_table(table)
