"""FX and value-added offers as a client sees them: HTTP only, through the gateway to a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.payments import bootstrap as payments
from services.payments.fx.service_layer import desk as fx
from services.shared import codes
from services.shared.settings import Settings
from tests.e2e.stack import Stack, Tenant, http_gateway, start_stack
from tests.ledger_support import balance, fund, wallets


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    desk = payments.fx_desk(running.contexts["payments"])
    fx.set_ops_rate(desk, "USD", "CNY", Decimal("7.1234"), 60, "e2e")
    fx.set_ops_rate(desk, "USD", "JPY", Decimal("149.505"), 60, "e2e")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with http_gateway(stack) as opened:
        yield opened


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    """A merchant onboarded for this test."""
    return stack.onboard()


@pytest.fixture
def gateway(client: httpx.Client, tenant: Tenant) -> httpx.Client:
    """The client, calling as `tenant`."""
    client.headers.update(tenant.headers)
    return client


def quote_body(merchant: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchantCode": merchant,
        "sellCurrency": "USD",
        "buyCurrency": "JPY",
        "sellAmount": {"currencyCode": "USD", "units": "100"},
        "lockSeconds": 300,
    }
    body.update(fields)
    return body


def test_a_client_locks_a_quote_over_rest_and_reads_it_back(gateway: httpx.Client, tenant: Tenant) -> None:
    merchant = tenant.merchant_code
    rate = gateway.get("/v1/fx/rates", params={"sellCurrency": "USD", "buyCurrency": "CNY", "merchantCode": merchant})
    assert rate.status_code == 200, rate.text
    assert (rate.json()["source"], rate.json()["referenceRate"], rate.json()["spreadBps"]) == ("ops", "7.1234", 60)

    created = gateway.post("/v1/fx/quotes", json=quote_body(merchant), headers={"Idempotency-Key": "e2e-quote-1"})
    assert created.status_code == 200, created.text
    quote = created.json()
    # 149.505 * (1 - 105 bps) = 147.9352... per USD; 100 USD -> 14793.52... -> 14794 JPY (no decimals).
    assert quote["buy"] == {"currencyCode": "JPY", "units": "14794", "nanos": 0}
    assert quote["status"] == "QUOTE_STATUS_OPEN" and quote["rate"]["lockPremiumBps"] == 5
    again = gateway.post("/v1/fx/quotes", json=quote_body(merchant), headers={"Idempotency-Key": "e2e-quote-1"})
    assert again.json() == quote
    assert gateway.get(f"/v1/fx/quotes/{quote['code']}").json() == quote


@pytest.mark.parametrize(
    ("fields", "status", "reason", "field"),
    [
        ({"buyCurrency": "USD"}, 400, "VALIDATION_FAILED", "buy_currency"),
        (
            {"sellCurrency": "ABC", "sellAmount": {"currencyCode": "ABC", "units": "1"}},
            400,
            "UNKNOWN_CURRENCY",
            "sell_currency",
        ),
        ({"lockSeconds": 90000}, 400, "VALIDATION_FAILED", "lock_seconds"),
        (
            {"sellAmount": {"currencyCode": "USD", "units": "1", "nanos": 5000000}},
            400,
            "VALIDATION_FAILED",
            "sell_amount",
        ),
    ],
)
def test_bad_quotes_are_problem_details_naming_the_field(
    gateway: httpx.Client, tenant: Tenant, fields: dict[str, Any], status: int, reason: str, field: str
) -> None:
    response = gateway.post(
        "/v1/fx/quotes",
        json=quote_body(tenant.merchant_code, **fields),
        headers={"Idempotency-Key": codes.generate("QT")},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == reason
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_pair_without_a_rate_is_a_problem_naming_the_pair(gateway: httpx.Client, tenant: Tenant) -> None:
    response = gateway.post(
        "/v1/fx/quotes",
        json=quote_body(tenant.merchant_code, buyCurrency="XOF"),
        headers={"Idempotency-Key": codes.generate("QT")},
    )
    assert response.status_code == 404
    assert response.json()["reason"] == "RATE_UNAVAILABLE" and "USD/XOF" in response.json()["detail"]


def test_an_insurance_offer_over_rest_is_accepted_once(gateway: httpx.Client, tenant: Tenant) -> None:
    merchant = tenant.merchant_code
    offer = gateway.post(
        "/v1/vas/insurance-quotes",
        json={
            "merchantCode": merchant,
            "declaredValue": {"currencyCode": "USD", "units": "2000"},
            "originCountry": "CN",
            "destinationCountry": "US",
            "goodsClass": "BATTERIES",
        },
        headers={"Idempotency-Key": codes.generate("QT")},
    )
    assert offer.status_code == 200, offer.text
    # 2000 * 0.8 % * 1.25 (intercontinental) = 20.00 USD
    assert offer.json()["amount"] == {"currencyCode": "USD", "units": "20", "nanos": 0}
    code = offer.json()["code"]
    accepted = gateway.post(
        f"/v1/vas/offers/{code}:accept", json={"merchantCode": merchant}, headers={"Idempotency-Key": "acc-1"}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "QUOTE_STATUS_ACCEPTED"
    twice = gateway.post(
        f"/v1/vas/offers/{code}:accept", json={"merchantCode": merchant}, headers={"Idempotency-Key": "acc-2"}
    )
    assert twice.status_code == 400 and twice.json()["reason"] == "QUOTE_USED"


def test_a_client_converts_a_quote_over_rest_once(stack: Stack, gateway: httpx.Client, tenant: Tenant) -> None:
    usd = wallets(stack.contexts["payments"], "USD", owner=tenant.merchant_code)
    fund(stack.contexts["payments"], usd, "250.00")
    quote = gateway.post(
        "/v1/fx/quotes",
        json=quote_body(usd.merchant, buyCurrency="CNY", sellAmount={"currencyCode": "USD", "units": "200"}),
        headers={"Idempotency-Key": codes.generate("QT")},
    ).json()
    converted = gateway.post(
        f"/v1/fx/quotes/{quote['code']}:convert",
        json={"merchantCode": usd.merchant},
        headers={"Idempotency-Key": "cv-1"},
    )
    assert converted.status_code == 200, converted.text
    conversion = converted.json()
    assert conversion["buy"] == quote["buy"] and conversion["quoteCode"] == quote["code"]
    assert [p["purpose"] for p in conversion["postings"]] == ["fx_sell_leg", "fx_buy_leg", "fx_spread"]
    replay = gateway.post(
        f"/v1/fx/quotes/{quote['code']}:convert",
        json={"merchantCode": usd.merchant},
        headers={"Idempotency-Key": "cv-1"},
    )
    assert replay.json() == conversion
    second = gateway.post(
        f"/v1/fx/quotes/{quote['code']}:convert",
        json={"merchantCode": usd.merchant},
        headers={"Idempotency-Key": "cv-2"},
    )
    assert second.status_code == 400 and second.json()["reason"] == "QUOTE_USED"
    assert balance(stack.contexts["payments"], usd.available.code).posted.amount == Decimal("50.00")
    read = gateway.get(f"/v1/fx/quotes/{quote['code']}").json()
    assert (read["status"], read["conversionCode"]) == ("QUOTE_STATUS_CONVERTED", conversion["code"])


def test_a_conversion_beyond_the_balance_is_a_problem_and_moves_nothing(
    stack: Stack, gateway: httpx.Client, tenant: Tenant
) -> None:
    usd = wallets(stack.contexts["payments"], "USD", owner=tenant.merchant_code)
    fund(stack.contexts["payments"], usd, "10.00")
    quote = gateway.post(
        "/v1/fx/quotes",
        json=quote_body(usd.merchant, buyCurrency="CNY"),
        headers={"Idempotency-Key": codes.generate("QT")},
    ).json()
    refused = gateway.post(
        f"/v1/fx/quotes/{quote['code']}:convert",
        json={"merchantCode": usd.merchant},
        headers={"Idempotency-Key": "cv-3"},
    )
    assert refused.status_code == 400 and refused.json()["reason"] == "INSUFFICIENT_FUNDS"
    assert balance(stack.contexts["payments"], usd.available.code).posted.amount == Decimal("10.00")


def test_a_stale_rate_is_a_503_problem_saying_how_old_it_is(gateway: httpx.Client, tenant: Tenant) -> None:
    # EUR/GBP has no ops rate here, and the ECB file in data/ ends 2026-04-13: months beyond its 5-day limit.
    response = gateway.post(
        "/v1/fx/quotes",
        json=quote_body(
            tenant.merchant_code,
            sellCurrency="EUR",
            buyCurrency="GBP",
            sellAmount={"currencyCode": "EUR", "units": "10"},
        ),
        headers={"Idempotency-Key": codes.generate("QT")},
    )
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["reason"] == "RATE_STALE"
    assert "EUR/GBP" in problem["detail"] and "ecb: stale" in problem["detail"] and "limit 5d" in problem["detail"]
