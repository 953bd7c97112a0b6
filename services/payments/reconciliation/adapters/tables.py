"""Reconciliation tables (schema `payments`, migration payments_0004), on the service's one metadata.

A run is unique per (partner, content hash): importing the same file again finds it. A statement line is
unique per (partner, line_id): a line repeated in a later, overlapping statement is not stored twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

reconciliation_runs = sa.Table(
    "reconciliation_runs",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("partner", "content_hash", name="uq_reconciliation_runs_partner_hash"),
)

settlement_lines = sa.Table(
    "settlement_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_code", sa.String(18), nullable=False),
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("line_id", sa.String(128), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("value_date", sa.Date, nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("type", sa.String(12), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.UniqueConstraint("partner", "line_id", name="uq_settlement_lines_partner_line"),
    sa.Index("ix_settlement_lines_partner_reference", "partner", "reference"),
)

reconciliation_items = sa.Table(
    "reconciliation_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_code", sa.String(18), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(24), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("statement_currency", sa.String(3), nullable=True),
    sa.Column("statement_minor", sa.BigInteger, nullable=True),
    sa.Column("ledger_currency", sa.String(3), nullable=True),
    sa.Column("ledger_minor", sa.BigInteger, nullable=True),
    sa.Column("line_ids", sa.Text, nullable=False),  # JSON list
    sa.Column("transaction_codes", sa.Text, nullable=False),  # JSON list
    sa.Column("detail", sa.Text, nullable=False),
    sa.UniqueConstraint("run_code", "seq", name="uq_reconciliation_items_run_seq"),
)
