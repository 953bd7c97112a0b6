"""Bank-account vault (envelope-encrypted numbers and holder names, blind index); settlement statement
reconciliation (runs, imported statement lines, outcomes).

Revision ID: payments_0004
Revises: payments_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "payments_0004"
down_revision = "payments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("number_field", sa.String(20), nullable=False),
        sa.Column("number_enc", sa.Text, nullable=False),
        sa.Column("number_index", sa.String(64), nullable=False),
        sa.Column("number_masked", sa.String(40), nullable=False),
        sa.Column("holder_name_enc", sa.Text, nullable=False),
        sa.Column("holder_name_masked", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("merchant_code", "number_index", name="uq_bank_accounts_merchant_number"),
    )
    op.create_index("ix_bank_accounts_merchant", "bank_accounts", ["merchant_code", "created_at"])
    # Reconciliation looks ledger transactions up by external reference and by creation time.
    op.create_index("ix_ledger_transactions_external_ref", "ledger_transactions", ["external_ref"])
    op.create_index("ix_ledger_transactions_created_at", "ledger_transactions", ["created_at"])
    op.create_table(
        "reconciliation_runs",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("partner", "content_hash", name="uq_reconciliation_runs_partner_hash"),
    )
    op.create_table(
        "settlement_lines",
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
    )
    op.create_index("ix_settlement_lines_partner_reference", "settlement_lines", ["partner", "reference"])
    op.create_table(
        "reconciliation_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_code", sa.String(18), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("statement_currency", sa.String(3), nullable=True),
        sa.Column("statement_minor", sa.BigInteger, nullable=True),
        sa.Column("ledger_currency", sa.String(3), nullable=True),
        sa.Column("ledger_minor", sa.BigInteger, nullable=True),
        sa.Column("line_ids", sa.Text, nullable=False),
        sa.Column("transaction_codes", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("run_code", "seq", name="uq_reconciliation_items_run_seq"),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_items")
    op.drop_index("ix_settlement_lines_partner_reference", "settlement_lines")
    op.drop_table("settlement_lines")
    op.drop_table("reconciliation_runs")
    op.drop_index("ix_ledger_transactions_created_at", "ledger_transactions")
    op.drop_index("ix_ledger_transactions_external_ref", "ledger_transactions")
    op.drop_index("ix_bank_accounts_merchant", "bank_accounts")
    op.drop_table("bank_accounts")
