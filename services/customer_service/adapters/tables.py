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
    sa.Column("handed_off_at", UtcDateTime, nullable=True),  # bot conversations: when a human took over
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

# One ODR case per ticket; its status is the last odr_status_history row's, kept here for the sweeps.
odr_cases = sa.Table(
    "odr_cases",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("escalated_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),  # JSON object, "" until settled or decided
)

# Every version of a case file as sent, never rewritten.
odr_case_files = sa.Table(
    "odr_case_files",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("odr_cases.ticket_code"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

odr_status_history = sa.Table(
    "odr_status_history",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("odr_cases.ticket_code"), primary_key=True),
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("provider_reference", sa.Text, nullable=False),
)

# The delivery of one case file version to its provider: attempts and the next try (retry with backoff).
odr_deliveries = sa.Table(
    "odr_deliveries",
    metadata,
    sa.Column("ticket_code", sa.String(18), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False, index=True),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.Column("provider_reference", sa.Text, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["ticket_code", "version"], ["odr_case_files.ticket_code", "odr_case_files.version"]),
)

# A bot conversation's questions and answers, in order (service_layer/bot.py).
bot_turns = sa.Table(
    "bot_turns",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("asked_at", UtcDateTime, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("intent", sa.String(40), nullable=False),  # "" when nothing matched well enough
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("context", sa.Text, nullable=False),  # JSON object: the live context used, {} when none
    sa.Column("handed_off", sa.Boolean, nullable=False),
)

# At most one hand-off per conversation: the packet the agent starts from (canonical JSON).
bot_handoffs = sa.Table(
    "bot_handoffs",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("handed_off_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("packet", sa.Text, nullable=False),
)

# One survey per ticket, offered the first time it is solved; rated once (score 1-5 and a comment).
satisfaction_surveys = sa.Table(
    "satisfaction_surveys",
    metadata,
    sa.Column("ticket_code", sa.String(18), sa.ForeignKey("tickets.code"), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False, index=True),
    sa.Column("offered_at", UtcDateTime, nullable=False),
    sa.Column("score", sa.Integer, nullable=True),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("rated_at", UtcDateTime, nullable=True),
)

# Canned actions by (owner, name): owner is a merchant code, or "" for the platform's own.
macros = sa.Table(
    "macros",
    metadata,
    sa.Column("owner", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("reply_visibility", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # "" leaves the status alone
    sa.Column("priority", sa.Integer, nullable=False),  # 0 leaves the priority alone
    sa.Column("add_tags", sa.Text, nullable=False),  # JSON list, sorted
    sa.Column("remove_tags", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
