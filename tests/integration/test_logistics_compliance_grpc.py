"""Plan matching with a compliance report, over real gRPC on SQLite and PostgreSQL: the report comes through
a fake ComplianceReports port (one test through the real gRPC adapter with compliance out of reach)."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import json_format
from xborder.logistics.v1 import plans_service_pb2 as pb
from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc

from services.logistics import bootstrap
from services.logistics.domain.compliance_reports import ComplianceReport, ReportFinding
from services.logistics.service_layer.compliance import ComplianceUnavailable, ReportNotFound
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

SPEAKER = {
    "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
    "originCountry": "CN",
    "destination": {"country": "US", "postalCode": "10001"},
    "goods": {"hsCode": "851822"},
    "declaredValue": {"currencyCode": "USD", "units": "40"},
    "shipAt": "2026-03-02T03:00:00Z",
}
MERCHANT = codes.generate("MC", "G")
OTHER_MERCHANT = codes.generate("MC", "G")
CELLS = codes.generate("HG", "G")  # lithium-ion cells shipped alone
IVORY = codes.generate("HG", "G")  # a prohibited product
GERMAN = codes.generate("HG", "G")  # checked for DE
OTHERS = codes.generate("HG", "G")  # another merchant's
DOWN = codes.generate("HG", "G")  # compliance out of reach


def prohibition(rule_code: str, **changes: object) -> ReportFinding:
    base = ReportFinding(rule_code, "PROHIBITED", "PROHIBITION", "", "Ivory", True, False)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class FakeComplianceReports:
    def __init__(self) -> None:
        cells = {"battery_type": "lithium_ion", "battery_packing": "alone", "battery_wh": "50"}
        self.reports = {
            CELLS: ComplianceReport(CELLS, "US", MERCHANT, cells, ()),
            IVORY: ComplianceReport(
                IVORY, "US", MERCHANT, {}, (prohibition("US-ESA-IVORY-4D"), prohibition("US-MAYBE", uncertain=True))
            ),
            GERMAN: ComplianceReport(GERMAN, "DE", MERCHANT, {}, ()),
            OTHERS: ComplianceReport(OTHERS, "US", OTHER_MERCHANT, {}, ()),
        }
        self.asked: list[str] = []

    def report(self, code: str) -> ComplianceReport:
        self.asked.append(code)
        if code == DOWN:
            raise ComplianceUnavailable("the compliance service is not available right now (UNAVAILABLE)")
        if code not in self.reports:
            raise ReportNotFound(code)
        return self.reports[code]


def request(**changes: object) -> pb.MatchPlansRequest:
    return json_format.ParseDict({**SPEAKER, **changes}, pb.MatchPlansRequest())


@pytest.fixture(scope="module")
def fake() -> FakeComplianceReports:
    return FakeComplianceReports()


@pytest.fixture(scope="module")
def logistics(module_any_settings: Settings, fake: FakeComplianceReports) -> Iterator[Running]:
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:  # only while bootstrap wires the servicer
            patch.setattr(bootstrap, "GrpcComplianceReports", lambda settings: fake)
            running = stack.enter_context(
                running_service(module_any_settings, "logistics", pb_grpc.LogisticsPlanServiceStub)
            )
        yield running


def refused(running: Running, message: pb.MatchPlansRequest) -> tuple[grpc.StatusCode, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as error:
        running.stub.MatchPlans(message)
    status, _, fields = rejected(error.value)
    return status, fields


def test_without_a_report_code_compliance_is_not_asked(logistics: Running, fake: FakeComplianceReports) -> None:
    asked = len(fake.asked)
    answer = logistics.stub.MatchPlans(request())
    assert len(fake.asked) == asked and not answer.compliance_note and len(answer.plans) > 1


def test_the_reports_battery_fills_in_the_goods(logistics: Running) -> None:
    answer = logistics.stub.MatchPlans(request(complianceReportCode=CELLS.lower(), merchantCode=MERCHANT))
    assert [p.channel_code for p in answer.plans] == ["SAMPLE-SEA-WH-US"]
    line = next(e for e in answer.excluded if e.channel_code == "SAMPLE-LINE-US")
    assert any("UN3480 lithium-ion batteries shipped alone are not accepted" in r for r in line.reasons)
    assert f"compliance report {CELLS} for US applied" in answer.compliance_note
    assert "UN3480" in answer.compliance_note


def test_a_prohibited_finding_excludes_every_channel_naming_the_rule(logistics: Running) -> None:
    answer = logistics.stub.MatchPlans(request(complianceReportCode=IVORY))
    assert not answer.plans and answer.excluded
    assert all(any("US-ESA-IVORY-4D" in r for r in e.reasons) for e in answer.excluded)
    assert not any("US-MAYBE" in r for e in answer.excluded for r in e.reasons)
    assert "excluding every channel: US-ESA-IVORY-4D" in answer.compliance_note
    assert "not applied: US-MAYBE" in answer.compliance_note


def test_a_report_for_another_destination_is_refused_naming_the_field(logistics: Running) -> None:
    status, fields = refused(logistics, request(complianceReportCode=GERMAN))
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert "is for DE, not the destination US" in fields["compliance_report_code"]


@pytest.mark.parametrize("code", [codes.generate("HG", "G"), OTHERS])
def test_an_unknown_or_another_merchants_report_is_not_found(logistics: Running, code: str) -> None:
    status, fields = refused(logistics, request(complianceReportCode=code, merchantCode=MERCHANT))
    assert status is grpc.StatusCode.NOT_FOUND and code in fields["compliance_report_code"]
    assert OTHER_MERCHANT not in fields["compliance_report_code"]


def test_a_malformed_report_code_is_refused_with_the_other_bad_fields(logistics: Running) -> None:
    status, fields = refused(logistics, request(complianceReportCode=MERCHANT, originCountry="XX"))
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert "compliance_report_code" in fields and "origin_country" in fields


def test_compliance_out_of_reach_answers_the_plans_with_a_note(logistics: Running) -> None:
    answer = logistics.stub.MatchPlans(request(complianceReportCode=DOWN))
    plain = logistics.stub.MatchPlans(request())
    assert [p.channel_code for p in answer.plans] == [p.channel_code for p in plain.plans]
    assert f"compliance report {DOWN} not applied" in answer.compliance_note
    assert "not available right now" in answer.compliance_note


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_grpc_adapter_with_compliance_down_still_answers(any_settings: Settings) -> None:
    settings = dataclasses.replace(
        any_settings, service_ports={**any_settings.service_ports, "compliance": closed_port()}
    )
    with running_service(settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as running:
        answer = running.stub.MatchPlans(request(complianceReportCode=CELLS))
    assert answer.plans and f"compliance report {CELLS} not applied" in answer.compliance_note
