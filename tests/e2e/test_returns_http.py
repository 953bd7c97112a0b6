"""Returns (RMA) as a merchant's and a warehouse partner's systems see them: REST/JSON through the gateway,
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


@pytest.fixture(scope="module")
def stack_gateway(module_any_settings: Settings) -> Iterator[tuple[Stack, httpx.Client]]:
    with stack_and_gateway(module_any_settings) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack_gateway: tuple[Stack, httpx.Client]) -> dict[str, str]:
    """An operator key: carriers' and warehouses' steps come through their certificates or operators."""
    return stack_gateway[0].operator_headers


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def delivered_shipment(gateway: httpx.Client, operator: dict[str, str]) -> str:
    booking = {
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "GB", "postalCode": "EC1Y 8SY"},
    }
    shipment = ok(gateway.post("/v1/logistics/shipments", json=booking, headers=idem()))["shipment"]
    event = {"carrier": "fedex", "waybillNumber": shipment["waybillNumber"], "code": "DL"}
    events = {"events": [{**event, "occurredAt": "2026-03-06T10:00:00Z"}]}
    ok(gateway.post("/v1/logistics/tracking-events", json=events, headers=operator))
    return str(shipment["code"])


def test_a_return_from_authorisation_to_refund_over_rest(gateway: httpx.Client, operator: dict[str, str]) -> None:
    shipment = delivered_shipment(gateway, operator)
    body = {
        "shipmentCode": shipment,
        "orderReference": "ORDER-77",
        "lines": [{"sku": "SCARF-GREEN", "quantity": 2, "reason": "RETURN_REASON_NOT_AS_DESCRIBED"}],
    }
    key = idem()
    authorised = ok(gateway.post("/v1/returns", json=body, headers=key))["rma"]
    assert ok(gateway.post("/v1/returns", json=body, headers=key))["rma"] == authorised
    code = authorised["code"]
    assert code.startswith("TH") and authorised["status"] == "RETURN_STATUS_AUTHORISED"
    comparison = authorised["costComparison"]
    assert comparison["restock"]["warehouseCode"] == "SAMPLE-WH-GB-BHX"
    assert comparison["returnToOrigin"]["channelCode"] == "SAMPLE-RETURN-POST"
    assert comparison["recommended"] == "RETURN_ROUTE_RESTOCK" and comparison["reason"]

    labelled = ok(gateway.post(f"/v1/returns/{code}:issueLabel", json={}, headers=idem()))["rma"]
    assert labelled["route"] == "RETURN_ROUTE_RESTOCK" and labelled["returnWaybill"].endswith("GB")
    # The carrier's and the warehouse's steps are not the merchant's to record.
    assert gateway.post(f"/v1/returns/{code}:inTransit", json={}, headers=idem()).status_code == 403
    ok(gateway.post(f"/v1/returns/{code}:inTransit", json={}, headers={**operator, **idem()}))
    ok(gateway.post(f"/v1/returns/{code}:receive", json={}, headers={**operator, **idem()}))
    inspection = {"lines": [{"lineNo": 1, "condition": "ITEM_CONDITION_RESALEABLE"}]}
    ok(gateway.post(f"/v1/returns/{code}:inspect", json=inspection, headers={**operator, **idem()}))
    decided = ok(
        gateway.post(f"/v1/returns/{code}:decide", json={"disposition": "RETURN_DISPOSITION_RESTOCK"}, headers=idem())
    )["rma"]
    assert decided["warehouseCode"] == "SAMPLE-WH-GB-BHX"
    refund = {"collectionCode": codes.generate("PY"), "amount": {"currencyCode": "GBP", "units": "19", "nanos": 0}}
    refunded = ok(gateway.post(f"/v1/returns/{code}:requestRefund", json=refund, headers=idem()))["rma"]
    assert refunded["status"] == "RETURN_STATUS_REFUND_REQUESTED"
    assert ok(gateway.get(f"/v1/returns/{code}"))["rma"] == refunded

    again = gateway.post(f"/v1/returns/{code}:requestRefund", json=refund, headers=idem())
    assert again.status_code == 400 and again.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in again.json()["errors"]] == ["status"]


def test_bad_input_is_a_problem_naming_each_field(gateway: httpx.Client) -> None:
    body = {"shipmentCode": "YD1", "lines": [{"sku": "", "quantity": -1}], "originCountry": "ZZ"}
    response = gateway.post("/v1/returns", json=body, headers=idem())
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"shipment_code", "lines[0].sku", "lines[0].quantity", "lines[0].reason", "origin_country"} <= fields
    unknown = gateway.post(
        "/v1/returns",
        json={
            "shipmentCode": codes.generate("YD"),
            "lines": [{"sku": "A", "quantity": 1, "reason": "RETURN_REASON_OTHER"}],
        },
        headers=idem(),
    )
    assert unknown.status_code == 404
    assert gateway.get(f"/v1/returns/{codes.generate('TH')}").status_code == 404
