"""Plan matching and rate sheets as a merchant's or partner's system sees them: REST/JSON through the gateway,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.shared import codes
from services.shared.settings import Settings
from tests.e2e.stack import Stack, stack_and_gateway

SPEAKER = {
    "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
    "originCountry": "CN",
    "destination": {"country": "GB", "postalCode": "HS1 2AB"},
    "goods": {
        "hsCode": "851822",
        "battery": {"unNumber": "UN3481", "packing": "BATTERY_PACKING_CONTAINED_IN_EQUIPMENT"},
    },
    "declaredValue": {"currencyCode": "GBP", "units": "40"},
    "preference": "PREFERENCE_BEST_VALUE",
    "shipAt": "2026-03-02T03:00:00Z",
}


@pytest.fixture(scope="module")
def stack_gateway(module_any_settings: Settings) -> Iterator[tuple[Stack, httpx.Client]]:
    with stack_and_gateway(module_any_settings) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack_gateway: tuple[Stack, httpx.Client]) -> dict[str, str]:
    """Headers of an operator key: rate sheets are imported by ops for the partner that publishes them."""
    return stack_gateway[0].operator_headers


def test_a_merchant_matches_plans_over_rest(gateway: httpx.Client) -> None:
    response = gateway.post("/v1/logistics/plans:match", json=SPEAKER)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["preference"] == "PREFERENCE_BEST_VALUE"
    plans = {p["channelCode"]: p for p in answer["plans"]}
    line = plans["SAMPLE-LINE-GB"]
    assert line["zone"] == "GB-HIGHLANDS-ISLANDS"
    assert line["cost"]["total"]["currencyCode"] == "CNY"
    assert line["rankReason"].startswith("value score")
    assert "published range" in line["transit"]["source"]
    express = plans["SAMPLE-EXP-PRIORITY"]
    assert (express["cost"]["remoteArea"]["currencyCode"], express["cost"]["remoteArea"]["units"]) == ("CNY", "28")
    excluded = {e["channelCode"]: e["reasons"] for e in answer["excluded"]}
    # The GB line's 135 GBP limit is checked in GBP; the US line does not serve GB.
    assert excluded["SAMPLE-LINE-US"] == ["does not serve GB"]
    assert len(answer["plans"]) + len(answer["excluded"]) == 20


def test_bad_input_is_problem_json_naming_the_fields(gateway: httpx.Client) -> None:
    body = dict(SPEAKER, destination={"country": "GB", "postalCode": "12345"}, originCountry="CHN")
    response = gateway.post("/v1/logistics/plans:match", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"destination.postal_code", "origin_country"} <= fields


def test_ops_import_a_rate_sheet_with_an_idempotency_key(gateway: httpx.Client, operator: dict[str, str]) -> None:
    sheet = "\n".join(
        ["channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg"]
        + [f"SAMPLE-LINE-JP,{zone},0,25,15.00,48.00" for zone in ("JP-MAIN", "JP-OKINAWA")]
    )
    body = {"csv": sheet, "validFrom": "2099-01-01T00:00:00Z", "source": "jp-2099.csv"}
    key = str(uuid.uuid4())
    first = gateway.post("/v1/logistics/rate-sheets", json=body, headers={**operator, "Idempotency-Key": key})
    again = gateway.post("/v1/logistics/rate-sheets", json=body, headers={**operator, "Idempotency-Key": key})
    assert first.status_code == 200, first.text
    assert first.json() == again.json()
    assert first.json()["versions"] == [
        {"channelCode": "SAMPLE-LINE-JP", "version": 2, "validFrom": "2099-01-01T00:00:00Z", "rowCount": 2}
    ]
    listed = gateway.get("/v1/logistics/channels", params={"destinationCountry": "JP"})
    assert listed.status_code == 200
    assert {c["code"]: c["rateSheetVersion"] for c in listed.json()["channels"]}["SAMPLE-LINE-JP"] == 1
    bad = gateway.post(
        "/v1/logistics/rate-sheets",
        json={"csv": sheet.replace("JP-OKINAWA", "JP-HOKKAIDO")},
        headers={**operator, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad.status_code == 400
    assert any("row 3, column zone" in e["detail"] for e in bad.json()["errors"] if e["field"] == "csv")


def test_a_merchant_books_a_shipment_a_carrier_tracks_it_and_the_merchant_reads_the_timeline(
    gateway: httpx.Client, operator: dict[str, str]
) -> None:
    booking = {
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "GB", "postalCode": "EC1Y 8SY"},
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    booked = gateway.post("/v1/logistics/shipments", json=booking, headers=key)
    assert booked.status_code == 200, booked.text
    assert gateway.post("/v1/logistics/shipments", json=booking, headers=key).json() == booked.json()
    shipment = booked.json()["shipment"]
    assert shipment["code"].startswith("YD") and shipment["waybillNumber"].startswith("EX")
    waybill = shipment["waybillNumber"]

    def pushed(code: str, at: str, carrier: str = "fedex", number: str = waybill) -> dict[str, str]:
        return {"carrier": carrier, "waybillNumber": number, "code": code, "occurredAt": at, "location": "London"}

    # FedEx codes (the express channel's carrier): delivered, picked up, a split status (published, not
    # mapped), the delivery again, a waybill nobody booked, and another carrier naming this waybill.
    events = [
        pushed("DL", "2026-03-06T10:00:00Z"),
        pushed("PU", "2026-03-04T08:00:00Z"),
        pushed("SP", "2026-03-05T09:00:00Z"),
        pushed("DL", "2026-03-06T10:00:00Z"),
        pushed("DL", "2026-03-06T10:00:00Z", number="EX000000000CN"),
        pushed("3500", "2026-03-06T11:00:00Z", carrier="hermes"),
    ]
    merchant_push = gateway.post("/v1/logistics/tracking-events", json={"events": events})
    assert merchant_push.status_code == 403  # carriers push through ops' partner keys, not a merchant's
    push = gateway.post("/v1/logistics/tracking-events", json={"events": events}, headers=operator)
    assert push.status_code == 200, push.text
    assert [r["outcome"] for r in push.json()["results"]] == [
        "TRACKING_OUTCOME_APPLIED",
        "TRACKING_OUTCOME_APPLIED",
        "TRACKING_OUTCOME_UNMAPPED",
        "TRACKING_OUTCOME_DUPLICATE",
        "TRACKING_OUTCOME_UNKNOWN_WAYBILL",
        "TRACKING_OUTCOME_UNKNOWN_WAYBILL",
    ]
    assert push.json()["results"][5]["detail"] == f"no shipment booked with hermes has waybill {waybill}"
    tracking = gateway.get(f"/v1/shipments/{shipment['code']}/tracking")
    assert tracking.status_code == 200, tracking.text
    body = tracking.json()
    assert (body["status"], body["rec24Code"]) == ("TRACKING_STATUS_DELIVERED", "21")
    assert [(e["rawCode"], e.get("unmapped", False)) for e in body["events"]] == [
        ("PU", False),
        ("SP", True),
        ("DL", False),
    ]
    missing = gateway.get(f"/v1/shipments/{codes.generate('YD')}/tracking")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_a_carrier_file_is_imported_over_rest_row_by_row(gateway: httpx.Client, operator: dict[str, str]) -> None:
    booking = {
        "channelCode": "SAMPLE-POST-EMS",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "DE", "postalCode": "10115"},
    }
    booked = gateway.post("/v1/logistics/shipments", json=booking, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 200, booked.text
    waybill = booked.json()["shipment"]["waybillNumber"]
    content = f"waybill,code,time\n{waybill},1510,2026-03-04T08:00:00Z\n{waybill},3500,2026-03-06\n"
    body = {"carrier": "hermes", "content": content, "format": "TRACKING_FILE_FORMAT_CSV", "source": "h.csv"}
    assert gateway.post("/v1/logistics/tracking-files", json=body).status_code == 403  # ops' partner keys only
    answer = gateway.post("/v1/logistics/tracking-files", json=body, headers=operator)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    assert [(r["row"], r["outcome"], r.get("column", "")) for r in rows] == [
        (2, "TRACKING_OUTCOME_APPLIED", ""),
        (3, "TRACKING_OUTCOME_REJECTED", "time"),
    ]
    assert answer.json()["applied"] == 1 and answer.json()["rejected"] == 1
    again = gateway.post("/v1/logistics/tracking-files", json=body, headers=operator).json()
    assert again["rows"][0]["outcome"] == "TRACKING_OUTCOME_DUPLICATE" and again["duplicates"] == 1
    refused = gateway.post("/v1/logistics/tracking-files", json={**body, "carrier": "acme"}, headers=operator)
    assert refused.status_code == 400 and refused.headers["content-type"] == "application/problem+json"
    assert "carrier" in refused.text


def test_plan_totals_in_the_settlement_currency_over_rest(gateway: httpx.Client) -> None:
    response = gateway.post("/v1/logistics/plans:match", json={**SPEAKER, "settlementCurrency": "EUR"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "CNY->EUR" in answer["settlementNote"] and "missing" not in answer["settlementNote"]
    assert all(p["totalInSettlementCurrency"]["currencyCode"] == "EUR" for p in answer["plans"])
    bad = gateway.post("/v1/logistics/plans:match", json={**SPEAKER, "settlementCurrency": "EU"})
    assert bad.status_code == 400 and "settlement_currency" in bad.text


def checked(gateway: httpx.Client, product: dict[str, Any], destination: str = "GB") -> str:
    body = {"product": product, "destinations": [destination]}
    response = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    return str(response.json()["reports"][0]["code"])


def test_a_compliance_report_applies_its_battery_and_prohibitions_over_rest(gateway: httpx.Client) -> None:
    cells = {
        "title": "Spare lithium-ion cells",
        "hsCode": "850760",
        "attributes": [
            {"name": "battery_type", "value": "lithium_ion"},
            {"name": "battery_packing", "value": "alone"},
            {"name": "battery_wh", "value": "50"},
        ],
    }
    code = checked(gateway, cells)
    stored = gateway.get(f"/v1/compliance/checks/{code}")
    assert stored.status_code == 200, stored.text
    assert {"name": "battery_packing", "value": "alone"} in stored.json()["batteryAttributes"]
    goods = {"hsCode": "850760"}  # no battery stated: the report's fills it in
    response = gateway.post("/v1/logistics/plans:match", json={**SPEAKER, "goods": goods, "complianceReportCode": code})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (
        f"compliance report {code} for GB applied" in answer["complianceNote"] and "UN3480" in answer["complianceNote"]
    )
    reasons = [r for e in answer["excluded"] for r in e["reasons"]]
    assert any("UN3480 lithium-ion batteries shipped alone are not accepted" in r for r in reasons)

    ivory = {"title": "Ivory carving", "hsCode": "960190", "attributes": [{"name": "materials", "value": "ivory"}]}
    prohibited = gateway.post(
        "/v1/logistics/plans:match", json={**SPEAKER, "complianceReportCode": checked(gateway, ivory)}
    ).json()
    assert not prohibited.get("plans") and all(
        any("GB-IVORY-ACT" in r for r in e["reasons"]) for e in prohibited["excluded"]
    )
    assert "GB-IVORY-ACT" in prohibited["complianceNote"]


def test_a_report_for_another_market_or_unknown_is_problem_json_naming_the_field(gateway: httpx.Client) -> None:
    code = checked(gateway, {"title": "Mug", "hsCode": "691200"}, destination="DE")
    other = gateway.post("/v1/logistics/plans:match", json={**SPEAKER, "complianceReportCode": code})
    assert other.status_code == 400 and other.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in other.json()["errors"]] == ["compliance_report_code"]
    unknown = gateway.post("/v1/logistics/plans:match", json={**SPEAKER, "complianceReportCode": codes.generate("HG")})
    assert unknown.status_code == 404 and "compliance_report_code" in unknown.text
    assert gateway.get(f"/v1/compliance/checks/{codes.generate('HG')}").status_code == 404
