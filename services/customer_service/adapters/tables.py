"""Customer-service tables (schema `customer_service`): tickets, their history, messages, links, breaches."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.clock import UtcDateTime
from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False, index=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # the last history entry's, kept for listing
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON list, sorted
    sa.Column("group_name", sa.Text, nullable=False),
    sa.Column("agent", sa.Text, nullable=False),
    sa.Column("merged_into", sa.String(18), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Append-only: a late change is a new row with an earlier effective_at, never an update.
ticket_history = sa.Table(
    "ticket_history",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("effective_at", UtcDateTime, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

ticket_messages = sa.Table(
    "ticket_messages",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("author_kind", sa.String(10), nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("visibility", sa.String(10), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Content lives in the blob directory under its SHA-256 (adapters/blobs.py); rows keep hash and size.
ticket_attachments = sa.Table(
    "ticket_attachments",
    metadata,
    sa.Column("ticket_code", sa.String(18), primary_key=True),
    sa.Column("message_sequence", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
)

ticket_links = sa.Table(
    "ticket_links",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("linked_code", sa.String(18), primary_key=True),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Index("ix_ticket_links_linked_code", "linked_code"),
)

# One row per ticket and target: sla_breached is emitted once.
sla_breaches = sa.Table(
    "sla_breaches",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("target", sa.String(20), primary_key=True),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("detected_at", UtcDateTime, nullable=False),
)
