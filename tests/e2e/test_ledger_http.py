"""The ledger as an HTTP client sees it: collections, settlement, refunds, balances and errors via the gateway."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from services.shared.settings import Settings
from tests.e2e.stack import start_stack, unused_port
from tests.ledger_support import key, merchant


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    port = unused_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(stack.settings), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="gateway-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(10)
    stack.stop()


def test_collect_settle_refund_and_read_balances_over_http(gateway: httpx.Client) -> None:
    m = merchant()
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
    assert gateway.get("/v1/ledger:verify").json()["ok"] is True


def test_errors_are_problem_json_naming_the_field(gateway: httpx.Client) -> None:
    m = merchant()
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

    missing = gateway.get("/v1/ledger/accounts/ACG0000000ABCDEFG1")
    assert missing.status_code in (400, 404)
    assert missing.headers["content-type"] == "application/problem+json"
