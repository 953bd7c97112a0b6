"""PayeeDirectory adapters: where a payout learns the bank account's holder and currency.

The encrypted bank-account vault comes from branch payments-crypto; until it is wired (at merge, in
bootstrap.payee_directory), `UnwiredPayeeDirectory` refuses payouts with UNAVAILABLE rather than paying
an account nobody can verify.
"""

from __future__ import annotations

from services.payments.domain.payouts import Payee
from services.shared.errors import Unavailable


class UnwiredPayeeDirectory:
    def payee(self, merchant_code: str, bank_account_code: str) -> Payee | None:
        raise Unavailable("payouts need the bank-account vault, which is not wired in this build")
