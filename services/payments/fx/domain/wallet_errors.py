"""A merchant's wallet that cannot pay, said in the caller's terms: whose wallet, which currency, the shortfall.

The ledger's own InsufficientFunds names an account code; a conversion may have opened that account in the
same, rolled-back transaction, so the caller could never look it up.
"""

from __future__ import annotations

from services.payments.ledger.errors import LedgerPreconditionFailed
from services.shared.money import Money

WALLET = "AVAILABLE"


class WalletShortfall(LedgerPreconditionFailed):
    reason = "INSUFFICIENT_FUNDS"

    def __init__(self, merchant_code: str, needed: Money, available: Money, *, field: str, action: str) -> None:
        self.missing = needed - available
        super().__init__(
            f"{action} needs {needed}; merchant {merchant_code}'s {needed.currency} {WALLET} wallet holds "
            f"{available}: {self.missing} missing",
            field=field,
            metadata={
                "merchant_code": merchant_code,
                "currency": needed.currency,
                "wallet": WALLET,
                "needed": str(needed),
                "available": str(available),
                "missing": str(self.missing),
            },
        )
        self.merchant_code = merchant_code
        self.needed = needed
        self.available = available
