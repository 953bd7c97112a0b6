"""The bank-account vault's table (schema `payments`, docs/bank-accounts.md)."""

from __future__ import annotations

import sqlalchemy as sa

from services.payments.tables import metadata
from services.shared.clock import UtcDateTime

# Bank-account vault (docs/bank-accounts.md): PERSONAL_SENSITIVE values only as envelopes ("xbe1.",
# services/shared/crypto), the masked forms for display, and a blind index of the IBAN / account number.
bank_accounts = sa.Table(
    "bank_accounts",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("bic", sa.String(11), nullable=True),
    sa.Column("number_field", sa.String(20), nullable=False),  # "iban" or "account_number"
    sa.Column("number_enc", sa.Text, nullable=False),
    sa.Column("number_index", sa.String(64), nullable=False),
    sa.Column("number_masked", sa.String(40), nullable=False),
    sa.Column("holder_name_enc", sa.Text, nullable=False),
    sa.Column("holder_name_masked", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("merchant_code", "number_index", name="uq_bank_accounts_merchant_number"),
    sa.Index("ix_bank_accounts_merchant", "merchant_code", "created_at"),
)
