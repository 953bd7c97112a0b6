"""RiskAlertService over real gRPC (port 0) on SQLite and PostgreSQL: list, filter, page, get, acknowledge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from xborder.compliance.v1 import product_compliance_service_pb2 as cpb
from xborder.compliance.v1 import risk_alert_service_pb2 as pb
from xborder.compliance.v1 import risk_alert_service_pb2_grpc as pb_grpc

from services.compliance.adapters.reference_views import check_views
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.service_layer import risk_alerts, rule_library
from services.shared import codes
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS
from tests.servers import Running, rejected, running_service
from tests.unit.test_compliance_library import edit, packs_copy, published_events
from tests.unit.test_risk_alerts_recheck import BAN

MERCHANT = codes.generate("MC")


@pytest.fixture
def alerting(any_settings: Settings, tmp_path: Path) -> Iterator[tuple[Running, list[str]]]:
    """A running service with three OPEN alerts for MERCHANT, raised by a real publication."""
    with running_service(any_settings, "compliance", pb_grpc.RiskAlertServiceStub, seed=False) as running:
        context = running.context
        for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates", "ecb_reference_rates"):
            context.import_reference_data(only=dataset)
        rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
        rule_library.publish_draft(context.uow)
        views = check_views(context)
        servicer = ProductComplianceServicer(context.uow, views)
        for i in range(3):
            request = cpb.CheckProductRequest(
                request_id=str(uuid.uuid4()),
                merchant_code=MERCHANT,
                product=cpb.Product(
                    hs_code="851822", title=f"Speaker {i}", declared_value={"currency_code": "EUR", "units": 20}
                ),
                destinations=["DE"],
            )
            servicer.CheckProduct(request, None)  # type: ignore[arg-type]
        directory = packs_copy(tmp_path)
        edit(directory, "eu-test-safety", lambda rules: rules.append(BAN))
        rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
        rule_library.publish_draft(context.uow)
        raised = risk_alerts.on_rules_published(context.uow, views, published_events(context)[-1])
        yield running, [a.code for a in raised]


def test_alerts_are_listed_paged_filtered_and_acknowledged_idempotently(alerting: tuple[Running, list[str]]) -> None:
    running, raised = alerting
    stub = running.stub
    first = stub.ListRiskAlerts(pb.ListRiskAlertsRequest(merchant_code=MERCHANT, page_size=2))
    assert len(first.alerts) == 2 and first.next_page_token
    rest = stub.ListRiskAlerts(
        pb.ListRiskAlertsRequest(merchant_code=MERCHANT, page_size=2, page_token=first.next_page_token)
    )
    listed = [a.code for a in [*first.alerts, *rest.alerts]]
    assert sorted(listed) == sorted(raised) and not rest.next_page_token
    alert = first.alerts[0]
    assert (alert.status, alert.subject_kind, alert.new_verdict) == (
        pb.RISK_ALERT_STATUS_OPEN,
        "PRODUCT_CHECK",
        "PROHIBITED",
    )
    assert not alert.HasField("acknowledged_at")

    request = pb.AcknowledgeRiskAlertRequest(request_id="ack-1", code=alert.code)
    acknowledged = stub.AcknowledgeRiskAlert(request).alert
    assert acknowledged.status == pb.RISK_ALERT_STATUS_ACKNOWLEDGED and acknowledged.HasField("acknowledged_at")
    assert stub.AcknowledgeRiskAlert(request).alert == acknowledged  # the retry replays the answer
    assert stub.GetRiskAlert(pb.GetRiskAlertRequest(code=alert.code)).alert == acknowledged
    still_open = stub.ListRiskAlerts(
        pb.ListRiskAlertsRequest(merchant_code=MERCHANT, status=pb.RISK_ALERT_STATUS_OPEN)
    ).alerts
    assert sorted(a.code for a in still_open) == sorted(set(raised) - {alert.code})


def test_bad_requests_name_the_field(alerting: tuple[Running, list[str]]) -> None:
    running, raised = alerting
    stub = running.stub
    cases = [
        (lambda: stub.ListRiskAlerts(pb.ListRiskAlertsRequest(merchant_code="nope")), "merchant_code"),
        (lambda: stub.ListRiskAlerts(pb.ListRiskAlertsRequest(merchant_code=MERCHANT, page_size=500)), "page_size"),
        (
            lambda: stub.ListRiskAlerts(pb.ListRiskAlertsRequest(merchant_code=MERCHANT, page_token="garbage")),
            "page_token",
        ),
        (lambda: stub.GetRiskAlert(pb.GetRiskAlertRequest(code=MERCHANT)), "code"),  # an MC code is no alert
        (lambda: stub.AcknowledgeRiskAlert(pb.AcknowledgeRiskAlertRequest(code=raised[0])), "request_id"),
    ]
    for call, field in cases:
        with pytest.raises(grpc.RpcError) as refused:
            call()
        status, _, violations = rejected(refused.value)
        assert status == grpc.StatusCode.INVALID_ARGUMENT and field in violations, field
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetRiskAlert(pb.GetRiskAlertRequest(code=codes.generate("YJ")))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    # The same request id with another alert is a different request: refused, not replayed.
    stub.AcknowledgeRiskAlert(pb.AcknowledgeRiskAlertRequest(request_id="k", code=raised[0]))
    with pytest.raises(grpc.RpcError) as reused:
        stub.AcknowledgeRiskAlert(pb.AcknowledgeRiskAlertRequest(request_id="k", code=raised[1]))
    status, reason, _ = rejected(reused.value)
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT")


def test_an_alert_raised_under_the_earlier_fx_type_is_still_read_and_acknowledged(
    alerting: tuple[Running, list[str]],
) -> None:
    running, raised = alerting
    assert all(code.startswith("YJ") for code in raised)
    with running.context.uow() as uow:
        alert = uow.alerts.get(raised[0])
        legacy = replace(alert, code=codes.generate("FX", alert.code[2]), cause="rules:legacy")
        uow.alerts.add_all([legacy])
        uow.commit()
    assert running.stub.GetRiskAlert(pb.GetRiskAlertRequest(code=legacy.code)).alert.code == legacy.code
    request = pb.AcknowledgeRiskAlertRequest(request_id="legacy", code=legacy.code.lower())
    assert running.stub.AcknowledgeRiskAlert(request).alert.status == pb.RISK_ALERT_STATUS_ACKNOWLEDGED
