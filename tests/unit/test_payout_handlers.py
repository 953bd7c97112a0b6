"""Payouts: screening holds, two-phase post/void, timeout with a fake clock, risk alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.protobuf import json_format
from xborder.compliance.v1.events_pb2 import RiskAlertRaised

from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.errors import CurrencyMismatch, InsufficientFunds, InvalidState
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayoutStatus
from services.shared.context import ServiceContext
from services.shared.errors import NotFound
from tests.ledger_support import (
    FakeClock,
    FakePayees,
    FakeScreeningGate,
    Wallets,
    balance,
    fund,
    in_uow,
    key,
    outbox_types,
    usd,
    wallets,
)


@pytest.fixture
def context(payments: ServiceContext) -> ServiceContext:
    return payments


@pytest.fixture
def funded(context: ServiceContext) -> Wallets:
    w = wallets(context)
    fund(context, w, "100.00")
    return w


def create(context: ServiceContext, w: Wallets, amount: str, gate: FakeScreeningGate, clock=None, timeout_min=60):  # type: ignore[no-untyped-def]
    payees = FakePayees()
    payees.add(w.merchant, "BA1", "Acme Trading Ltd", "HK", "USD")
    command = ph.CreatePayout(key("po"), w.merchant, "BA1", usd(amount), "HSBC", timedelta(minutes=timeout_min))
    screened = ph.screen_payee(payees, gate, command)
    return in_uow(context, lambda uow, now: ph.create_payout(uow, command, screened, now), clock)


def test_cleared_payout_reserves_then_posts_out_through_the_partner(context: ServiceContext, funded: Wallets) -> None:
    gate = FakeScreeningGate("CLEAR")
    payout = create(context, funded, "40.00", gate)
    assert payout.status is PayoutStatus.PENDING and payout.screening_decision == "CLEAR"
    assert gate.calls[0][1].name == "Acme Trading Ltd"  # type: ignore[attr-defined]
    (wallet,) = lh.get_balances(context.uow, funded.merchant)
    assert (wallet.available, wallet.reserved) == (usd("60.00"), usd("40.00"))
    posted = in_uow(context, lambda uow, now: ph.post_payout(uow, payout.code, now))
    assert posted.status is PayoutStatus.POSTED and posted.posted == usd("40.00")
    (wallet,) = lh.get_balances(context.uow, funded.merchant)
    assert (wallet.available, wallet.reserved) == (usd("60.00"), usd("0.00"))
    assert balance(context, funded.in_flight.code).posted == usd("0.00")  # passed through to HSBC's clearing
    assert outbox_types(context).count("payout_status_changed") == 2
    with pytest.raises(InvalidState):
        in_uow(context, lambda uow, now: ph.post_payout(uow, payout.code, now))
    assert lh.verify_ledger(context.uow).ok


@pytest.mark.parametrize("decision", ["REVIEW", "BLOCK", None])
def test_review_block_or_unreachable_compliance_holds_the_payout(
    context: ServiceContext, funded: Wallets, decision: str | None
) -> None:
    gate = FakeScreeningGate("CLEAR")
    gate.decision = None if decision is None else type(gate.decision)(decision)  # type: ignore[misc]
    clock = FakeClock()
    payout = create(context, funded, "30.00", gate, clock)
    assert payout.status is PayoutStatus.ON_HOLD
    assert ("unavailable" if decision is None else decision) in payout.hold_reason
    (wallet,) = lh.get_balances(context.uow, funded.merchant)
    assert wallet.reserved == usd("30.00")  # held funds stay reserved: they cannot leave another way
    with pytest.raises(InvalidState):
        in_uow(context, lambda uow, now: ph.post_payout(uow, payout.code, now))
    clock.advance(days=30)
    assert lh.expire_pending(context.uow, clock=clock, hooks=[ph.expire_payout]) == 0  # a hold never times out
    voided = in_uow(context, lambda uow, now: ph.void_payout(uow, payout.code, "compliance refused", now))
    assert voided.status is PayoutStatus.VOIDED
    assert lh.get_balances(context.uow, funded.merchant)[0].available == usd("100.00")


def test_release_after_review_makes_a_held_payout_pending(context: ServiceContext, funded: Wallets) -> None:
    payout = create(context, funded, "10.00", FakeScreeningGate("REVIEW"))
    payees = FakePayees()
    payees.add(funded.merchant, "BA1", "Acme Trading Ltd", "HK", "USD")
    command = ph.CreatePayout("r", funded.merchant, "BA1", payout.amount, payout.partner)
    still = ph.screen_payee(payees, FakeScreeningGate("REVIEW"), command)
    kept = in_uow(context, lambda uow, now: ph.release_payout(uow, payout.code, still, now))
    assert kept.status is PayoutStatus.ON_HOLD
    cleared = ph.screen_payee(payees, FakeScreeningGate("CLEAR"), command)
    released = in_uow(context, lambda uow, now: ph.release_payout(uow, payout.code, cleared, now))
    assert released.status is PayoutStatus.PENDING and released.hold_reason == ""


def test_unconfirmed_payout_expires_and_releases_its_funds(context: ServiceContext, funded: Wallets) -> None:
    clock = FakeClock()
    payout = create(context, funded, "25.00", FakeScreeningGate("CLEAR"), clock, timeout_min=10)
    clock.advance(minutes=11)
    assert lh.expire_pending(context.uow, clock=clock, hooks=[ph.expire_payout]) == 1
    with context.uow() as uow:
        assert ph.get_payout(uow, payout.code).status is PayoutStatus.EXPIRED
    assert lh.get_balances(context.uow, funded.merchant)[0].available == usd("100.00")
    assert sorted(outbox_types(context)[-2:]) == ["ledger_transaction_posted", "payout_status_changed"]


def test_payout_beyond_available_is_refused_naming_amount(context: ServiceContext, funded: Wallets) -> None:
    with pytest.raises(InsufficientFunds) as error:
        create(context, funded, "100.01", FakeScreeningGate("CLEAR"))
    assert error.value.violations[0].field == "amount"
    assert error.value.metadata["account"] == funded.available.code


def test_unknown_or_foreign_currency_bank_account_is_refused(context: ServiceContext, funded: Wallets) -> None:
    payees = FakePayees()
    payees.add(funded.merchant, "EURACC", "Acme", "DE", "EUR")
    with pytest.raises(NotFound) as missing:
        ph.screen_payee(payees, FakeScreeningGate(), ph.CreatePayout("x", funded.merchant, "NOPE", usd("1"), "HSBC"))
    assert missing.value.field == "bank_account_code"
    with pytest.raises(CurrencyMismatch):
        ph.screen_payee(payees, FakeScreeningGate(), ph.CreatePayout("x", funded.merchant, "EURACC", usd("1"), "HSBC"))


def test_risk_alert_holds_pending_payouts_once(context: ServiceContext, funded: Wallets) -> None:
    clock = FakeClock()
    payout = create(context, funded, "20.00", FakeScreeningGate("CLEAR"), clock, timeout_min=10)
    alert = RiskAlertRaised(event_id="evt-risk-1", merchant_code=funded.merchant, alert_code="RA1", reason="velocity")
    assert ph.on_risk_alert_raised(context.uow, alert, clock()) == [payout.code]
    assert ph.on_risk_alert_raised(context.uow, alert, clock()) == []  # the same event is processed once
    with context.uow() as uow:
        held = ph.get_payout(uow, payout.code)
    assert held.status is PayoutStatus.ON_HOLD and "RA1" in held.hold_reason
    clock.advance(hours=1)
    assert lh.expire_pending(context.uow, clock=clock, hooks=[ph.expire_payout]) == 0  # held: no timeout
    assert ph.on_risk_alert_raised(context.uow, RiskAlertRaised(event_id="e2"), clock()) == []  # no merchant: dropped


def test_the_risk_alert_consumer_reads_the_event_as_the_message_compliance_publishes(
    context: ServiceContext, funded: Wallets
) -> None:
    clock = FakeClock()
    payout = create(context, funded, "20.00", FakeScreeningGate("CLEAR"), clock, timeout_min=10)
    consume = bootstrap.event_handlers(context)["on_risk_alert_raised"]
    consume({"eventId": "evt-risk-x", "merchant_code": [funded.merchant]})  # malformed: logged and dropped
    alert = RiskAlertRaised(event_id="evt-risk-2", merchant_code=funded.merchant, alert_code="RA2", reason="list")
    alert.occurred_at.FromDatetime(clock())
    # The proto3 JSON form (lowerCamelCase names, RFC 3339 time) is the message too.
    consume({**json_format.MessageToDict(alert), "fieldFromANewerProducer": 1})
    with context.uow() as uow:
        held = ph.get_payout(uow, payout.code)
    assert held.status is PayoutStatus.ON_HOLD and held.hold_reason == "risk alert RA2: list"
