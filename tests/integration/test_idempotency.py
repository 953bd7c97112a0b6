"""Idempotent requests on a migrated service schema: replays return the first response, a changed payload
is refused, a concurrent duplicate loses on the primary key (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from xborder.payments.v1 import payments_service_pb2 as pb

from services.payments import bootstrap as payments
from services.payments.tables import IDEMPOTENCY_KEYS
from services.shared.errors import ValidationError
from services.shared.idempotency import IdempotencyKeyReused, IdempotencyStore, fingerprint
from services.shared.settings import Settings
from tests.fakes import RecordingBus


@pytest.fixture
def context(any_settings: Settings):
    context = payments.bootstrap(any_settings, RecordingBus())
    yield context
    context.close()


def test_fingerprint_ignores_the_request_id_and_sees_every_other_field() -> None:
    first = pb.GetCurrencyRequest(code="JPY")
    assert fingerprint(first) == fingerprint(pb.GetCurrencyRequest(code="JPY"))
    assert fingerprint(first) != fingerprint(pb.GetCurrencyRequest(code="KWD"))
    rate = pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-03-15")
    assert fingerprint(rate, ignore=("date",)) == fingerprint(
        pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-03-16"), ignore=("date",)
    )


def test_replay_returns_the_first_response_and_a_changed_payload_is_refused(context) -> None:
    store = IdempotencyStore(IDEMPOTENCY_KEYS)
    with context.uow() as uow:
        assert store.replay(uow.connection, "transfer", "k-1", "fp-a") is None
        store.remember(uow.connection, "transfer", "k-1", "fp-a", b"\x08\x01first")
        uow.commit()
    with context.uow() as uow:
        assert store.replay(uow.connection, "transfer", "k-1", "fp-a") == b"\x08\x01first"
        with pytest.raises(IdempotencyKeyReused) as refused:
            store.replay(uow.connection, "transfer", "k-1", "fp-b")
        assert refused.value.violations[0].field == "request_id"
        # The same key in another scope is another request.
        assert store.replay(uow.connection, "payout", "k-1", "fp-b") is None


def test_a_rolled_back_request_leaves_its_key_free(context) -> None:
    store = IdempotencyStore(IDEMPOTENCY_KEYS)
    with context.uow() as uow:
        store.remember(uow.connection, "transfer", "k-2", "fp", b"x")
        uow.rollback()
    with context.uow() as uow:
        assert store.replay(uow.connection, "transfer", "k-2", "fp") is None


def test_a_concurrent_duplicate_fails_on_the_key(context) -> None:
    store = IdempotencyStore(IDEMPOTENCY_KEYS)
    with context.uow() as uow:
        store.remember(uow.connection, "transfer", "k-3", "fp", b"first")
        uow.commit()
    with context.uow() as uow, pytest.raises(sa.exc.IntegrityError):
        store.remember(uow.connection, "transfer", "k-3", "fp", b"second")
        uow.commit()
    with context.uow() as uow:
        assert store.replay(uow.connection, "transfer", "k-3", "fp") == b"first"


@pytest.mark.parametrize(("key", "problem"), [("", "required"), ("  ", "required"), ("k" * 256, "at most 255")])
def test_keys_must_be_present_and_short(key: str, problem: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        IdempotencyStore.check_key(key)
    assert invalid.value.violations[0].field == "request_id"
    assert problem in invalid.value.violations[0].description
    IdempotencyStore.check_key("k" * 255)
