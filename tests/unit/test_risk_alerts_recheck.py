"""Re-check on change (SQLite, real handlers): which stored checks a rule change affects, worse vs better vs
unchanged, idempotent replay, a crash mid-way, and listing alerts by status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xborder.compliance.v1 import events_pb2
from xborder.compliance.v1 import product_compliance_service_pb2 as pb
from xborder.compliance.v1 import risk_alert_service_pb2 as alert_pb

from services.compliance import bootstrap
from services.compliance.adapters.reference_views import CheckViews, check_views
from services.compliance.domain.alerts import AlertStatus, RiskAlert, SubjectKind
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.entrypoints.risk_alerts_api import alert_to_proto
from services.compliance.service_layer import risk_alerts, rule_library
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.errors import NotFound
from services.shared.events import parse_payload
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS, speaker_ban
from tests.fakes import RecordingBus
from tests.unit.test_compliance_library import edit, packs_copy, published_events

MERCHANT = codes.generate("MC", "E")
BAN = speaker_ban()


@pytest.fixture
def context(settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(settings, RecordingBus())
    for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates", "ecb_reference_rates"):
        context.import_reference_data(only=dataset)
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    yield context
    context.close()


@pytest.fixture
def views(context: ServiceContext) -> CheckViews:
    return check_views(context)


def stored(context: ServiceContext, views: CheckViews, hs_code: str, destination: str, title: str = "") -> str:
    request = pb.CheckProductRequest(
        request_id=f"{hs_code}-{destination}-{title}-{codes.generate('HG')}",
        merchant_code=MERCHANT,
        product=pb.Product(hs_code=hs_code, title=title, declared_value={"currency_code": "EUR", "units": 20}),
        destinations=[destination],
    )
    return ProductComplianceServicer(context.uow, views).CheckProduct(request, None).reports[0].code  # type: ignore[arg-type]


def publish(context: ServiceContext, tmp_path: Path, change: Any, name: str) -> dict:
    directory = packs_copy(tmp_path, name)
    edit(directory, "eu-test-safety", change)
    rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    return published_events(context)[-1]


def render(alert: RiskAlert) -> alert_pb.AcknowledgeRiskAlertResponse:
    return alert_pb.AcknowledgeRiskAlertResponse(alert=alert_to_proto(alert))


def raised_events(context: ServiceContext) -> list[events_pb2.RiskAlertRaised]:
    context.relay.drain()
    bus = context.relay.bus
    assert isinstance(bus, RecordingBus)
    return [
        parse_payload(e.payload, events_pb2.RiskAlertRaised)  # type: ignore[misc]
        for e in bus.published
        if e.event_type == "risk_alert_raised"
    ]


def alert_count(context: ServiceContext) -> int:
    with context.uow() as uow:
        return uow.alerts.count()


def test_a_stricter_rule_raises_one_alert_per_worsened_check_in_its_scope(
    context: ServiceContext, views: CheckViews, tmp_path: Path
) -> None:
    speaker_de = stored(context, views, "851822", "DE", "Speaker")
    shirt_de = stored(context, views, "610910", "DE", "Shirt")  # outside the ban's HS scope
    speaker_us = stored(context, views, "851822", "US", "Speaker")  # outside the ban's destinations
    event = publish(context, tmp_path, lambda rules: rules.append(BAN), "ban")

    [alert] = risk_alerts.on_rules_published(context.uow, views, event)
    assert (alert.subject_kind, alert.subject_code, alert.merchant_code) == (
        SubjectKind.PRODUCT_CHECK,
        speaker_de,
        MERCHANT,
    )
    assert (alert.old_verdict, alert.new_verdict, alert.destination) == ("ALLOWED_WITH_CONDITIONS", "PROHIBITED", "DE")
    assert alert.cause == f"rules:{event['version']}" and alert.status is AlertStatus.OPEN
    assert alert.code.startswith("YJ") and alert.code[2] == "E"  # the merchant's zone
    [message] = raised_events(context)
    assert (message.alert_code, message.merchant_code, message.subject_kind) == (alert.code, MERCHANT, "PRODUCT_CHECK")
    assert (message.old_verdict, message.new_verdict, message.library_version) == (
        "ALLOWED_WITH_CONDITIONS",
        "PROHIBITED",
        event["version"],
    )
    assert message.event_id and message.HasField("occurred_at") and message.cause == alert.cause
    assert "DE" in message.reason and "PROHIBITED" in message.reason
    assert message.subject_code not in {shirt_de, speaker_us}

    # The same event again (a redelivery): nothing new, nothing emitted.
    assert risk_alerts.on_rules_published(context.uow, views, event) == []
    # The same publication under another event id: the (cause, subject) key still holds.
    assert risk_alerts.on_rules_published(context.uow, views, {**event, "event_id": "another-id"}) == []
    assert alert_count(context) == 1 and len(raised_events(context)) == 1


def test_a_relaxed_or_unrelated_change_raises_nothing(
    context: ServiceContext, views: CheckViews, tmp_path: Path
) -> None:
    stored(context, views, "851822", "DE", "Speaker")
    risk_alerts.on_rules_published(context.uow, views, publish(context, tmp_path, lambda r: r.append(BAN), "ban"))
    assert alert_count(context) == 1
    # Lifting the ban makes the verdict better: no alert (the stored verdict follows the re-check).
    lifted = publish(context, tmp_path, lambda rules: None, "lifted")
    assert risk_alerts.on_rules_published(context.uow, views, lifted) == []
    # Banning again is a new worsening from the now-better verdict: a new cause, a new alert.
    again = publish(context, tmp_path, lambda r: r.append({**BAN, "version": 2}), "again")
    [alert] = risk_alerts.on_rules_published(context.uow, views, again)
    assert alert.old_verdict == "ALLOWED_WITH_CONDITIONS" and alert.cause == f"rules:{again['version']}"
    # A change that leaves every verdict as it was (a new title only) raises nothing.
    retitled = {**BAN, "version": 3, "title": {"en": "Speaker ban, retitled", "zh-CN": "禁止扬声器"}}
    same = publish(context, tmp_path, lambda r: r.append(retitled), "retitled")
    assert risk_alerts.on_rules_published(context.uow, views, same) == []
    assert alert_count(context) == 2


def test_only_the_latest_check_of_a_product_in_a_market_counts(
    context: ServiceContext, views: CheckViews, tmp_path: Path
) -> None:
    first = stored(context, views, "851822", "DE", "Speaker X")
    latest = stored(context, views, "851822", "DE", "Speaker X")
    other = stored(context, views, "851822", "DE", "Speaker Y")
    alerts = risk_alerts.on_rules_published(
        context.uow, views, publish(context, tmp_path, lambda r: r.append(BAN), "b")
    )
    assert sorted(a.subject_code for a in alerts) == sorted([latest, other])
    assert first not in {a.subject_code for a in alerts}


class _Crash(Exception):
    pass


def test_a_crash_mid_way_loses_and_duplicates_nothing(
    context: ServiceContext, views: CheckViews, tmp_path: Path
) -> None:
    checks = [stored(context, views, "851822", "DE", f"Speaker {i}") for i in range(3)]
    event = publish(context, tmp_path, lambda r: r.append(BAN), "ban")

    def crashing_uow():  # type: ignore[no-untyped-def]
        uow = context.uow()
        emit, calls = uow.emit, []

        def failing_emit(message):  # type: ignore[no-untyped-def]
            calls.append(message)
            if len(calls) == 2:
                raise _Crash("process died after the first alert of the batch")
            return emit(message)

        uow.emit = failing_emit  # type: ignore[method-assign]
        return uow

    with pytest.raises(_Crash):
        risk_alerts.on_rules_published(crashing_uow, views, event)
    assert alert_count(context) == 0 and raised_events(context) == []  # rolled back, event not claimed
    alerts = risk_alerts.on_rules_published(context.uow, views, event)  # the redelivery
    assert sorted(a.subject_code for a in alerts) == sorted(checks)
    assert len(raised_events(context)) == 3 and alert_count(context) == 3


def test_alerts_are_listed_per_merchant_filtered_and_acknowledged_once(
    context: ServiceContext, views: CheckViews, tmp_path: Path
) -> None:
    for i in range(3):
        stored(context, views, "851822", "DE", f"Speaker {i}")
    alerts = risk_alerts.on_rules_published(
        context.uow, views, publish(context, tmp_path, lambda r: r.append(BAN), "b")
    )
    target = alerts[0]

    # What an acknowledgement stores and replays: tests/unit/test_compliance_use_cases.py.
    command = risk_alerts.Acknowledge("ack-1", target.code, "f1")
    risk_alerts.acknowledge_alert(context.uow, command, render, alert_pb.AcknowledgeRiskAlertResponse)
    page, more = risk_alerts.list_alerts(context.uow, MERCHANT, AlertStatus.OPEN, 0, 1)
    assert len(page) == 1 and more and page[0].code != target.code
    acknowledged, _ = risk_alerts.list_alerts(context.uow, MERCHANT, AlertStatus.ACKNOWLEDGED, 0, 10)
    assert [a.code for a in acknowledged] == [target.code]
    assert risk_alerts.list_alerts(context.uow, codes.generate("MC"), None, 0, 10) == ([], False)
    with pytest.raises(NotFound) as missing:
        risk_alerts.get_alert(context.uow, codes.generate("YJ"))
    assert missing.value.field == "code"
