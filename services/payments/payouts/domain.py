"""Payouts to a merchant's bank account: a two-phase transfer that waits on compliance screening.

  create: MERCHANT_AVAILABLE -> PAYOUTS_IN_FLIGHT  pending (reserved), with a timeout
  post:   the reservation is posted, then PAYOUTS_IN_FLIGHT -> CLEARING(payout partner)  (money left)
  void / timeout: the reservation is released back to AVAILABLE

Before the reservation, the payee (the bank account holder) is screened through the `ScreeningGate`
port. A REVIEW or BLOCK decision, or a screening service that cannot be reached, puts the payout ON_HOLD:
its funds ARE reserved (a pending transfer without timeout), so the merchant cannot move the money out
another way while compliance reviews, and nothing is sent to the bank. A held payout is released
(re-screened, CLEAR -> PENDING with a fresh timeout) or voided (funds back to AVAILABLE). A risk alert
for the merchant holds its PENDING payouts the same way. Never is a payout let through unscreened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from services.shared.money import Money

DEFAULT_TIMEOUT = timedelta(hours=24)
MAX_TIMEOUT = timedelta(days=7)


class PayoutStatus(StrEnum):
    PENDING = "PENDING"  # reserved; waiting for the bank/partner's confirmation or the timeout
    ON_HOLD = "ON_HOLD"  # reserved; waiting for compliance (no timeout)
    POSTED = "POSTED"  # the bank confirmed: the money left
    VOIDED = "VOIDED"  # cancelled: the reservation went back to AVAILABLE
    EXPIRED = "EXPIRED"  # not confirmed in time: released like a void


class ScreeningDecision(StrEnum):
    CLEAR = "CLEAR"
    REVIEW = "REVIEW"
    BLOCK = "BLOCK"


@dataclass(frozen=True)
class Party:
    """The party screened before money is paid to it (compliance ScreenParty's request)."""

    merchant_code: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    party_type: str = "COMPANY"  # PERSON or COMPANY


@dataclass(frozen=True)
class ScreeningOutcome:
    decision: ScreeningDecision
    reference: str = ""  # the compliance screening's code
    detail: str = ""


class ScreeningUnavailable(Exception):
    """Compliance could not be asked (unreachable, timed out, answered garbage): hold, never pass."""


class ScreeningGate(Protocol):
    def screen(self, request_id: str, party: Party) -> ScreeningOutcome: ...


@dataclass(frozen=True)
class Payee:
    """What the payout needs from the bank-account vault: the holder to screen and the account's currency."""

    bank_account_code: str
    holder_name: str
    country: str
    currency: str


class PayeeDirectory(Protocol):
    """Port onto the encrypted bank-account vault (services/payments/bank_accounts/adapters.py)."""

    def payee(self, merchant_code: str, bank_account_code: str) -> Payee | None: ...


@dataclass(frozen=True)
class Payout:
    code: str
    merchant: str
    amount: Money
    bank_account_code: str
    partner: str
    payee_name: str
    payee_country: str
    status: PayoutStatus
    hold_reason: str
    screening_decision: str
    pending_transfer_id: int | None
    posted: Money | None
    timeout: timedelta
    created_at: datetime
    updated_at: datetime


def hold_reason(outcome: ScreeningOutcome | None, unavailable: str | None) -> str:
    """Why a payout must wait; "" when screening cleared it."""
    if unavailable is not None:
        return f"compliance screening unavailable: {unavailable}"
    assert outcome is not None
    if outcome.decision is ScreeningDecision.CLEAR:
        return ""
    detail = f" ({outcome.detail})" if outcome.detail else ""
    return f"screening decision {outcome.decision.value}{detail}; screening {outcome.reference or '-'}"


def screen_safely(gate: ScreeningGate, request_id: str, party: Party) -> tuple[ScreeningOutcome | None, str | None]:
    """Ask the gate; any failure is an `unavailable` reason, so the caller holds the payout."""
    try:
        outcome = gate.screen(request_id, party)
    except ScreeningUnavailable as error:
        return None, str(error) or "no answer"
    except Exception as error:  # a gate bug must hold payouts too, not release them
        return None, f"{type(error).__name__}: {error}"
    if not isinstance(outcome, ScreeningOutcome) or not isinstance(outcome.decision, ScreeningDecision):
        return None, "unrecognised screening answer"
    return outcome, None
