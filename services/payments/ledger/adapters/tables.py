"""Ledger tables (schema `payments`), defined on the service's one metadata.

Amounts are BIGINT minor units (ISO 4217: JPY 0, USD 2, KWD 3 decimals), never floats. Transfers are
insert-only; corrections are new transactions. Account totals are the only balances updated in place,
always by the conditional UPDATE that also enforces the account's balance limit.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

ledger_accounts = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(18), nullable=False, unique=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("balance_limit", sa.String(40), nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("debits_posted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("credits_pending", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("credits_posted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("owner", "kind", "currency", name="uq_ledger_accounts_owner_kind_currency"),
)

ledger_transactions = sa.Table(
    "ledger_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(18), nullable=False, unique=True),
    sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("external_ref", sa.String(255), nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),  # JSON object of strings
    sa.Column("created_at", UtcDateTime, nullable=False),
)

ledger_transfers = sa.Table(
    "ledger_transfers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("transaction_id", sa.Integer, sa.ForeignKey("ledger_transactions.id"), nullable=False),
    sa.Column("debit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
    sa.Column("credit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("pending_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("amount_minor >= 0", name="ck_ledger_transfers_amount"),
    sa.Index("ix_ledger_transfers_transaction", "transaction_id"),
    sa.Index("ix_ledger_transfers_debit", "debit_account_id"),
    sa.Index("ix_ledger_transfers_credit", "credit_account_id"),
)

# The one mutable fact about a pending transfer: whether it is still pending (TigerBeetle keeps this
# beside the immutable transfer too). A conditional UPDATE on status lets exactly one post/void/expiry win.
ledger_pending = sa.Table(
    "ledger_pending",
    metadata,
    sa.Column("transfer_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),  # None: held without timeout
    sa.Column("resolved_by", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Index("ix_ledger_pending_due", "status", "expires_at"),
)
