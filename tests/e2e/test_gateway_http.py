"""The platform as a client sees it: HTTP only, to a real uvicorn server on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.registry import SERVICES
from services.shared.settings import Settings
from tests.e2e.stack import available_services, stack_and_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with stack_and_gateway(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)) as (_, client):
        yield client


def test_a_client_reads_currencies_rates_and_errors_over_http(gateway: httpx.Client) -> None:
    yen = gateway.get("/v1/currencies/JPY", headers={"X-Request-Id": "e2e-1"})
    assert yen.status_code == 200
    assert yen.headers["x-request-id"] == "e2e-1"
    assert yen.json()["minorUnit"] == 0

    weekend = gateway.get("/v1/fx/reference-rates", params={"base": "USD", "quote": "CNY", "date": "2024-03-16"})
    assert weekend.json()["rateDate"] == "2024-03-15"

    bad = gateway.get("/v1/fx/reference-rates", params={"base": "USD", "quote": "CNY", "date": "16/03/2024"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["date"]


def test_oversized_request_is_refused_over_the_wire(gateway: httpx.Client) -> None:
    response = gateway.request("GET", "/v1/currencies/JPY", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["reason"] == "PAYLOAD_TOO_LARGE"


def test_openapi_health_and_metrics_are_served(gateway: httpx.Client) -> None:
    document = gateway.get("/openapi.json").json()
    assert "/v1/currencies/{code}" in document["paths"]
    health = gateway.get("/healthz")
    running = set(available_services())
    assert {name for name, status in health.json()["services"].items() if status == "SERVING"} == running
    assert health.status_code == (200 if running == set(SERVICES) else 503)
    assert "xborder_http_seconds" in gateway.get("/metrics").text


@pytest.mark.skipif("compliance" not in available_services(), reason="the compliance service is not here yet")
def test_hs_code_search_over_http(gateway: httpx.Client) -> None:
    found = gateway.get("/v1/hs-codes", params={"query": "lithium"}).json()
    assert found["hsCodes"]
    assert gateway.get("/v1/hs-codes/850760").json()["code"] == "850760"
