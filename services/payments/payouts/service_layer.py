"""Payouts: screen the payee, reserve AVAILABLE -> PAYOUTS_IN_FLIGHT, then post, void, hold or expire.

Screening is a network call, so it happens before the unit of work opens (a database transaction never
waits on another service). See services/payments/payouts/domain.py for the hold policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from xborder.compliance.v1.events_pb2 import RiskAlertRaised
from xborder.payments.v1 import events_pb2

from services.payments.ledger.domain import PLATFORM, AccountKind, PostTransaction, Transfer
from services.payments.ledger.errors import CurrencyMismatch, InsufficientFunds, InvalidState
from services.payments.ledger.service_layer import (
    OpenAccount,
    ResolvePending,
    ensure_account,
    record_resolution,
    record_transaction,
)
from services.payments.payouts import domain as payouts
from services.payments.payouts.domain import (
    Party,
    Payee,
    PayeeDirectory,
    Payout,
    PayoutStatus,
    ScreeningGate,
    ScreeningOutcome,
)
from services.payments.settlement.service_layer import check_merchant, check_partner
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.errors import NotFound, Violations, found_or_raise
from services.shared.logs import get_logger
from services.shared.money import Money, to_proto

log = get_logger(__name__)
HOLD_ON_RISK_ALERT = "payments.hold_payouts_on_risk_alert"
_BANK_ACCOUNT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CreatePayout:
    request_id: str
    merchant: str
    bank_account_code: str
    amount: Money
    partner: str  # the payout rail (bank or payout partner) whose CLEARING account the money leaves through
    timeout: timedelta = payouts.DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Screened:
    """What screening said before the unit of work opened."""

    payee: Payee
    outcome: ScreeningOutcome | None
    unavailable: str | None

    @property
    def hold_reason(self) -> str:
        return payouts.hold_reason(self.outcome, self.unavailable)


def validate_create(command: CreatePayout) -> None:
    violations = Violations()
    check_merchant(command.merchant, "merchant_code", violations)
    check_partner(command.partner, "partner", violations)
    if not _BANK_ACCOUNT.match(command.bank_account_code):
        violations.add("bank_account_code", "is required: the vault code of one of the merchant's bank accounts")
    if command.amount.amount <= 0:
        violations.add("amount", f"must be positive, got {command.amount.amount}")
    if not timedelta(seconds=60) <= command.timeout <= payouts.MAX_TIMEOUT:
        violations.add("timeout_seconds", f"must be between 60 and {int(payouts.MAX_TIMEOUT.total_seconds())}")
    violations.raise_if_any()


def screen_payee(
    payees: PayeeDirectory, gate: ScreeningGate, command: CreatePayout, *, request_id: str | None = None
) -> Screened:
    """Find the bank account's holder in the vault and screen it (hold, never pass, on any failure)."""
    payee = payees.payee(command.merchant, command.bank_account_code)
    if payee is None:
        raise NotFound(
            f"merchant {command.merchant} has no bank account {command.bank_account_code!r}", field="bank_account_code"
        )
    if payee.currency != command.amount.currency:
        raise CurrencyMismatch.single(
            "amount.currency_code", f"bank account {payee.bank_account_code} is held in {payee.currency}"
        )
    party = Party(command.merchant, payee.holder_name, payee.country)
    outcome, unavailable = payouts.screen_safely(gate, request_id or f"payout:{command.request_id}", party)
    return Screened(payee, outcome, unavailable)


def _event(payout: Payout) -> events_pb2.PayoutStatusChanged:
    return events_pb2.PayoutStatusChanged(
        payout_code=payout.code,
        merchant_code=payout.merchant,
        status=payout.status.value,
        reason=payout.hold_reason,
        amount=to_proto(payout.amount),
    )


def create_payout(uow: PaymentsUnitOfWork, command: CreatePayout, screened: Screened, now: datetime) -> Payout:
    """Reserve the amount; PENDING with the timeout if screening cleared the payee, else ON_HOLD without one."""
    currency = command.amount.currency
    available = ensure_account(uow, OpenAccount(command.merchant, AccountKind.MERCHANT_AVAILABLE, currency), now=now)
    in_flight = ensure_account(uow, OpenAccount(PLATFORM, AccountKind.PAYOUTS_IN_FLIGHT, currency), now=now)
    reason = screened.hold_reason
    code = codes.generate("PY", at=now)
    transfer = (
        Transfer(available.code, in_flight.code, command.amount, "payout", pending_timeout=command.timeout)
        if not reason
        else Transfer(available.code, in_flight.code, command.amount, "payout", pending=True)
    )
    try:
        reserved = record_transaction(
            uow, PostTransaction(f"payout:{code}", (transfer,), "payout", external_ref=code), now=now
        )
    except InsufficientFunds as error:
        raise InsufficientFunds(error.account, error.metadata["limit"], field="amount") from None
    payout = Payout(
        code=code,
        merchant=command.merchant,
        amount=command.amount,
        bank_account_code=command.bank_account_code,
        partner=command.partner,
        payee_name=screened.payee.holder_name,
        payee_country=screened.payee.country,
        status=PayoutStatus.ON_HOLD if reason else PayoutStatus.PENDING,
        hold_reason=reason,
        screening_decision=screened.outcome.decision.value if screened.outcome else "UNAVAILABLE",
        pending_transfer_id=reserved.transfers[0].id,
        posted=None,
        timeout=command.timeout,
        created_at=now,
        updated_at=now,
    )
    uow.payouts.insert(payout)
    uow.emit(_event(payout))
    return payout


def _locked(uow: PaymentsUnitOfWork, code: str) -> Payout:
    uow.lock_for_write()
    return found_or_raise(uow.payouts.get(code, lock=True), f"no payout {code!r}", field="payout_code")


def get_payout(uow: PaymentsUnitOfWork, code: str) -> Payout:
    return found_or_raise(uow.payouts.get(code), f"no payout {code!r}", field="payout_code")


def payout_owner(uow: PaymentsUnitOfWork, code: str) -> str | None:
    """The merchant whose payout `code` is; None when there is none (the payee name stays sealed)."""
    return uow.payouts.merchant_of(code)


def _refuse(payout: Payout, action: str, allowed: tuple[PayoutStatus, ...]) -> None:
    if payout.status not in allowed:
        raise InvalidState(
            f"payout {payout.code} is {payout.status.value}; only {'/'.join(s.value for s in allowed)} can be {action}",
            field="payout_code",
            metadata={"status": payout.status.value},
        )


def post_payout(uow: PaymentsUnitOfWork, code: str, now: datetime) -> Payout:
    """The bank/partner confirmed: post the reservation and move it out through the partner's CLEARING."""
    payout = _locked(uow, code)
    _refuse(payout, "posted", (PayoutStatus.PENDING,))
    assert payout.pending_transfer_id is not None
    posted = record_resolution(
        uow,
        ResolvePending(f"payout-post:{code}", payout.pending_transfer_id, external_ref=code),
        void=False,
        now=now,
    )
    in_flight = posted.transfers[0].credit_account
    clearing = ensure_account(uow, OpenAccount(payout.partner, AccountKind.CLEARING, payout.amount.currency), now=now)
    record_transaction(
        uow,
        PostTransaction(
            f"payout-sent:{code}",
            (Transfer(in_flight, clearing.code, posted.transfers[0].amount, "payout_sent"),),
            "payout_sent",
            external_ref=code,
        ),
        now=now,
    )
    uow.payouts.transition(
        code, (PayoutStatus.PENDING,), PayoutStatus.POSTED, now, posted_minor=posted.transfers[0].amount.minor
    )
    done = replace(payout, status=PayoutStatus.POSTED, posted=posted.transfers[0].amount, updated_at=now)
    uow.emit(_event(done))
    return done


def void_payout(uow: PaymentsUnitOfWork, code: str, reason: str, now: datetime) -> Payout:
    """Cancel a PENDING or ON_HOLD payout: its reservation goes back to AVAILABLE."""
    payout = _locked(uow, code)
    _refuse(payout, "voided", (PayoutStatus.PENDING, PayoutStatus.ON_HOLD))
    assert payout.pending_transfer_id is not None
    record_resolution(
        uow,
        ResolvePending(f"payout-void:{code}", payout.pending_transfer_id, external_ref=code),
        void=True,
        now=now,
    )
    uow.payouts.transition(
        code, (PayoutStatus.PENDING, PayoutStatus.ON_HOLD), PayoutStatus.VOIDED, now, hold_reason=reason
    )
    done = replace(payout, status=PayoutStatus.VOIDED, hold_reason=reason, updated_at=now)
    uow.emit(_event(done))
    return done


def release_payout(uow: PaymentsUnitOfWork, code: str, screened: Screened, now: datetime) -> Payout:
    """A held payout re-screened: CLEAR makes it PENDING with a fresh timeout; anything else keeps it held."""
    payout = _locked(uow, code)
    _refuse(payout, "released", (PayoutStatus.ON_HOLD,))
    assert payout.pending_transfer_id is not None
    reason = screened.hold_reason
    decision = screened.outcome.decision.value if screened.outcome else "UNAVAILABLE"
    repo = uow.payouts
    if reason:
        repo.transition(
            code, (PayoutStatus.ON_HOLD,), PayoutStatus.ON_HOLD, now, hold_reason=reason, screening_decision=decision
        )
        return replace(payout, hold_reason=reason, screening_decision=decision, updated_at=now)
    uow.ledger.set_pending_expiry(payout.pending_transfer_id, now + payout.timeout)
    repo.transition(
        code, (PayoutStatus.ON_HOLD,), PayoutStatus.PENDING, now, hold_reason="", screening_decision=decision
    )
    done = replace(payout, status=PayoutStatus.PENDING, hold_reason="", screening_decision=decision, updated_at=now)
    uow.emit(_event(done))
    return done


def expire_payout(uow: PaymentsUnitOfWork, pending_id: int, now: datetime) -> None:
    """Ledger expiry hook: a payout whose reservation timed out is EXPIRED (same transaction as the release)."""
    payout = uow.payouts.by_pending_transfer(pending_id)
    if payout is None:
        return
    if uow.payouts.transition(payout.code, (PayoutStatus.PENDING,), PayoutStatus.EXPIRED, now):
        uow.emit(_event(replace(payout, status=PayoutStatus.EXPIRED, updated_at=now)))


def hold_payouts(uow: PaymentsUnitOfWork, merchant: str, reason: str, now: datetime) -> list[str]:
    """Put every PENDING payout of the merchant ON_HOLD; their reservations stop timing out."""
    uow.lock_for_write()
    repo = uow.payouts
    held = []
    for payout in repo.list_for_merchant(merchant, (PayoutStatus.PENDING,), limit=10_000):
        if repo.transition(payout.code, (PayoutStatus.PENDING,), PayoutStatus.ON_HOLD, now, hold_reason=reason):
            assert payout.pending_transfer_id is not None
            uow.ledger.set_pending_expiry(payout.pending_transfer_id, None)
            uow.emit(_event(replace(payout, status=PayoutStatus.ON_HOLD, hold_reason=reason, updated_at=now)))
            held.append(payout.code)
    return held


def on_risk_alert_raised(uow_factory: Any, alert: RiskAlertRaised, now: datetime) -> list[str]:
    """Consumer of compliance's `risk_alert_raised` (docs/risk-alerts.md): hold the merchant's PENDING payouts.

    The hold reason names the alert and compliance's one-line reason (subject, old -> new verdict and the
    library or list version). Idempotent by event id. An alert without a readable merchant is logged and
    dropped: retrying cannot repair it, and raising would hold back the producer's later events.
    """
    violations = Violations()
    check_merchant(alert.merchant_code, "merchant_code", violations)
    if not alert.event_id or violations:
        log.error(
            "risk_alert_unreadable", consumer=HOLD_ON_RISK_ALERT, event_id=alert.event_id, merchant=alert.merchant_code
        )
        return []
    reason = f"risk alert {alert.alert_code or alert.event_id}: {alert.reason or 'raised by compliance'}"
    with uow_factory() as uow:
        if not uow.claim_event(HOLD_ON_RISK_ALERT, alert.event_id):
            return []
        held = hold_payouts(uow, alert.merchant_code, reason, now)
        uow.commit()
    return held
