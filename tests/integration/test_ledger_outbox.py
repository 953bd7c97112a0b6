"""A crash between posting and publishing loses no ledger event: the outbox row outlives the process."""

from __future__ import annotations

import json

import sqlalchemy as sa

from services.payments import bootstrap
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PostTransaction, Transfer
from services.shared.money import Money
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import key, wallets


def test_posted_transaction_event_survives_a_failed_relay_and_a_restart(any_settings: Settings) -> None:
    broken = RecordingBus()
    broken.fail = True
    context = bootstrap.bootstrap(any_settings, broken)
    try:
        w = wallets(context)
        result = lh.post_transaction(
            context.uow,
            PostTransaction(key("crash"), (Transfer(w.clearing.code, w.pending.code, Money.of("9.99", "USD")),), "x"),
        )
        assert context.relay.publish_pending() == 0  # the broker is down: nothing confirmed
        with context.engine.connect() as connection:
            row = connection.execute(
                sa.select(context.outbox).where(context.outbox.c.event_type == "ledger_transaction_posted")
            ).one()
        assert row.published_at is None and row.attempts == 1 and "bus unavailable" in row.last_error
    finally:
        context.close()  # the process dies before any successful publish

    healthy = RecordingBus()
    restarted = bootstrap.bootstrap(any_settings, healthy)
    try:
        assert restarted.relay.drain(timeout=10)
    finally:
        restarted.close()
    posted = [e for e in healthy.published if e.event_type == "ledger_transaction_posted"]
    assert [e.payload["transaction_code"] for e in posted] == [result.code]
    assert json.loads(json.dumps(posted[0].payload))["transfers"][0]["amount"]["units"] == "9"
