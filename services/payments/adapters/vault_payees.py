"""PayeeDirectory over the bank-account vault: the payout's view of an account (holder, country, currency).

Decrypts the holder name (to screen it) in a read-only unit of work of its own; the reveal is logged with
purpose "payout_screening" and never with a value. Another merchant's account is "not found", not revealed.
"""

from __future__ import annotations

from collections.abc import Callable

from services.payments.adapters.bank_accounts import BankAccountVault
from services.payments.domain.payouts import Payee
from services.shared.uow import UnitOfWork


class VaultPayeeDirectory:
    def __init__(self, vault: BankAccountVault, uow_factory: Callable[[], UnitOfWork]) -> None:
        self.vault = vault
        self.uow_factory = uow_factory

    def payee(self, merchant_code: str, bank_account_code: str) -> Payee | None:
        with self.uow_factory() as uow:
            stored = self.vault.get(uow.connection, bank_account_code)
            if stored is None or stored.merchant_code != merchant_code:
                return None
            account = self.vault.reveal(uow.connection, bank_account_code, purpose="payout_screening")
        details = account.details
        return Payee(account.code, details.holder_name, details.country, details.currency)
