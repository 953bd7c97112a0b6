"""The payouts table (schema `payments`); the money moves as ledger pending transfers."""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(18), nullable=False, unique=True),
    sa.Column("merchant", sa.String(18), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("bank_account_id", sa.String(64), nullable=False),  # a reference into the bank-account vault
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("payee_name_enc", sa.Text, nullable=False),  # envelope (docs/crypto.md), PERSONAL_SENSITIVE
    sa.Column("payee_country", sa.String(2), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("hold_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("screening_decision", sa.String(12), nullable=False, server_default=""),
    sa.Column("pending_transfer_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
    sa.Column("posted_minor", sa.BigInteger, nullable=True),
    sa.Column("timeout_s", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_payouts_merchant", "merchant", "id"),
    sa.Index("ix_payouts_status", "status"),
)
