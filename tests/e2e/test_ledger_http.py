"""The ledger as an HTTP client sees it: collections, settlement, refunds, balances and errors via the gateway."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import Stack, Tenant
from tests.ledger_support import key


@pytest.fixture
def tenant(stack_gateway: tuple[Stack, httpx.Client]) -> Tenant:
    """A merchant onboarded for this test (balances of its own)."""
    return stack_gateway[0].onboard()


@pytest.fixture
def gateway(stack_gateway: tuple[Stack, httpx.Client], tenant: Tenant) -> httpx.Client:
    """The client, calling as `tenant`."""
    client = stack_gateway[1]
    client.headers.update(tenant.headers)
    return client


def test_collect_settle_refund_and_read_balances_over_http(
    stack_gateway: tuple[Stack, httpx.Client], gateway: httpx.Client, tenant: Tenant
) -> None:
    m = tenant.merchant_code
    body = {
        "merchantCode": m,
        "partner": "STRIPE",
        "partnerRef": key("ch"),
        "method": "COLLECTION_METHOD_CARD",
        "gross": {"currencyCode": "EUR", "units": "120", "nanos": 500000000},
        "partnerFee": {"currencyCode": "EUR", "units": "1"},
    }
    idem = {"Idempotency-Key": key("http")}
    first = gateway.post("/v1/collections", json=body, headers=idem)
    assert first.status_code == 200, first.text
    replay = gateway.post("/v1/collections", json=body, headers=idem)
    assert replay.json() == first.json()
    collection = first.json()["collection"]
    assert collection["pending"] == {"currencyCode": "EUR", "units": "119", "nanos": 500000000}

    settled = gateway.post(f"/v1/collections/{collection['code']}:settle", json={}, headers={"Idempotency-Key": key()})
    assert settled.status_code == 200, settled.text
    # STANDARD EUR: 2.9 % of 120.50 = 3.4945 -> 3.49, + 0.25 fixed = 3.74
    assert settled.json()["collection"]["platformFee"] == {"currencyCode": "EUR", "units": "3", "nanos": 740000000}

    refund = gateway.post(
        f"/v1/collections/{collection['code']}/refunds",
        json={"amount": {"currencyCode": "EUR", "units": "20"}},
        headers={"Idempotency-Key": key()},
    )
    assert refund.status_code == 200, refund.text
    balances = gateway.get(f"/v1/merchants/{m}/balances").json()["balances"]
    # 120.50 - 1.00 - 3.74 - 20.00
    assert balances == [
        {
            "currency": "EUR",
            "pending": {"currencyCode": "EUR", "units": "0", "nanos": 0},
            "available": {"currencyCode": "EUR", "units": "95", "nanos": 760000000},
            "reserved": {"currencyCode": "EUR", "units": "0", "nanos": 0},
        }
    ]
    assert gateway.get("/v1/ledger:verify", headers=stack_gateway[0].operator_headers).json()["ok"] is True


def test_errors_are_problem_json_naming_the_field(
    stack_gateway: tuple[Stack, httpx.Client], gateway: httpx.Client, tenant: Tenant
) -> None:
    m = tenant.merchant_code
    yen = gateway.post(
        "/v1/collections",
        json={
            "merchantCode": m,
            "partner": "STRIPE",
            "partnerRef": key("ch"),
            "method": "COLLECTION_METHOD_CARD",
            "gross": {"currencyCode": "JPY", "units": "100", "nanos": 500000000},
        },
        headers={"Idempotency-Key": key()},
    )
    assert yen.status_code == 400 and yen.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in yen.json()["errors"]] == ["gross"]

    collection = gateway.post(
        "/v1/collections",
        json={
            "merchantCode": m,
            "partner": "STRIPE",
            "partnerRef": key("ch"),
            "method": "COLLECTION_METHOD_CARD",
            "gross": {"currencyCode": "USD", "units": "10"},
        },
        headers={"Idempotency-Key": key()},
    ).json()["collection"]
    too_much = gateway.post(
        f"/v1/collections/{collection['code']}/refunds",
        json={"amount": {"currencyCode": "USD", "units": "11"}},
        headers={"Idempotency-Key": key()},
    )
    assert too_much.status_code == 400
    assert too_much.json()["reason"] == "REFUND_EXCEEDS_COLLECTED"
    assert [e["field"] for e in too_much.json()["errors"]] == ["amount"]

    missing = gateway.get("/v1/ledger/accounts/ACG0000000ABCDEFG1", headers=stack_gateway[0].operator_headers)
    assert missing.status_code in (400, 404)
    assert missing.headers["content-type"] == "application/problem+json"
