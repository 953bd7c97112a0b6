"""Double-entry ledger (accounts, transactions, transfers, pending status), fee schedules, merchant tiers,
collections and payouts.

Revision ID: payments_0002
Revises: payments_0001b
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "payments_0002"
down_revision = "payments_0001b"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# Seeded fee schedules (percentage of gross + fixed in minor units), editable in the table. Figures are
# the platform's own defaults, modelled on published card-acquiring list prices (2.9% + 0.30 USD style);
# they are not a legal requirement and ops may change them.
FEE_SCHEDULES = [
    ("STANDARD", "*", "2.9", 0),
    ("STANDARD", "USD", "2.9", 30),
    ("STANDARD", "EUR", "2.9", 25),
    ("STANDARD", "GBP", "2.9", 20),
    ("STANDARD", "CNY", "2.9", 200),
    ("STANDARD", "HKD", "2.9", 235),
    ("STANDARD", "JPY", "2.9", 40),
    ("STANDARD", "KWD", "2.9", 90),
    ("PLUS", "*", "2.2", 0),
    ("PLUS", "USD", "2.2", 20),
    ("PLUS", "EUR", "2.2", 18),
    ("PLUS", "CNY", "2.2", 150),
    ("PLUS", "JPY", "2.2", 30),
    ("ENTERPRISE", "*", "1.5", 0),
]


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
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
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("owner", "kind", "currency", name="uq_ledger_accounts_owner_kind_currency"),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("external_ref", sa.String(255), nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("transaction_id", sa.Integer, sa.ForeignKey("ledger_transactions.id"), nullable=False),
        sa.Column("debit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("credit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("pending_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.CheckConstraint("amount_minor >= 0", name="ck_ledger_transfers_amount"),
    )
    op.create_index("ix_ledger_transfers_transaction", "ledger_transfers", ["transaction_id"])
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id"])
    op.create_table(
        "ledger_pending",
        sa.Column("transfer_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("resolved_by", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
        sa.Column("resolved_at", TZ, nullable=True),
    )
    op.create_index("ix_ledger_pending_due", "ledger_pending", ["status", "expires_at"])
    fees = op.create_table(
        "fee_schedules",
        sa.Column("tier", sa.String(32), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("percent", sa.String(12), nullable=False),
        sa.Column("fixed_minor", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(fees, [{"tier": t, "currency": c, "percent": p, "fixed_minor": f} for t, c, p, f in FEE_SCHEDULES])
    op.create_table(
        "merchant_tiers",
        sa.Column("merchant", sa.String(18), primary_key=True),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("merchant", sa.String(18), nullable=False),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("partner_ref", sa.String(128), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gross_minor", sa.BigInteger, nullable=False),
        sa.Column("partner_fee_minor", sa.BigInteger, nullable=False),
        sa.Column("platform_fee_minor", sa.BigInteger, nullable=True),
        sa.Column("pending_minor", sa.BigInteger, nullable=False),
        sa.Column("refunded_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("collected_txn", sa.String(18), nullable=False),
        sa.Column("settled_txn", sa.String(18), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("settled_at", TZ, nullable=True),
        sa.UniqueConstraint("partner", "partner_ref", name="uq_collections_partner_ref"),
        sa.CheckConstraint("refunded_minor <= gross_minor", name="ck_collections_refunds"),
    )
    op.create_index("ix_collections_merchant", "collections", ["merchant", "id"])
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("merchant", sa.String(18), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("bank_account_id", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("payee_country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("hold_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("screening_decision", sa.String(12), nullable=False, server_default=""),
        sa.Column("pending_transfer_id", sa.Integer, sa.ForeignKey("ledger_transfers.id"), nullable=True),
        sa.Column("posted_minor", sa.BigInteger, nullable=True),
        sa.Column("timeout_s", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_payouts_merchant", "payouts", ["merchant", "id"])
    op.create_index("ix_payouts_status", "payouts", ["status"])


def downgrade() -> None:
    for table in (
        "payouts",
        "collections",
        "merchant_tiers",
        "fee_schedules",
        "ledger_pending",
        "ledger_transfers",
        "ledger_transactions",
        "ledger_accounts",
    ):
        op.drop_table(table)
