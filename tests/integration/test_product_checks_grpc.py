"""ProductComplianceService over real gRPC (port 0), on SQLite and on PostgreSQL, with the fixture packs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from xborder.compliance.v1 import product_compliance_service_pb2 as pb
from xborder.compliance.v1 import product_compliance_service_pb2_grpc as pb_grpc

from services.compliance.service_layer import rule_library
from services.shared import codes
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS
from tests.servers import Running, rejected, running_service

MARCH_2 = {"year": 2026, "month": 3, "day": 2}  # a TARGET day inside the shipped ECB history


@pytest.fixture(scope="module")
def service(module_any_settings: Settings) -> Iterator[Running]:
    with running_service(module_any_settings, "compliance", pb_grpc.ProductComplianceServiceStub) as running:
        rule_library.stage_draft(running.context.uow, FIXTURE_PACKS, running.settings.data_dir)
        rule_library.publish_draft(running.context.uow)
        yield running


def speaker(**fields: object) -> pb.Product:
    base: dict[str, object] = {
        "title": "Bluetooth speaker",
        "hs_code": "8518.22",
        "gtin": "4006381333931",
        "origin_country": "CN",
        "declared_value": {"currency_code": "CNY", "units": 500},
        "attributes": [
            {"name": "radio", "value": "true"},
            {"name": "battery_type", "value": "lithium_ion"},
            {"name": "battery_wh", "value": "120"},
        ],
    }
    base.update(fields)
    return pb.Product(**base)  # type: ignore[arg-type]


def request(**fields: object) -> pb.CheckProductRequest:
    base: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "product": speaker(),
        "destinations": ["DE", "US"],
        "as_of": MARCH_2,
    }
    base.update(fields)
    return pb.CheckProductRequest(**base)  # type: ignore[arg-type]


def test_one_report_per_market_with_findings_tax_regime_vat_and_versions(service: Running) -> None:
    de, us = service.stub.CheckProduct(request()).reports
    assert (de.destination, de.verdict, us.destination, us.verdict) == (
        "DE",
        pb.VERDICT_ALLOWED_WITH_CONDITIONS,
        "US",
        pb.VERDICT_RESTRICTED,
    )
    assert {f.rule_code: f.satisfied for f in de.findings} == {"EU-TEST-CE-RED": False, "EU-TEST-GPSR-RP": False}
    ce = next(f for f in de.findings if f.rule_code == "EU-TEST-CE-RED")
    assert (ce.requirement_kind, ce.requirement_code, ce.verified) == ("MARKING", "CE", True)
    assert ce.source.url.startswith("https://eur-lex.europa.eu/") and ce.effective_from.year == 2016
    # CNY 500 is about EUR 61 at the ECB rate of 2026-03-02: under the IOSS ceiling of EUR 150
    assert [(t.rule_code, {x.key: x.value for x in t.terms}["scheme"]) for t in de.tax_regimes] == [
        ("EU-TEST-IOSS", "IOSS")
    ]
    assert (de.vat.country, de.vat.standard_rate_percent) == ("DE", "19")
    assert [t.rule_code for t in us.tax_regimes] == ["US-TEST-DE-MINIMIS"]
    assert us.tax_regimes[0].rule_version == 2  # de minimis suspended from 2025-08-29
    assert us.findings[0].rule_code == "US-TEST-FCC" and us.findings[0].severity == "RESTRICTED"
    assert de.library_version == 1 and codes.parse(de.library_code).entity_type == "RK"
    assert codes.parse(de.code).entity_type == "HG" and de.code != us.code
    hs_version = next(v.version for v in service.context.dataset_versions() if v.dataset == "hs2022")
    assert de.hs_dataset_version == hs_version
    assert not us.HasField("vat")  # not an EU member state


def test_the_tax_regime_follows_the_declared_value(service: Running) -> None:
    expensive = speaker(declared_value={"currency_code": "EUR", "units": 150, "nanos": 10_000_000})
    [de] = service.stub.CheckProduct(request(product=expensive, destinations=["DE"])).reports
    assert list(de.tax_regimes) == []
    [us] = service.stub.CheckProduct(request(destinations=["US"], as_of={"year": 2025, "month": 3, "day": 3})).reports
    assert [(t.rule_code, t.rule_version) for t in us.tax_regimes] == [("US-TEST-DE-MINIMIS", 1)]


def test_reports_render_in_chinese(service: Running) -> None:
    [report] = service.stub.CheckProduct(request(destinations=["US"], language="zh-CN")).reports
    assert (report.language, report.verdict_text) == ("zh-CN", "受限")
    assert report.heading == "美利坚合众国 合规报告"  # the UN Chinese short name
    assert report.findings[0].title == "FCC设备授权"
    assert report.declared_value_text == "¥500.00"
    [english] = service.stub.CheckProduct(request(destinations=["US"])).reports
    assert english.verdict_text == "Restricted" and english.declared_value_text == "CN¥500.00"


def test_a_held_certificate_is_listed_as_satisfied(service: Running) -> None:
    held = speaker(certifications=["FCC-ID"], attributes=[{"name": "radio", "value": "true"}])
    [us] = service.stub.CheckProduct(request(product=held, destinations=["US"])).reports
    assert us.verdict == pb.VERDICT_ALLOWED
    assert [(f.rule_code, f.satisfied) for f in us.findings] == [("US-TEST-FCC", True)]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"product": speaker(hs_code="8507")}, "product.hs_code", "6-digit"),
        ({"destinations": ["QQ"]}, "destinations[0]", "ISO 3166-1"),
        ({"product": speaker(origin_country="QQ")}, "product.origin_country", "ISO 3166-1"),
        ({"product": speaker(declared_value={"units": 10})}, "product.declared_value.currency_code", "required"),
        (
            {"product": speaker(declared_value={"currency_code": "JPY", "units": 10, "nanos": 500_000_000})},
            "product.declared_value",
            "0 decimal places",
        ),
        ({"product": speaker(gtin="4006381333932")}, "product.gtin", "mod-10"),
        (
            {"product": speaker(attributes=[{"name": "battery_wh", "value": "lots"}])},
            "product.attributes[0].value",
            "number",
        ),
        ({"product": speaker(attributes=[{"name": "wattage", "value": "5"}])}, "product.attributes[0].name", "wattage"),
        ({"language": "fr"}, "language", "zh-CN"),
        ({"destinations": []}, "destinations", "at least one"),
        ({"request_id": ""}, "request_id", "required"),
    ],
)
def test_bad_input_names_the_field(service: Running, fields: dict, field: str, says: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        service.stub.CheckProduct(request(**fields))
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert says in violations[field]


NOVEMBER_30 = {"year": 2026, "month": 11, "day": 30}  # after the shipped ECB history (it ends 2026-04-13)


def test_an_old_rate_decides_a_value_far_from_the_threshold_and_says_how_old_it_is(service: Running) -> None:
    [de] = service.stub.CheckProduct(request(destinations=["DE"], as_of=NOVEMBER_30)).reports
    assert [f.rule_code for f in de.findings] == ["EU-TEST-CE-RED", "EU-TEST-GPSR-RP"]
    [ioss] = de.tax_regimes
    assert (ioss.rule_code, ioss.determined, ioss.applies, ioss.uncertain) == ("EU-TEST-IOSS", True, True, False)
    used = ioss.rate_used
    assert (used.source_currency, used.target_currency, used.stale) == ("CNY", "EUR", True)
    assert (used.rate_date.year, used.rate_date.month, used.rate_date.day, used.age_days) == (2026, 4, 13, 231)
    assert used.margin_percent == "15.91"
    assert de.complete and list(de.missing) == [] and de.completeness_text == "Complete"


def test_an_old_rate_near_the_threshold_makes_the_report_incomplete(service: Running) -> None:
    near = speaker(declared_value={"currency_code": "CNY", "units": 1200})  # about EUR 150 in April 2026
    [de] = service.stub.CheckProduct(request(product=near, destinations=["DE"], as_of=NOVEMBER_30)).reports
    assert [(t.rule_code, t.uncertain) for t in de.tax_regimes] == [("EU-TEST-IOSS", True)]
    assert "231 days old" in de.tax_regimes[0].undetermined_reason
    assert de.verdict == pb.VERDICT_ALLOWED_WITH_CONDITIONS and len(de.findings) == 2
    assert not de.complete and de.completeness_text.startswith("Incomplete: 1 point")


def test_a_missing_rate_leaves_the_regime_undetermined_and_the_findings_standing(service: Running) -> None:
    riyals = speaker(declared_value={"currency_code": "SAR", "units": 100})  # not quoted by the ECB
    [de, us] = service.stub.CheckProduct(request(product=riyals, language="zh-CN")).reports
    assert de.verdict == pb.VERDICT_ALLOWED_WITH_CONDITIONS and len(de.findings) == 2
    [ioss] = de.tax_regimes
    assert (ioss.determined, ioss.applies, ioss.HasField("rate_used")) == (False, False, False)
    assert "SAR" in ioss.undetermined_reason and "2026-03-02" in ioss.undetermined_reason
    assert "declare the value in EUR" in ioss.undetermined_reason
    assert not de.complete and list(de.missing) == [ioss.undetermined_reason]
    assert de.completeness_text.startswith("不完整")
    assert us.verdict == pb.VERDICT_RESTRICTED  # its regime has no value threshold: complete


def test_an_hs_code_the_dataset_lacks_is_checked_on_its_heading_and_said_to_be_missing(service: Running) -> None:
    [de] = service.stub.CheckProduct(request(product=speaker(hs_code="851899"), destinations=["DE"])).reports
    assert {f.rule_code for f in de.findings} == {"EU-TEST-CE-RED", "EU-TEST-GPSR-RP"}  # chapter 85 or all goods
    assert not de.complete and len(de.missing) == 1
    assert "851899 is not an HS 2022 subheading" in de.missing[0] and "chapter 85" in de.missing[0]


def test_a_market_without_rules_gets_an_undetermined_report_and_the_others_stand(service: Running) -> None:
    before = _stored(service)
    br, de = service.stub.CheckProduct(request(destinations=["BR", "DE"], language="zh-CN")).reports
    assert (br.destination, br.verdict, br.verdict_text) == ("BR", pb.VERDICT_UNDETERMINED, "无法判定")
    assert list(br.findings) == [] and not br.complete
    assert "has no rules for BR" in br.missing[0] and "DE" in br.missing[0]
    assert de.verdict == pb.VERDICT_ALLOWED_WITH_CONDITIONS and de.complete
    assert _stored(service) == before + 1  # only the judged report is kept for re-checks


def _stored(service: Running) -> int:
    with service.context.uow() as uow:
        return uow.checks.count()


def test_verified_and_the_note_are_shown_on_findings_and_regimes(service: Running) -> None:
    ivory = speaker(attributes=[{"name": "materials", "value": "ivory"}])
    [de] = service.stub.CheckProduct(request(product=ivory, destinations=["DE"])).reports
    banned = next(f for f in de.findings if f.rule_code == "EU-TEST-IVORY")
    assert (banned.verified, banned.note) == (False, "test pack: simplified; the guidance allows narrow exemptions")
    assert de.contains_unverified_rules
    assert [(t.rule_code, t.verified) for t in de.tax_regimes] == [("EU-TEST-IOSS", True)]
    [plain] = service.stub.CheckProduct(request(destinations=["DE"])).reports
    assert not plain.contains_unverified_rules and plain.complete


def test_a_retry_replays_the_first_reports_and_stores_nothing_twice(service: Running) -> None:
    first = request(merchant_code=codes.generate("MC", "C"))
    answer = service.stub.CheckProduct(first)
    with service.context.uow() as uow:
        stored = uow.checks.count()
    again = service.stub.CheckProduct(first)
    assert again.SerializeToString() == answer.SerializeToString()
    with service.context.uow() as uow:
        assert uow.checks.count() == stored
    changed = pb.CheckProductRequest()
    changed.CopyFrom(first)
    changed.destinations[:] = ["DE"]
    with pytest.raises(grpc.RpcError) as error:
        service.stub.CheckProduct(changed)
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT")
    assert "request_id" in violations


def test_each_check_is_stored_with_product_merchant_destination_and_verdict(service: Running) -> None:
    merchant = codes.generate("MC", "C")
    [de] = service.stub.CheckProduct(request(merchant_code=merchant, destinations=["DE"])).reports
    assert de.code[2] == "C"  # the report lives in the merchant's residency zone
    with service.context.uow() as uow:
        [row] = [r for r in uow.checks.affected({"DE"}, {"8518"}) if r.code == de.code]
    assert (row.merchant_code, row.destination, row.hs_code, row.verdict) == (
        merchant,
        "DE",
        "851822",
        "ALLOWED_WITH_CONDITIONS",
    )
    assert pb.ComplianceReport.FromString(row.report) == de


def test_a_batch_answers_each_check_in_order_and_names_fields_by_position(service: Running) -> None:
    batch = pb.BatchCheckProductsRequest(
        request_id=str(uuid.uuid4()),
        checks=[request(destinations=["US"]), request(destinations=["DE", "FR"], product=speaker(hs_code="950300"))],
    )
    first, second = service.stub.BatchCheckProducts(batch).results
    assert [r.destination for r in first.reports] == ["US"]
    assert [r.destination for r in second.reports] == ["DE", "FR"]
    bad = pb.BatchCheckProductsRequest(
        request_id=str(uuid.uuid4()), checks=[request(), request(product=speaker(hs_code="8507"))]
    )
    with pytest.raises(grpc.RpcError) as error:
        service.stub.BatchCheckProducts(bad)
    assert "checks[1].product.hs_code" in rejected(error.value)[2]


def test_ops_read_the_library_and_its_rules(service: Running) -> None:
    library = service.stub.GetRuleLibrary(pb.GetRuleLibraryRequest()).library
    assert (library.version, library.current, library.rule_count) == (1, True, 9)
    assert list(library.packs) == ["eu-test-safety", "eu-test-vat", "us-test-customs"]
    listed = service.stub.ListRules(pb.ListRulesRequest(destination="GB"))
    assert [r.code for r in listed.rules] == ["EU-TEST-IVORY"]
    assert listed.rules[0].recorded_in == 1 and listed.rules[0].superseded_in == 0
    with pytest.raises(grpc.RpcError) as error:
        service.stub.GetRuleLibrary(pb.GetRuleLibraryRequest(version=9))
    assert rejected(error.value)[0] == grpc.StatusCode.NOT_FOUND


def test_concurrent_duplicates_store_the_check_once(service: Running) -> None:
    from concurrent.futures import ThreadPoolExecutor

    same = request(destinations=["DE", "US"])
    with service.context.uow() as uow:
        before = uow.checks.count()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: service.stub.CheckProduct(same), range(4)))
    assert len({a.SerializeToString() for a in answers}) == 1
    with service.context.uow() as uow:
        assert uow.checks.count() == before + 2


def test_a_stored_check_reads_back_with_its_merchant_and_battery_attributes(service: Running) -> None:
    product = speaker(
        attributes=[
            {"name": "radio", "value": "true"},
            {"name": "battery_type", "value": "lithium_ion"},
            {"name": "battery_packing", "value": "in_equipment"},
            {"name": "battery_wh", "value": "12.5"},
        ]
    )
    merchant = codes.generate("MC", "G")
    de, us = service.stub.CheckProduct(request(product=product, merchant_code=merchant)).reports
    stored = service.stub.GetProductCheck(pb.GetProductCheckRequest(code=us.code.lower()))
    assert stored.report == us and stored.merchant_code == merchant
    assert [(a.name, a.value) for a in stored.battery_attributes] == [
        ("battery_packing", "in_equipment"),
        ("battery_type", "lithium_ion"),
        ("battery_wh", "12.5"),
    ]
    assert service.stub.GetProductCheck(pb.GetProductCheckRequest(code=de.code)).report.destination == "DE"


def test_an_unknown_or_malformed_check_code_is_refused_naming_code(service: Running) -> None:
    unknown = codes.generate("HG", "G")
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.GetProductCheck(pb.GetProductCheckRequest(code=unknown))
    status, reason, fields = rejected(missing.value)
    assert (status, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND") and unknown in fields["code"]
    with pytest.raises(grpc.RpcError) as malformed:
        service.stub.GetProductCheck(pb.GetProductCheckRequest(code=codes.generate("RK", "G")))
    status, _, fields = rejected(malformed.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT and "code" in fields
