"""The payments periodic tasks include the expiry sweep: it voids a pending transfer once its timeout passes
and expires its payout (fake clock, one sweep per call, as the embedded thread and the nameko timer run it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.embedded import Platform
from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PostTransaction, Transfer
from services.payments.ledger.settings import LedgerSettings
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayoutStatus
from services.registry import SERVICES
from services.shared.money import Money
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import FakeClock, FakePayees, FakeScreeningGate, balance, fund, in_uow, key, wallets


def test_the_expiry_sweep_is_a_periodic_task_that_releases_expired_reservations(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XB_LEDGER_SWEEP_S", "7")
    context = bootstrap.bootstrap(settings, RecordingBus())
    clock = FakeClock()
    try:
        tasks = {name: (interval, task) for name, interval, task in bootstrap.periodic_tasks(context, clock=clock)}
        interval, sweep = tasks["ledger_expire_pending"]
        assert interval == 7.0
        w = wallets(context)
        fund(context, w, "10.00")
        lh.post_transaction(
            context.uow,
            PostTransaction(
                key("t"),
                (Transfer(w.available.code, w.in_flight.code, Money.of("4.00", "USD"), "", timedelta(minutes=5)),),
                "payout",
            ),
            clock=clock,
        )
        payees = FakePayees()
        payees.add(w.merchant, "BA1", "Acme Trading Ltd", "HK", "USD")
        command = ph.CreatePayout(
            key("p"), w.merchant, "BA1", Money.of("5.00", "USD"), "TESTPSP", timedelta(minutes=10)
        )
        screened = ph.screen_payee(payees, FakeScreeningGate("CLEAR"), command)
        payout = in_uow(context, lambda uow, now: ph.create_payout(uow, command, screened, now), clock)
        assert balance(context, w.available.code).available == Money.of("1.00", "USD")

        clock.advance(minutes=6)
        assert sweep() == 1  # the transfer's 5 minutes passed, not the payout's 10
        assert balance(context, w.available.code).available == Money.of("5.00", "USD")
        clock.advance(minutes=5)
        assert sweep() == 1
        assert sweep() == 0  # nothing voids twice
        with context.uow() as uow:
            assert ph.get_payout(uow, payout.code).status is PayoutStatus.EXPIRED
        assert balance(context, w.available.code).available == Money.of("10.00", "USD")
        assert lh.verify_ledger(context.uow).ok
    finally:
        context.close()


def test_the_embedded_platform_schedules_the_expiry_sweep(settings: Settings) -> None:
    platform = Platform(replace(settings, service_ports=dict.fromkeys(SERVICES, 0), gateway_grpc_port=0))
    platform.boot()
    platform.serve()
    try:
        scheduled = {timer.name: timer.interval_s for timer in platform.timers}
    finally:
        platform.stop()
    assert scheduled["payments.ledger_expire_pending"] == LedgerSettings.from_env().sweep_s
