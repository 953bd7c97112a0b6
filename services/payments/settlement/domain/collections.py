"""Collections from payment partners, their settlement, and refunds: the postings each one makes.

A collection of `gross` through a partner that keeps `partner_fee`:
  record:  CLEARING(partner) -> MERCHANT_PENDING   gross        (the partner owes us the gross...)
           MERCHANT_PENDING  -> CLEARING(partner)  partner_fee  (...less the fee it keeps)
  settle:  MERCHANT_PENDING  -> MERCHANT_AVAILABLE what is still pending, less the platform fee
           MERCHANT_PENDING  -> FEES               the platform fee (fee schedule of the merchant's tier)
  refund:  MERCHANT_PENDING  -> CLEARING(partner)  from what is still pending of this collection
           MERCHANT_AVAILABLE-> CLEARING(partner)  the rest (refused with INSUFFICIENT_FUNDS if not there)
The merchant bears the partner's fee; fees are not returned on refunds (as card acquirers do).
Refunds in total never exceed the gross (checked under the collection's row lock and a CHECK constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.payments.ledger.domain import Transfer
from services.shared.errors import Violations
from services.shared.money import Money


class CollectionMethod(StrEnum):
    CARD = "CARD"
    WALLET = "WALLET"
    BANK = "BANK"


class CollectionStatus(StrEnum):
    PENDING = "PENDING"  # recorded, waiting for the partner's settlement
    SETTLED = "SETTLED"  # the partner confirmed: the net is available


@dataclass(frozen=True)
class Collection:
    code: str
    merchant: str
    partner: str
    partner_ref: str
    method: CollectionMethod
    gross: Money
    partner_fee: Money
    platform_fee: Money | None  # set at settlement
    pending: Money  # what of this collection is still in the merchant's PENDING wallet
    refunded: Money
    status: CollectionStatus
    collected_txn: str
    settled_txn: str | None
    created_at: datetime
    settled_at: datetime | None

    @property
    def refundable(self) -> Money:
        return self.gross - self.refunded


@dataclass(frozen=True)
class Wallet:
    """The account codes a collection's postings use."""

    clearing: str
    pending: str
    available: str
    fees: str


def validate_collection(gross: Money, partner_fee: Money, violations: Violations) -> None:
    if gross.amount <= 0:
        violations.add("gross", f"must be positive, got {gross.amount}")
    if partner_fee.currency != gross.currency:
        violations.add("partner_fee.currency_code", f"must be the gross's currency {gross.currency}")
    elif partner_fee.amount < 0:
        violations.add("partner_fee", "must not be negative")
    elif partner_fee.amount >= gross.amount > 0:
        violations.add("partner_fee", f"must be less than the gross {gross}")


def collection_transfers(wallet: Wallet, gross: Money, partner_fee: Money) -> tuple[Transfer, ...]:
    transfers = [Transfer(wallet.clearing, wallet.pending, gross, "collection")]
    if partner_fee.amount > 0:
        transfers.append(Transfer(wallet.pending, wallet.clearing, partner_fee, "partner_fee"))
    return tuple(transfers)


def settlement_fee(pending: Money, scheduled_fee: Money) -> Money:
    """The scheduled fee, but never more than is left pending (after refunds before settlement)."""
    return scheduled_fee if scheduled_fee.minor <= pending.minor else pending


def settlement_transfers(wallet: Wallet, pending: Money, fee: Money) -> tuple[Transfer, ...]:
    net = pending - fee
    transfers = []
    if net.amount > 0:
        transfers.append(Transfer(wallet.pending, wallet.available, net, "settlement"))
    if fee.amount > 0:
        transfers.append(Transfer(wallet.pending, wallet.fees, fee, "platform_fee"))
    return tuple(transfers)


def refund_sources(collection: Collection, amount: Money) -> tuple[Money, Money]:
    """(from PENDING, from AVAILABLE): what is still pending of this collection goes back first."""
    zero = Money.from_minor(0, amount.currency)
    from_pending = min(amount.minor, collection.pending.minor) if collection.status is CollectionStatus.PENDING else 0
    pending_part = Money.from_minor(from_pending, amount.currency) if from_pending else zero
    return pending_part, amount - pending_part


def refund_transfers(wallet: Wallet, from_pending: Money, from_available: Money) -> tuple[Transfer, ...]:
    transfers = []
    if from_pending.amount > 0:
        transfers.append(Transfer(wallet.pending, wallet.clearing, from_pending, "refund"))
    if from_available.amount > 0:
        transfers.append(Transfer(wallet.available, wallet.clearing, from_available, "refund"))
    return tuple(transfers)
