"""Overseas-warehouse stock as merchants' and warehouses' systems see it: REST/JSON through the gateway, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from services.shared.settings import Settings
from tests.e2e.stack import Stack, stack_and_gateway

WH = "SAMPLE-WH-JP-NRT"


@pytest.fixture(scope="module")
def stack_gateway(module_any_settings: Settings) -> Iterator[tuple[Stack, httpx.Client]]:
    with stack_and_gateway(module_any_settings) as running:
        yield running


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def push(stack_gateway: tuple[Stack, httpx.Client], merchant: str, push_id: str, lines: list[dict]) -> httpx.Response:
    stack, client = stack_gateway
    body = {"pushId": push_id, "merchantCode": merchant, "kind": "INVENTORY_PUSH_KIND_SNAPSHOT", "lines": lines}
    return client.post(f"/v1/logistics/warehouses/{WH}/inventory", json=body, headers=stack.operator_headers)


def test_a_warehouse_pushes_and_a_merchant_reserves_confirms_and_reads(
    stack_gateway: tuple[Stack, httpx.Client], gateway: httpx.Client, merchant: str
) -> None:
    assert any(w["code"] == WH for w in gateway.get("/v1/logistics/warehouses?country=JP").json()["warehouses"])
    # A merchant key may not push inventory: that is the warehouse partner's (an operator key).
    body = {"pushId": "m-1", "merchantCode": merchant, "kind": "INVENTORY_PUSH_KIND_SNAPSHOT", "lines": []}
    assert gateway.post(f"/v1/logistics/warehouses/{WH}/inventory", json=body).status_code == 403
    pushed = push(stack_gateway, merchant, "jp-1", [{"sku": "MUG-1", "onHand": "6", "inTransitInbound": "2"}])
    assert pushed.status_code == 200, pushed.text
    assert push(stack_gateway, merchant, "jp-1", [{"sku": "MUG-1", "onHand": "6", "inTransitInbound": "2"}]).json() == (
        pushed.json()
    )
    order = {"orderReference": "SO-1", "lines": [{"sku": "MUG-1", "quantity": "4"}], "destinationCountry": "JP"}
    made = gateway.post("/v1/logistics/reservations", json=order, headers=idem())
    assert made.status_code == 200, made.text
    reservation = made.json()["reservation"]
    assert (reservation["warehouseCode"], reservation["status"]) == (WH, "RESERVATION_STATUS_ACTIVE")
    view = gateway.get("/v1/logistics/stock/MUG-1").json()
    assert (view["onHand"], view["reserved"], view["available"], view["inTransitInbound"]) == ("6", "4", "2", "2")
    too_many = gateway.post(
        "/v1/logistics/reservations", json={**order, "lines": [{"sku": "MUG-1", "quantity": "3"}]}, headers=idem()
    )
    assert too_many.status_code == 400
    problem = too_many.json()
    assert problem["reason"] == "INSUFFICIENT_STOCK"
    assert problem["errors"][0]["field"] == "lines[0].quantity"
    confirmed = gateway.post(f"/v1/logistics/reservations/{reservation['code']}:confirm", json={}, headers=idem())
    assert confirmed.status_code == 200, confirmed.text
    outbound = confirmed.json()["outboundOrder"]
    assert outbound["status"] == "OUTBOUND_STATUS_CREATED"
    assert (
        gateway.get(f"/v1/logistics/outbound-orders/{outbound['code']}").json()["outboundOrder"]["code"]
        == (outbound["code"])
    )
    levels = gateway.get("/v1/logistics/stock").json()["levels"]
    assert [(x["sku"], x["onHand"], x["reserved"]) for x in levels] == [("MUG-1", "2", "0")]


def test_bad_input_is_a_problem_naming_each_field(stack_gateway: tuple[Stack, httpx.Client], merchant: str) -> None:
    bad = push(stack_gateway, merchant, "jp-bad", [{"sku": "MUG-2", "onHand": "-3"}, {"sku": "", "onHand": "1"}])
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"lines[0].on_hand", "lines[1].sku"}
    client = stack_gateway[1]
    unknown = client.post(
        "/v1/logistics/reservations",
        json={"orderReference": "SO-9", "lines": [{"sku": "NOPE", "quantity": "1"}], "warehouseCode": "SAMPLE-WH-XX"},
        headers=idem(),
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "warehouse_code"


def test_an_inbound_shipment_is_announced_and_received_into_stock(
    stack_gateway: tuple[Stack, httpx.Client], gateway: httpx.Client
) -> None:
    stack = stack_gateway[0]
    created = gateway.post(
        "/v1/logistics/inbound-shipments",
        json={"warehouseCode": WH, "reference": "SEA-1", "lines": [{"sku": "BOWL-1", "expected": "8"}]},
        headers=idem(),
    )
    assert created.status_code == 200, created.text
    code = created.json()["inboundShipment"]["code"]
    status = {"status": "INBOUND_STATUS_RECEIVED", "counted": [{"sku": "BOWL-1", "received": "7"}]}
    refused = gateway.post(f"/v1/logistics/inbound-shipments/{code}:status", json=status, headers=idem())
    assert refused.status_code == 403  # receipts are the warehouse's to report
    received = gateway.post(
        f"/v1/logistics/inbound-shipments/{code}:status", json=status, headers={**stack.operator_headers, **idem()}
    )
    assert received.status_code == 200, received.text
    assert gateway.get("/v1/logistics/stock/BOWL-1").json()["onHand"] == "7"


def test_an_operator_registers_a_warehouse_a_merchant_splits_an_order_and_cancels_a_part(
    stack_gateway: tuple[Stack, httpx.Client], gateway: httpx.Client, merchant: str
) -> None:
    stack, client = stack_gateway
    ops = stack.operator_headers
    code = f"PARTNER-WH-CA-{uuid.uuid4().hex[:6].upper()}"
    warehouse = {
        "code": code,
        "name": "Partner Toronto",
        "operator": "Partner Logistics Inc.",
        "country": "CA",
        "address": "1 Example Rd, Mississauga ON",
        "timeZone": "America/Toronto",
    }
    assert gateway.post("/v1/logistics/warehouses", json={"warehouse": warehouse}, headers=idem()).status_code == 403
    key = idem()
    made = client.post("/v1/logistics/warehouses", json={"warehouse": warehouse}, headers={**ops, **key})
    assert made.status_code == 200, made.text
    assert client.post("/v1/logistics/warehouses", json={"warehouse": warehouse}, headers={**ops, **key}).json() == (
        made.json()
    )
    bad = client.post(
        "/v1/logistics/warehouses",
        json={"warehouse": {**warehouse, "code": "PARTNER-WH-CA-BAD", "timeZone": "Canada/Nowhere", "country": "CAN"}},
        headers={**ops, **idem()},
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"warehouse.time_zone", "warehouse.country"}
    patched = client.patch(f"/v1/logistics/warehouses/{code}", json={"name": "Partner YYZ"}, headers={**ops, **idem()})
    assert patched.status_code == 200, patched.text
    assert patched.json()["warehouse"]["name"] == "Partner YYZ"

    # The merchant's SKU A is only in the new warehouse, B only in Japan: one order, split in two.
    body = {"pushId": f"ca-{code}", "merchantCode": merchant, "kind": "INVENTORY_PUSH_KIND_SNAPSHOT"}
    pushed = client.post(
        f"/v1/logistics/warehouses/{code}/inventory",
        json={**body, "lines": [{"sku": "SPLIT-A", "onHand": "3"}]},
        headers=ops,
    )
    assert pushed.status_code == 200, pushed.text
    assert push(stack_gateway, merchant, f"jp-split-{code}", [{"sku": "SPLIT-B", "onHand": "2"}]).status_code == 200
    order = {
        "orderReference": "SO-SPLIT",
        "lines": [{"sku": "SPLIT-A", "quantity": "2"}, {"sku": "SPLIT-B", "quantity": "1"}],
    }
    assert gateway.post("/v1/logistics/reservations", json=order, headers=idem()).status_code == 400
    split = gateway.post("/v1/logistics/reservations", json={**order, "allowSplit": True}, headers=idem())
    assert split.status_code == 200, split.text
    parts = split.json()["reservations"]
    assert sorted(p["warehouseCode"] for p in parts) == sorted([code, WH])
    part = next(p for p in parts if p["warehouseCode"] == code)
    confirmed = gateway.post(f"/v1/logistics/reservations/{part['code']}:confirm", json={}, headers=idem())
    outbound = confirmed.json()["outboundOrder"]["code"]
    assert gateway.get("/v1/logistics/stock/SPLIT-A").json()["onHand"] == "1"
    cancelled = gateway.post(f"/v1/logistics/outbound-orders/{outbound}:cancel", json={}, headers=idem())
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["outboundOrder"]["status"] == "OUTBOUND_STATUS_CANCELLED"
    view = gateway.get("/v1/logistics/stock/SPLIT-A").json()
    assert (view["onHand"], view["available"]) == ("3", "3")
