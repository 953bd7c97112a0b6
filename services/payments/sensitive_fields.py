"""Where payments stores PERSONAL_SENSITIVE fields: all envelope-encrypted (services/shared/crypto/fields.py)."""

from __future__ import annotations

from services.payments.bank_accounts.adapters.tables import bank_accounts
from services.payments.payouts.adapters.tables import payouts
from services.shared.crypto.fields import EncryptedColumn, NotStored, StorageDeclaration

SERVICE = "payments"
_PB = "xborder.payments.v1"

BANK_ACCOUNT_NUMBER = EncryptedColumn(
    SERVICE,
    bank_accounts,
    "number_enc",
    (f"{_PB}.RegisterBankAccountRequest.iban", f"{_PB}.RegisterBankAccountRequest.account_number"),
    entity="bank_account",
    field="{number_field}",
    tenant_column="merchant_code",
    record_column="code",
    index_column="number_index",
)
BANK_ACCOUNT_HOLDER = EncryptedColumn(
    SERVICE,
    bank_accounts,
    "holder_name_enc",
    (f"{_PB}.RegisterBankAccountRequest.holder_name",),
    entity="bank_account",
    field="holder_name",
    tenant_column="merchant_code",
    record_column="code",
)
PAYEE_NAME = EncryptedColumn(
    SERVICE,
    payouts,
    "payee_name_enc",
    (f"{_PB}.Payout.payee_name",),
    entity="payout",
    field="payee_name",
    tenant_column="merchant",
    record_column="code",
)

SENSITIVE_STORAGE: tuple[StorageDeclaration, ...] = (
    BANK_ACCOUNT_NUMBER,
    BANK_ACCOUNT_HOLDER,
    PAYEE_NAME,
    NotStored(f"{_PB}.FindBankAccountsRequest.iban", "a look-up value: only its blind index is computed"),
    NotStored(f"{_PB}.FindBankAccountsRequest.account_number", "a look-up value: only its blind index is computed"),
)
