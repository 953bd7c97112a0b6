"""PayeeDirectory over the encrypted bank-account vault (services/payments/bank_accounts/adapters.py).

A payout needs the account holder's name and country (to screen the payee) and the account's currency
(a payout never converts). Each look-up decrypts one record in its own read-only unit of work; the vault
logs the reveal with its purpose. The account must belong to the merchant asking for the payout.
"""

from __future__ import annotations

from collections.abc import Callable

from services.payments.bank_accounts.adapters.vault import BankAccountVault
from services.payments.payouts.domain import Payee
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared.errors import NotFound


class VaultPayeeDirectory:
    def __init__(self, uow_factory: Callable[[], PaymentsUnitOfWork], vault: BankAccountVault) -> None:
        self.uow_factory = uow_factory
        self.vault = vault

    def payee(self, merchant_code: str, bank_account_code: str) -> Payee | None:
        with self.uow_factory() as uow:
            masked = self.vault.get(uow.bank_accounts, bank_account_code)
            if masked is None or masked.merchant_code != merchant_code:
                return None  # another merchant's account is as good as unknown to this one (and not decrypted)
            try:
                account = self.vault.reveal(uow.bank_accounts, bank_account_code, purpose="payout_screening")
            except NotFound:
                return None
        details = account.details
        return Payee(bank_account_code, details.holder_name, details.country, details.currency)
