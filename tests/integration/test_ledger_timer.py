"""The payments process's expiry timer voids a pending transfer once its timeout passes (real clock)."""

from __future__ import annotations

import time
from datetime import timedelta

from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PostTransaction, Transfer
from services.payments.ledger.entrypoints.expiry_timer import ExpirySweeper
from services.shared.money import Money
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import balance, fund, key, wallets


def test_the_timer_releases_an_expired_reservation(settings: Settings) -> None:
    context = bootstrap.bootstrap(settings, RecordingBus())
    ops = bootstrap.ledger_operations(context)
    sweeper = ExpirySweeper(ops.expire, 0.05, alive=lambda: True)
    try:
        w = wallets(context)
        fund(context, w, "10.00")
        lh.post_transaction(
            context.uow,
            PostTransaction(
                key("t"),
                (Transfer(w.available.code, w.in_flight.code, Money.of("4.00", "USD"), "", timedelta(seconds=0.3)),),
                "payout",
            ),
        )
        assert balance(context, w.available.code).available == Money.of("6.00", "USD")
        sweeper.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and balance(context, w.available.code).reserved.amount:
            time.sleep(0.05)
        assert balance(context, w.available.code).available == Money.of("10.00", "USD")
        assert lh.verify_ledger(context.uow).ok
    finally:
        sweeper.stop()
        context.close()
