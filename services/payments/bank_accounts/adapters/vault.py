"""The bank-account vault: rows hold envelopes, masked forms and a blind index, never a clear number.

Each PERSONAL_SENSITIVE value (the IBAN or account number, the holder name) is encrypted on its own with
associated data bound to (tenant = merchant code, entity "bank_account", record = account code, field
path, class), so a value copied to another row, field or merchant does not decrypt (docs/crypto.md).
Look-ups by number go through the blind index, per merchant and field; listing reads only masked forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.bank_accounts.adapters.tables import bank_accounts
from services.payments.bank_accounts.domain import BankAccount, BankAccountDetails, mask_holder_name
from services.shared.crypto import Binding, EnvelopeCipher
from services.shared.crypto.blind_index import VersionedBlindIndex
from services.shared.errors import NotFound
from services.shared.logs import get_logger

ENTITY = "bank_account"
SENSITIVE = "PERSONAL_SENSITIVE"
HOLDER_FIELD = "holder_name"

log = get_logger(__name__)


@dataclass(frozen=True)
class MaskedBankAccount:
    """What callers may see of a stored account."""

    code: str
    merchant_code: str
    country: str
    currency: str
    bic: str | None
    number_field: str
    number_masked: str
    holder_name_masked: str
    created_at: datetime


class BankAccountRows:
    """The vault's rows in one unit of work (`uow.bank_accounts`): envelopes in, envelopes out."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert(self, **values: object) -> None:
        self.connection.execute(bank_accounts.insert().values(**values))

    def by_code(self, code: str) -> sa.Row | None:
        return self.connection.execute(sa.select(bank_accounts).where(bank_accounts.c.code == code)).first()

    def of_merchant(self, merchant_code: str) -> list[sa.Row]:
        return list(
            self.connection.execute(
                sa.select(bank_accounts)
                .where(bank_accounts.c.merchant_code == merchant_code)
                .order_by(bank_accounts.c.created_at, bank_accounts.c.code)
            )
        )

    def by_number_index(self, merchant_code: str, number_indexes: list[str]) -> list[sa.Row]:
        """Rows holding any of the given indexes (the value's index under each key version)."""
        return list(
            self.connection.execute(
                sa.select(bank_accounts)
                .where(bank_accounts.c.merchant_code == merchant_code, bank_accounts.c.number_index.in_(number_indexes))
                .order_by(bank_accounts.c.created_at, bank_accounts.c.code)
            )
        )


class BankAccountVault:
    def __init__(self, cipher: EnvelopeCipher, indexes: Callable[[], VersionedBlindIndex]) -> None:
        self.cipher = cipher
        self._indexes = indexes  # re-read per use: the ring may gain an index-key version while running

    @staticmethod
    def binding(merchant_code: str, code: str, field: str) -> Binding:
        return Binding(merchant_code, ENTITY, code, field, SENSITIVE)

    def number_index(self, merchant_code: str, field: str, normalised: str) -> str:
        """The stored index, under the newest index-key version."""
        return self._indexes().compute(normalised, tenant=merchant_code, entity=ENTITY, field=field)

    def number_indexes(self, merchant_code: str, field: str, normalised: str) -> list[str]:
        """The value's index under every version the ring holds: a key rotation re-indexes rows in batches,
        so a row may hold either until it ends (docs/crypto.md#blind-index-key-rotation)."""
        return self._indexes().candidates(normalised, tenant=merchant_code, entity=ENTITY, field=field)

    def add(
        self, rows: BankAccountRows, code: str, merchant_code: str, details: BankAccountDetails, created_at: datetime
    ) -> MaskedBankAccount:
        field = details.number_field
        masked = MaskedBankAccount(
            code,
            merchant_code,
            details.country,
            details.currency,
            details.bic,
            field,
            details.masked_number(),
            mask_holder_name(details.holder_name),
            created_at,
        )
        rows.insert(
            code=code,
            merchant_code=merchant_code,
            country=details.country,
            currency=details.currency,
            bic=details.bic,
            number_field=field,
            number_enc=self.cipher.encrypt_text(details.number, self.binding(merchant_code, code, field)),
            number_index=self.number_index(merchant_code, field, details.number),
            number_masked=masked.number_masked,
            holder_name_enc=self.cipher.encrypt_text(
                details.holder_name, self.binding(merchant_code, code, HOLDER_FIELD)
            ),
            holder_name_masked=masked.holder_name_masked,
            created_at=created_at,
        )
        return masked

    @staticmethod
    def _masked(row: sa.Row) -> MaskedBankAccount:
        return MaskedBankAccount(
            row.code,
            row.merchant_code,
            row.country,
            row.currency,
            row.bic,
            row.number_field,
            row.number_masked,
            row.holder_name_masked,
            row.created_at,
        )

    def get(self, rows: BankAccountRows, code: str) -> MaskedBankAccount | None:
        row = rows.by_code(code)
        return None if row is None else self._masked(row)

    def for_merchant(self, rows: BankAccountRows, merchant_code: str) -> list[MaskedBankAccount]:
        return [self._masked(row) for row in rows.of_merchant(merchant_code)]

    def find(self, rows: BankAccountRows, merchant_code: str, field: str, normalised: str) -> list[MaskedBankAccount]:
        """Accounts of this merchant whose number equals `normalised`, by blind index (nothing decrypted)."""
        indexes = self.number_indexes(merchant_code, field, normalised)
        return [self._masked(row) for row in rows.by_number_index(merchant_code, indexes)]

    def reveal(self, rows: BankAccountRows, code: str, *, purpose: str) -> BankAccount:
        """Decrypt one account. Logged (code and purpose, never a value): every reveal leaves a trace."""
        row = rows.by_code(code)
        if row is None:
            raise NotFound(f"no bank account {code}", field="bank_account_code")
        number = self.cipher.decrypt_text(row.number_enc, self.binding(row.merchant_code, code, row.number_field))
        holder = self.cipher.decrypt_text(row.holder_name_enc, self.binding(row.merchant_code, code, HOLDER_FIELD))
        log.info("bank_account_revealed", bank_account_code=code, merchant_code=row.merchant_code, purpose=purpose)
        is_iban = row.number_field == "iban"
        details = BankAccountDetails(
            holder,
            row.country,
            row.currency,
            number if is_iban else None,
            None if is_iban else number,
            row.bic,
        )
        return BankAccount(code, row.merchant_code, details)

    def reveal_for_payout(self, uow: _WithBankAccounts, account_code: str) -> BankAccount:
        """The clear account a payout sends money to, read in the payout's own unit of work."""
        return self.reveal(uow.bank_accounts, account_code, purpose="payout")


class _WithBankAccounts(Protocol):
    bank_accounts: BankAccountRows
