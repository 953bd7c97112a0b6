"""A compliance report applied to a match: battery attributes -> the goods' battery, counting PROHIBITED
findings -> every channel excluded naming the rule, and the note that says what was used."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.logistics.domain.channels import Battery, BatteryPacking
from services.logistics.domain.compliance_reports import (
    ComplianceReport,
    ReportFinding,
    apply,
    battery_of,
    exclude_every_channel,
)
from services.logistics.domain.pricing import Goods
from tests.logistics_support import sample_catalogue, shipment

CATALOGUE = sample_catalogue()
PLAIN = Goods("851822", None, False, False, False)


def finding(rule_code: str, severity: str = "PROHIBITED", **changes: object) -> ReportFinding:
    base = ReportFinding(rule_code, severity, "PROHIBITION", "", f"title of {rule_code}", True, False)
    return replace(base, **changes)  # type: ignore[arg-type]


def report(attributes: dict[str, str] | None = None, *findings: ReportFinding) -> ComplianceReport:
    return ComplianceReport("HGREPORT", "US", "", attributes or {}, findings)


@pytest.mark.parametrize(
    ("kind", "packing", "un_number", "expected_packing"),
    [
        ("lithium_ion", "alone", "UN3480", BatteryPacking.ALONE),
        ("lithium_ion", "with_equipment", "UN3481", BatteryPacking.PACKED_WITH_EQUIPMENT),
        ("lithium_ion", "in_equipment", "UN3481", BatteryPacking.CONTAINED_IN_EQUIPMENT),
        ("lithium_metal", "alone", "UN3090", BatteryPacking.ALONE),
        ("lithium_metal", "with_equipment", "UN3091", BatteryPacking.PACKED_WITH_EQUIPMENT),
        ("lithium_metal", "in_equipment", "UN3091", BatteryPacking.CONTAINED_IN_EQUIPMENT),
    ],
)
def test_lithium_batteries_map_to_their_un_number_and_packing(
    kind: str, packing: str, un_number: str, expected_packing: BatteryPacking
) -> None:
    battery, how = battery_of({"battery_type": kind, "battery_packing": packing, "battery_wh": "50"})
    assert battery == Battery(un_number, expected_packing)
    assert un_number in how


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        ({}, "no battery_type stated"),
        ({"battery_type": "nimh", "battery_packing": "alone"}, "no lithium battery"),
        ({"battery_type": "none"}, "no lithium battery"),
        ({"battery_type": "lithium_ion"}, "without battery_packing"),
    ],
)
def test_no_lithium_battery_or_no_packing_leaves_the_goods_without_one(attributes: dict[str, str], says: str) -> None:
    battery, how = battery_of(attributes)
    assert battery is None and says in how


def test_the_report_battery_fills_in_goods_without_one_but_never_overrides_the_request() -> None:
    attributes = {"battery_type": "lithium_ion", "battery_packing": "alone"}
    filled = apply(report(attributes), PLAIN)
    assert filled.goods.battery == Battery("UN3480", BatteryPacking.ALONE) and not filled.reasons
    assert "HGREPORT" in filled.note and "UN3480" in filled.note and "no PROHIBITED finding" in filled.note
    stated = Goods("851822", Battery("UN3481", BatteryPacking.CONTAINED_IN_EQUIPMENT), False, False, False)
    kept = apply(report(attributes), stated)
    assert kept.goods == stated and "unused" in kept.note


def test_a_filled_in_battery_changes_the_match_like_a_requested_one() -> None:
    applied = apply(report({"battery_type": "lithium_ion", "battery_packing": "alone"}), PLAIN)
    result = CATALOGUE.match(shipment(goods=applied.goods))
    assert [p.candidate.channel.code for p in result.plans] == ["SAMPLE-SEA-WH-US"]


def test_only_counting_prohibited_findings_exclude_and_the_note_names_each() -> None:
    applied = apply(
        report(
            {},
            finding("US-ESA-IVORY-4D"),
            finding("US-TEST-FCC", "RESTRICTED"),
            finding("US-UNCERTAIN", uncertain=True),
            finding("US-UNDETERMINED", determined=False),
            finding("DG-UN3481", "CONDITION", requirement_kind="SHIPPING_RESTRICTION", requirement_code="UN3481-PI967"),
        ),
        PLAIN,
    )
    assert len(applied.reasons) == 1 and "US-ESA-IVORY-4D" in applied.reasons[0]
    assert "PROHIBITED findings excluding every channel: US-ESA-IVORY-4D" in applied.note
    assert "not applied: US-UNCERTAIN, US-UNDETERMINED" in applied.note
    assert "UN3481-PI967" in applied.note


def test_a_prohibition_excludes_every_channel_once_keeping_its_other_reasons() -> None:
    result = CATALOGUE.match(shipment())
    assert result.plans
    reasons = apply(report({}, finding("US-ESA-IVORY-4D")), PLAIN).reasons
    excluded = exclude_every_channel(result, reasons)
    assert not excluded.plans
    codes = [e.channel.code for e in excluded.excluded]
    assert codes == sorted({c.code for c in CATALOGUE.channels})
    assert all(reasons[0] in e.reasons for e in excluded.excluded)
    before = {e.channel.code: e.reasons for e in result.excluded}
    for e in excluded.excluded:
        assert e.reasons[: len(before.get(e.channel.code, ()))] == before.get(e.channel.code, ())


SEVERITIES = st.sampled_from(["PROHIBITED", "RESTRICTED", "CONDITION", "INFO"])


@given(st.lists(st.tuples(SEVERITIES, st.booleans(), st.booleans()), max_size=6))
def test_exactly_the_counting_prohibitions_exclude(specs: list[tuple[str, bool, bool]]) -> None:
    findings = [finding(f"R{i}", s, determined=d, uncertain=u) for i, (s, d, u) in enumerate(specs)]
    reasons = apply(report({}, *findings), PLAIN).reasons
    counting = [f"R{i}" for i, (s, d, u) in enumerate(specs) if s == "PROHIBITED" and d and not u]
    assert [r.split("compliance rule ")[1].split(" ")[0] for r in reasons] == counting
    result = CATALOGUE.match(shipment())
    assert (exclude_every_channel(result, reasons) == result) == (not counting)
