"""The ledger as FX sees it: the linked postings of a conversion.

Postings of one conversion (one ledger transaction, all or nothing; no posting crosses currencies):
  1. sell leg:  merchant AVAILABLE (sell ccy)  -> PLATFORM FX_LIQUIDITY (sell ccy)   the sell amount
  2. buy leg:   PLATFORM FX_LIQUIDITY (buy ccy) -> merchant AVAILABLE (buy ccy)    the buy amount
  3. spread:    PLATFORM FX_LIQUIDITY (buy ccy) -> PLATFORM FEES (buy ccy)         the spread, when > 0
So the liquidity account of the buy currency pays out what the reference rate would have paid (buy +
spread), and the spread is income of its own, visible per conversion. The merchant's wallet limit
(debits must not exceed credits) refuses a conversion it cannot pay for: INSUFFICIENT_FUNDS, nothing posted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from services.payments.fx.domain.wallet_errors import WalletShortfall
from services.payments.fx.service_layer.desk import LedgerLeg, PostedConversion
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PLATFORM, AccountKind, PostTransaction, Transfer
from services.payments.ledger.errors import InsufficientFunds
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared.money import Money


class LedgerConversions:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        # Codes of the platform's FX_LIQUIDITY and FEES accounts. An account's code never changes once its
        # row is committed, so only accounts opened before this transaction (created_at < now) are kept:
        # one opened here could still roll back.
        self._platform: dict[tuple[AccountKind, str], str] = {}

    def post_conversion(
        self,
        uow: PaymentsUnitOfWork,
        *,
        reference: str,
        merchant_code: str,
        sell: Money,
        buy: Money,
        spread: Money,
        metadata: Mapping[str, str],
    ) -> PostedConversion:
        now = self.clock()

        def account(owner: str, kind: AccountKind, currency: str) -> str:
            if owner == PLATFORM and (kind, currency) in self._platform:
                return self._platform[(kind, currency)]
            opened = lh.ensure_account(uow, lh.OpenAccount(owner, kind, currency), now=now)
            if owner == PLATFORM and opened.created_at is not None and opened.created_at < now:
                self._platform[(kind, currency)] = opened.code
            return opened.code

        merchant_sell = account(merchant_code, AccountKind.MERCHANT_AVAILABLE, sell.currency)
        liquidity_sell = account(PLATFORM, AccountKind.FX_LIQUIDITY, sell.currency)
        liquidity_buy = account(PLATFORM, AccountKind.FX_LIQUIDITY, buy.currency)
        merchant_buy = account(merchant_code, AccountKind.MERCHANT_AVAILABLE, buy.currency)
        legs = [
            LedgerLeg(merchant_sell, liquidity_sell, sell, "fx_sell_leg"),
            LedgerLeg(liquidity_buy, merchant_buy, buy, "fx_buy_leg"),
        ]
        if spread.amount > 0:
            legs.append(
                LedgerLeg(liquidity_buy, account(PLATFORM, AccountKind.FEES, buy.currency), spread, "fx_spread")
            )
        try:
            result = lh.record_transaction(
                uow,
                PostTransaction(
                    idempotency_key=f"fx:{reference}",
                    transfers=tuple(
                        Transfer(leg.debit_account, leg.credit_account, leg.amount, leg.purpose) for leg in legs
                    ),
                    kind="fx_conversion",
                    external_ref=reference,
                    metadata=dict(metadata),
                ),
                now=now,
            )
        except InsufficientFunds as short:
            wallet = uow.ledger.get_account(merchant_sell)
            if short.account != merchant_sell or wallet is None or wallet.available.amount >= sell.amount:
                raise
            raise WalletShortfall(
                merchant_code,
                sell,
                wallet.available,
                field="code",
                action=f"converting quote {metadata.get('quote', '')}",
            ) from None
        return PostedConversion(result.code, tuple(legs))
