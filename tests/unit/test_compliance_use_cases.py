"""Compliance use cases on the in-memory unit of work: storing product checks and acknowledging risk alerts.

What each use case stores, what a retry replays and what a reused key is refused, without a database
(tests/compliance_fakes.py); the same flows on SQLite and PostgreSQL are in tests/integration.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from xborder.compliance.v1 import product_compliance_service_pb2 as pb
from xborder.compliance.v1 import risk_alert_service_pb2 as alert_pb

from services.compliance.domain.alerts import AlertStatus, RiskAlert, SubjectKind
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.entrypoints.risk_alerts_api import alert_to_proto
from services.compliance.service_layer import risk_alerts
from services.shared import codes
from services.shared.errors import NotFound, ValidationError
from services.shared.idempotency import IdempotencyKeyReused
from tests.compliance_fakes import FakeComplianceDatabase, FakeComplianceUnitOfWork, fixed_views
from tests.compliance_rules import rule

MERCHANT = codes.generate("MC", "E")
RAISED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ACKNOWLEDGED = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
COUNTRIES = {"CN": ("China", "中国"), "DE": ("Germany", "德国"), "US": ("United States", "美国")}


@pytest.fixture
def database() -> FakeComplianceDatabase:
    database = FakeComplianceDatabase()
    database.publish(
        [
            rule("EU-CE", destinations=["DE"], hs_scope=["85"]),
            rule("US-FCC", destinations=["US"], hs_scope=["8518"]),
        ]
    )
    return database


def servicer(database: FakeComplianceDatabase) -> ProductComplianceServicer:
    views = fixed_views(
        {"85", "8518", "851822", "61", "6109", "610910"},
        COUNTRIES,
        vat=[("DE", date(2007, 1, 1), Decimal("19"))],
    )
    # The fake stands in for the adapter's unit of work: the same repositories, in memory.
    return ProductComplianceServicer(lambda: FakeComplianceUnitOfWork(database), views)  # type: ignore[arg-type,return-value]


def check(**fields: object) -> pb.CheckProductRequest:
    base: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "merchant_code": MERCHANT,
        "product": pb.Product(
            title="Speaker", hs_code="851822", origin_country="CN", declared_value={"currency_code": "EUR", "units": 20}
        ),
        "destinations": ["DE", "US"],
        "as_of": {"year": 2026, "month": 3, "day": 2},
    }
    base.update(fields)
    return pb.CheckProductRequest(**base)  # type: ignore[arg-type]


def test_a_check_stores_one_report_per_market_as_answered(database: FakeComplianceDatabase) -> None:
    answer = servicer(database).CheckProduct(check(), None)  # type: ignore[arg-type]
    assert [r.destination for r in answer.reports] == ["DE", "US"]
    stored = {row.code: row for row in database.checks.values()}
    assert sorted(stored) == sorted(r.code for r in answer.reports)
    for report in answer.reports:
        row = stored[report.code]
        assert (row.merchant_code, row.destination, row.hs_code, row.library_version) == (
            MERCHANT,
            report.destination,
            "851822",
            1,
        )
        assert pb.ComplianceReport.FromString(row.report) == report
        assert report.code.startswith("HG") and report.code[2] == "E"  # the merchant's residency zone


def test_a_retry_replays_the_answer_byte_for_byte_and_stores_nothing_more(database: FakeComplianceDatabase) -> None:
    first = check()
    answer = servicer(database).CheckProduct(first, None)  # type: ignore[arg-type]
    again = servicer(database).CheckProduct(first, None)  # type: ignore[arg-type]
    assert again.SerializeToString() == answer.SerializeToString()
    assert len(database.checks) == 2 and len(database.idempotency) == 1
    changed = check(request_id=first.request_id, destinations=["DE"])
    with pytest.raises(IdempotencyKeyReused):
        servicer(database).CheckProduct(changed, None)  # type: ignore[arg-type]
    assert len(database.checks) == 2


def test_a_refused_check_stores_nothing(database: FakeComplianceDatabase) -> None:
    with pytest.raises(ValidationError) as refused:
        servicer(database).CheckProduct(check(destinations=["DE", "QQ"]), None)  # type: ignore[arg-type]
    assert "destinations[1]" in {v.field for v in refused.value.violations}  # not a country
    assert database.checks == {} and database.idempotency == {} and database.commits == 0


def test_a_market_without_rules_is_answered_undetermined_and_not_stored(database: FakeComplianceDatabase) -> None:
    de, cn = servicer(database).CheckProduct(check(destinations=["DE", "CN"]), None).reports  # type: ignore[arg-type]
    assert cn.verdict == pb.VERDICT_UNDETERMINED and not cn.complete and "no rules for CN" in cn.missing[0]
    assert de.verdict != pb.VERDICT_UNDETERMINED
    assert [row.destination for row in database.checks.values()] == ["DE"]


def _open_alert(database: FakeComplianceDatabase) -> RiskAlert:
    alert = RiskAlert(
        code=codes.generate("YJ", "E", at=RAISED),
        merchant_code=MERCHANT,
        subject_kind=SubjectKind.PRODUCT_CHECK,
        subject_code=codes.generate("HG", "E", at=RAISED),
        party_name="",
        destination="DE",
        old_verdict="ALLOWED",
        new_verdict="PROHIBITED",
        cause="rules:2",
        reason="DE verdict ALLOWED -> PROHIBITED under rule library version 2",
        raised_at=RAISED,
    )
    database.alerts[alert.code] = alert
    return alert


def acknowledge(database: FakeComplianceDatabase, request_id: str, code: str, at: datetime = ACKNOWLEDGED) -> bytes:
    def render(alert: RiskAlert) -> alert_pb.AcknowledgeRiskAlertResponse:
        return alert_pb.AcknowledgeRiskAlertResponse(alert=alert_to_proto(alert))

    command = risk_alerts.Acknowledge(request_id, code, fingerprint=f"ack:{code}")
    response = risk_alerts.acknowledge_alert(
        lambda: FakeComplianceUnitOfWork(database),  # type: ignore[arg-type,return-value]
        command,
        render,
        alert_pb.AcknowledgeRiskAlertResponse,
        now=lambda: at,
    )
    return response.SerializeToString()


def test_acknowledging_stores_the_status_once_and_a_retry_replays_the_first_answer(
    database: FakeComplianceDatabase,
) -> None:
    alert = _open_alert(database)
    first = acknowledge(database, "ack-1", alert.code)
    assert database.alerts[alert.code].status is AlertStatus.ACKNOWLEDGED
    assert database.alerts[alert.code].acknowledged_at == ACKNOWLEDGED
    answer = alert_pb.AcknowledgeRiskAlertResponse.FromString(first)
    assert answer.alert.status == alert_pb.RISK_ALERT_STATUS_ACKNOWLEDGED
    # A retry later replays the first answer, acknowledgement time included.
    assert acknowledge(database, "ack-1", alert.code, at=datetime(2026, 3, 9, tzinfo=UTC)) == first


def test_an_acknowledged_alert_keeps_its_first_acknowledgement(database: FakeComplianceDatabase) -> None:
    alert = _open_alert(database)
    first = acknowledge(database, "ack-1", alert.code)
    other = acknowledge(database, "ack-2", alert.code, at=datetime(2026, 3, 9, tzinfo=UTC))
    assert other == first and database.alerts[alert.code].acknowledged_at == ACKNOWLEDGED
    assert len(database.idempotency) == 2  # each request id keeps its own answer


def test_a_reused_request_id_for_another_alert_is_refused(database: FakeComplianceDatabase) -> None:
    alert, other = _open_alert(database), _open_alert(database)
    acknowledge(database, "ack-1", alert.code)
    with pytest.raises(IdempotencyKeyReused):
        acknowledge(database, "ack-1", other.code)
    assert database.alerts[other.code].status is AlertStatus.OPEN


def test_an_unknown_alert_is_not_found_and_leaves_the_key_free(database: FakeComplianceDatabase) -> None:
    missing = codes.generate("YJ")
    with pytest.raises(NotFound) as error:
        acknowledge(database, "ack-1", missing)
    assert error.value.field == "code" and database.idempotency == {}
