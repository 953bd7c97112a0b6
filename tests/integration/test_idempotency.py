"""Idempotent requests on a migrated service schema (SQLite and PostgreSQL): replays return the first
response, a changed payload is refused, a concurrent duplicate loses on the primary key, and N threads
sending one request through a servicer store one answer and all read the same bytes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from xborder.compliance.v1 import risk_alert_service_pb2 as alert_pb
from xborder.compliance.v1 import screening_service_pb2 as screening_pb
from xborder.payments.v1 import payments_service_pb2 as pb

from services.compliance import bootstrap as compliance
from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
from services.compliance.domain.alerts import AlertStatus, RiskAlert, SubjectKind
from services.compliance.entrypoints.risk_alerts_api import RiskAlertServicer
from services.compliance.service_layer.risk_alerts import ACKNOWLEDGE_SCOPE
from services.compliance.service_layer.screening import SCOPE as SCREEN_SCOPE
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.crypto.fields import SealedResponses
from services.shared.errors import ConflictingWrite, ValidationError
from services.shared.idempotency import IdempotencyKeyReused, check_key, fingerprint
from services.shared.settings import Settings
from tests.fakes import RecordingBus

DUPLICATES = 8


@pytest.fixture
def context(any_settings: Settings) -> Iterator[ServiceContext]:
    context = compliance.bootstrap(any_settings, RecordingBus())
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


def test_replay_returns_the_first_response_and_a_changed_payload_is_refused(context: ServiceContext) -> None:
    with context.uow() as uow:
        assert uow.idempotency.replay("transfer", "k-1", "fp-a") is None
        uow.idempotency.remember("transfer", "k-1", "fp-a", b"\x08\x01first")
        uow.commit()
    with context.uow() as uow:
        assert uow.idempotency.replay("transfer", "k-1", "fp-a") == b"\x08\x01first"
        with pytest.raises(IdempotencyKeyReused) as refused:
            uow.idempotency.replay("transfer", "k-1", "fp-b")
        assert refused.value.violations[0].field == "request_id"
        # The same key in another scope is another request.
        assert uow.idempotency.replay("payout", "k-1", "fp-b") is None


def test_a_rolled_back_request_leaves_its_key_free(context: ServiceContext) -> None:
    with context.uow() as uow:
        uow.idempotency.remember("transfer", "k-2", "fp", b"x")
        uow.rollback()
    with context.uow() as uow:
        assert uow.idempotency.replay("transfer", "k-2", "fp") is None


def test_a_concurrent_duplicate_fails_on_the_key_as_a_conflicting_write(context: ServiceContext) -> None:
    with context.uow() as uow:
        uow.idempotency.remember("transfer", "k-3", "fp", b"first")
        uow.commit()
    with pytest.raises(ConflictingWrite), context.uow() as uow:
        uow.idempotency.remember("transfer", "k-3", "fp", b"second")
        uow.commit()
    with context.uow() as uow:
        assert uow.idempotency.replay("transfer", "k-3", "fp") == b"first"


@pytest.mark.parametrize(("key", "problem"), [("", "required"), ("  ", "required"), ("k" * 256, "at most 255")])
def test_keys_must_be_present_and_short(key: str, problem: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        check_key(key)
    assert invalid.value.violations[0].field == "request_id"
    assert problem in invalid.value.violations[0].description
    check_key("k" * 255)


def _open_alert(context: ServiceContext) -> str:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    code = codes.generate("YJ", "E", at=at)
    alert = RiskAlert(
        code=code,
        merchant_code=codes.generate("MC", "E", at=at),
        subject_kind=SubjectKind.PRODUCT_CHECK,
        subject_code=codes.generate("HG", "E", at=at),
        party_name="",
        destination="DE",
        old_verdict="ALLOWED",
        new_verdict="PROHIBITED",
        cause="rules:2",
        reason="DE: ALLOWED -> PROHIBITED under library version 2",
        raised_at=at,
        status=AlertStatus.OPEN,
        acknowledged_at=None,
    )
    with context.uow() as uow:
        uow.alerts.add_all([alert])
        uow.commit()
    return code


def test_duplicates_of_one_acknowledgement_on_threads_store_one_answer_and_read_the_same_bytes(
    context: ServiceContext,
) -> None:
    code = _open_alert(context)
    servicer = RiskAlertServicer(context.uow)
    request = alert_pb.AcknowledgeRiskAlertRequest(request_id="ack-threads", code=code)
    start = threading.Barrier(DUPLICATES)

    def send(_: int) -> bytes:
        start.wait()  # every copy is in flight before any commits
        return servicer.AcknowledgeRiskAlert(request, None).SerializeToString(deterministic=True)  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=DUPLICATES) as pool:
        answers = set(pool.map(send, range(DUPLICATES)))

    assert len(answers) == 1
    with context.engine.connect() as connection:
        t = IDEMPOTENCY_KEYS
        stored = connection.execute(
            sa.select(t.c.response).where(t.c.scope == ACKNOWLEDGE_SCOPE, t.c.key == "ack-threads")
        ).all()
    # Compliance keeps its answers sealed (docs/crypto.md): one stored answer, opening to the bytes every copy read.
    sealed = SealedResponses(lambda: context.field_crypto)
    assert [sealed.open(ACKNOWLEDGE_SCOPE, "ack-threads", bytes(row.response)) for row in stored] == list(answers)
    with context.uow() as uow:
        alert = uow.alerts.get(code)
    assert alert is not None and alert.status is AlertStatus.ACKNOWLEDGED
    answer = alert_pb.AcknowledgeRiskAlertResponse.FromString(answers.pop())
    assert answer.alert.acknowledged_at.ToDatetime(tzinfo=UTC) == alert.acknowledged_at


def _screen_request(passport: str) -> screening_pb.ScreenPartyRequest:
    return screening_pb.ScreenPartyRequest(
        request_id="r-1",
        name="Wang Fang",
        party_type=screening_pb.PARTY_TYPE_PERSON,
        date_of_birth="1970-01-02",
        identifiers=[screening_pb.PartyIdentifier(type="passport", value=passport)],
    )


def _stored_fingerprints(context: ServiceContext) -> dict[tuple[str, str], str]:
    with context.engine.connect() as connection:
        rows = connection.execute(sa.select(IDEMPOTENCY_KEYS)).all()
    return {(row.scope, row.key): row.fingerprint for row in rows}


def test_a_screening_request_is_remembered_by_a_keyed_fingerprint_that_confirms_no_guess(
    context: ServiceContext,
) -> None:
    request = fingerprint(_screen_request("E12345678"))
    with context.uow() as uow:
        uow.idempotency.remember(SCREEN_SCOPE, "r-1", request, b"answer")
        uow.idempotency.remember("another.scope", "r-1", request, b"answer")
        uow.commit()
    stored = _stored_fingerprints(context)
    # Whoever reads the table cannot hash a guessed date of birth and passport number and compare.
    assert request not in stored.values()
    assert stored[(SCREEN_SCOPE, "r-1")] != stored[("another.scope", "r-1")]
    with context.uow() as uow:
        assert uow.idempotency.replay(SCREEN_SCOPE, "r-1", request) == b"answer"
        with pytest.raises(IdempotencyKeyReused):
            uow.idempotency.replay(SCREEN_SCOPE, "r-1", fingerprint(_screen_request("E12345679")))


def test_a_request_remembered_by_its_plain_fingerprint_still_replays(context: ServiceContext) -> None:
    request = fingerprint(_screen_request("E12345678"))
    seal = SealedResponses(lambda: context.field_crypto)
    with context.engine.begin() as connection:  # as a process that did not key fingerprints wrote it
        connection.execute(
            IDEMPOTENCY_KEYS.insert().values(
                scope=SCREEN_SCOPE,
                key="r-old",
                fingerprint=request,
                response=seal.seal(SCREEN_SCOPE, "r-old", b"first answer"),
                created_at=datetime.now(UTC),
            )
        )
    with context.uow() as uow:
        assert uow.idempotency.replay(SCREEN_SCOPE, "r-old", request) == b"first answer"
        with pytest.raises(IdempotencyKeyReused):
            uow.idempotency.replay(SCREEN_SCOPE, "r-old", fingerprint(_screen_request("E12345679")))
