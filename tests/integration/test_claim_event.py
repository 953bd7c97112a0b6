"""Consumers process each event once, even when the broker delivers two copies at the same moment."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

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
    pid: list[int] = []
    outcome: list[bool] = []
    began, finished = threading.Event(), threading.Event()
    with context.uow() as first:
        assert first.claim_event("payments.on_thing", "e-3")

        def second_copy() -> None:
            try:
                with context.uow() as second:
                    pid.append(second.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                    began.set()
                    outcome.append(second.claim_event("payments.on_thing", "e-3"))
                    second.commit()
            finally:
                finished.set()

        thread = threading.Thread(target=second_copy)
        thread.start()
        assert began.wait(timeout=30)
        # Whether the second copy waits is read from PostgreSQL's lock table, not inferred from elapsed time.
        assert _blocked_by_another_transaction(context, pid[0], finished), "the second copy did not wait"
        assert outcome == []
        first.commit()
    thread.join()
    assert outcome == [False]


def _blocked_by_another_transaction(context, backend_pid: int, finished: threading.Event) -> bool:
    """Poll until the backend waits on a lock (True) or its thread ends without having waited (False)."""
    query = sa.text("SELECT cardinality(pg_blocking_pids(:pid)) > 0")
    with context.engine.connect() as observer:
        while not finished.is_set():
            if observer.execute(query, {"pid": backend_pid}).scalar_one():
                return True
            observer.rollback()
            finished.wait(0.01)  # paces the polling only
    return False
