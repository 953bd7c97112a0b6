"""Consumers process each event once, even when the broker delivers two copies at the same moment."""

from __future__ import annotations

import threading

import pytest

from services.payments import bootstrap as payments
from services.shared.settings import Settings
from tests.fakes import RecordingBus


@pytest.fixture
def context(any_settings: Settings):
    context = payments.bootstrap(any_settings, RecordingBus())
    yield context
    context.close()


def test_an_event_is_claimed_once_per_consumer(context) -> None:
    with context.uow() as uow:
        assert uow.claim_event("payments.on_thing", "e-1")
        uow.commit()
    with context.uow() as uow:
        assert not uow.claim_event("payments.on_thing", "e-1")
        assert uow.claim_event("payments.on_other", "e-1")  # another consumer has its own mark
        uow.commit()


def test_a_rolled_back_claim_leaves_the_event_to_process(context) -> None:
    with context.uow() as uow:
        assert uow.claim_event("payments.on_thing", "e-2")
        uow.rollback()
    with context.uow() as uow:
        assert uow.claim_event("payments.on_thing", "e-2")


@pytest.mark.postgres
def test_a_copy_handled_concurrently_waits_and_skips_instead_of_failing(postgres_settings: Settings) -> None:
    # PostgreSQL only: SQLite has one writer, so a second transaction cannot hold a claim open concurrently.
    context = payments.bootstrap(postgres_settings, RecordingBus())
    try:
        _second_copy_waits_then_skips(context)
    finally:
        context.close()


def _second_copy_waits_then_skips(context) -> None:
    outcome: list[bool] = []
    with context.uow() as first:
        assert first.claim_event("payments.on_thing", "e-3")

        def second_copy() -> None:
            with context.uow() as second:
                outcome.append(second.claim_event("payments.on_thing", "e-3"))
                second.commit()

        thread = threading.Thread(target=second_copy)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second copy should wait for the first copy's transaction"
        first.commit()
    thread.join(timeout=10)
    assert outcome == [False]
