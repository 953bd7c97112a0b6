"""The scheduled FX refresh: a thread in the embedded platform, a nameko @timer in `python -m services.worker
payments`; both record the snapshot and emit rates_updated through the payments outbox. The worker's timer
runs the ledger's expiry sweep too."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.embedded import Platform
from services.payments import bootstrap as payments
from services.payments.entrypoints.events import PaymentsEvents
from services.payments.fx.service_layer import desk as fx
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PostTransaction, Transfer
from services.registry import SERVICES
from services.shared.money import Money
from services.shared.settings import ROOT, Settings
from services.shared.topology import Subscription
from services.worker.runner import check_topology, declared_subscriptions
from tests.fakes import RecordingBus
from tests.integration.test_nameko_worker import worker_env
from tests.ledger_support import balance, fund, key, wallets


def rates_updated(engine: sa.Engine) -> list[dict]:
    with engine.connect() as connection:
        bodies = connection.execute(
            sa.text("SELECT payload FROM outbox WHERE event_type = 'rates_updated' ORDER BY id")
        ).scalars()
        return [json.loads(body) for body in bodies]


def wait_for(engine: sa.Engine, count: int, seconds: float) -> list[dict]:
    deadline = time.monotonic() + seconds
    found = rates_updated(engine)
    while len(found) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        found = rates_updated(engine)
    return found


def test_the_embedded_platform_refreshes_rates_on_a_timer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_FX_REFRESH_INTERVAL_S", "0.3")
    monkeypatch.setenv("XB_FX_REFRESH_PAIRS", "USD/CNY")
    platform = Platform(replace(settings, service_ports=dict.fromkeys(SERVICES, 0), gateway_grpc_port=0))
    platform.boot()
    context = platform.contexts["payments"]
    fx.set_ops_rate(payments.fx_desk(context), "USD", "CNY", Decimal("7.2"), 60, "test")
    platform.serve()
    try:
        events = wait_for(context.engine, 2, 20)
    finally:
        platform.stop()
    assert len(events) >= 2
    assert events[0]["rates"][0]["rate"] == "7.2" and events[0]["rates"][0]["source"] == "ops"
    assert all(timer.runs >= 2 for timer in platform.timers if timer.name == "payments.fx_refresh_rates")


def test_the_payments_worker_declares_its_timer_and_only_its_three_consumers() -> None:
    check_topology(PaymentsEvents)
    # compliance-alerts: payments holds a merchant's payouts on compliance's risk_alert_raised; an ODR outcome
    # with a refund (customer service's odr_refund_requested) and a return's refund (logistics'
    # return_refund_requested) refund the collection.
    assert declared_subscriptions(PaymentsEvents) == {
        Subscription("compliance", "risk_alert_raised", "payments", "on_risk_alert_raised"),
        Subscription("customer_service", "odr_refund_requested", "payments", "on_odr_refund_requested"),
        Subscription("logistics", "return_refund_requested", "payments", "on_return_refund_requested"),
    }


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_the_nameko_timer_refreshes_rates_in_the_worker(
    amqp_url: str, postgres_settings: Settings, tmp_path: Path
) -> None:
    context = payments.bootstrap(postgres_settings, RecordingBus())  # migrated before the worker starts
    fx.set_ops_rate(payments.fx_desk(context), "USD", "CNY", Decimal("7.3"), 60, "test")
    # A reservation whose timeout passes while the worker starts: the worker's expiry sweep releases it.
    w = wallets(context)
    fund(context, w, "10.00")
    reservation = Transfer(w.available.code, w.in_flight.code, Money.of("4.00", "USD"), "", timedelta(seconds=1))
    lh.post_transaction(context.uow, PostTransaction(key("t"), (reservation,), "payout"))
    env = worker_env(postgres_settings, amqp_url)
    env.update({"XB_FX_REFRESH_INTERVAL_S": "1", "XB_FX_REFRESH_PAIRS": "USD/CNY,USD/XOF", "XB_LEDGER_SWEEP_S": "1"})
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.worker", "payments"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        events = wait_for(context.engine, 1, 45)
        deadline = time.monotonic() + 45
        while balance(context, w.available.code).reserved.amount and time.monotonic() < deadline:
            time.sleep(0.2)
        released = balance(context, w.available.code).available
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        context.close()
    assert events, log.read_text()[-3000:]
    assert [(r["base"], r["quote"], r["rate"]) for r in events[0]["rates"]] == [("USD", "CNY", "7.3")]
    assert events[0]["failures"][0].startswith("USD/XOF: ")
    assert released == Money.of("10.00", "USD"), log.read_text()[-3000:]
