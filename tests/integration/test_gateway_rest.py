"""The REST gateway in front of the real services: routes, problems, request ids, health and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gateway.app import build_app, create_app
from gateway.descriptors import discover
from services.registry import bootstrap_module
from services.shared.grpc_server import method_handlers
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, chunks, start_stack, unused_port

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def stack(module_any_settings: Settings) -> Iterator[Stack]:
    """Every service behind the gateway, on SQLite and again on PostgreSQL."""
    running = start_stack(module_any_settings)
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["forwarding", "in-process"])
def rest(request: pytest.FixtureRequest, stack: Stack) -> Iterator[AsgiClient]:
    """The REST gateway as deployed (gRPC to the services) and as embedded (servicers called in-process)."""
    local = {}
    if request.param == "in-process":
        for name, context in stack.contexts.items():
            local.update(method_handlers(bootstrap_module(name).registrations(context)))
    app = create_app(stack.settings, local)
    client = AsgiClient(app)
    yield client
    client.close()
    app.state.backends.close()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://xborder.io/problems/")
    assert body["correlation_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["detail"] for e in body.get("errors", [])}


def test_currency_response_body_is_the_currency_with_every_field(rest: AsgiClient) -> None:
    response = rest.get("/v1/currencies/JPY")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": "JPY",
        "numericCode": "392",
        "name": "Yen",
        "minorUnit": 0,
        "entities": ["JAPAN"],
        "withdrawn": "",
        "isFundOrMetal": False,
    }


def test_list_currencies_takes_the_filter_by_either_json_or_proto_name(rest: AsgiClient) -> None:
    active = {c["code"] for c in rest.get("/v1/currencies").json()["currencies"]}
    camel = {c["code"] for c in rest.get("/v1/currencies?includeWithdrawn=true").json()["currencies"]}
    snake = {c["code"] for c in rest.get("/v1/currencies?include_withdrawn=true").json()["currencies"]}
    assert "DEM" not in active and "DEM" in camel
    assert camel == snake


def test_reference_rate_on_a_publication_day(rest: AsgiClient) -> None:
    rate = rest.get("/v1/fx/reference-rates?base=USD&quote=CNY&date=2024-03-15").json()
    assert (rate["base"], rate["quote"], rate["rateDate"]) == ("USD", "CNY", "2024-03-15")
    assert rate["previousDayApplied"] is False
    assert rate["rate"].startswith("7.19")


def test_reference_rate_on_a_weekend_uses_the_friday_rate(rest: AsgiClient) -> None:
    rate = rest.get("/v1/fx/reference-rates", params={"base": "USD", "quote": "CNY", "date": "2024-03-16"}).json()
    assert (rate["requestedDate"], rate["rateDate"], rate["previousDayApplied"]) == ("2024-03-16", "2024-03-15", True)


def test_unknown_query_parameter_is_refused_by_name(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/fx/reference-rates?base=USD&quote=CNY&dat=2024-03-15"), 400)
    assert body["reason"] == "VALIDATION_FAILED"
    assert fields(body) == {"dat": "unknown query parameter"}


def test_badly_typed_query_parameter_is_refused_by_name(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/currencies?includeWithdrawn=maybe"), 400)
    assert "includeWithdrawn" in fields(body)


def test_single_valued_parameter_given_twice_is_refused(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/fx/reference-rates?base=USD&base=EUR&quote=CNY"), 400)
    assert "base" in fields(body)


def test_malformed_date_names_the_date_field(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/fx/reference-rates?base=USD&quote=CNY&date=2024-3-15"), 400)
    assert body["reason"] == "VALIDATION_FAILED"
    assert "date" in fields(body)
    assert body["instance"] == "/v1/fx/reference-rates"


def test_unknown_currency_names_the_field(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/fx/reference-rates?base=USD&quote=XYZ&date=2024-03-15"), 400)
    assert body["reason"] == "UNKNOWN_CURRENCY"
    assert list(fields(body)) == ["quote"]
    assert body["type"] == "https://xborder.io/problems/unknown-currency"


def test_missing_currency_is_a_404_problem(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/currencies/QQQ"), 404)
    assert body["reason"] == "NOT_FOUND"
    assert body["instance"] == "/v1/currencies/QQQ"
    assert "QQQ" in body["detail"]


def test_unknown_route_and_wrong_method_are_problems(rest: AsgiClient) -> None:
    assert problem(rest.get("/v1/no-such-thing"), 404)["reason"] == "NOT_FOUND"
    response = rest.request("DELETE", "/v1/currencies/JPY")
    assert problem(response, 405)["reason"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"
    assert problem(rest.post("/healthz"), 405)["reason"] == "METHOD_NOT_ALLOWED"


def test_oversized_body_is_refused_from_its_declared_length(rest: AsgiClient, stack: Stack) -> None:
    too_big = b"x" * (stack.settings.http_max_body_bytes + 1)
    body = problem(rest.request("GET", "/v1/currencies/JPY", content=too_big), 413)
    assert body["reason"] == "PAYLOAD_TOO_LARGE"


def test_oversized_streamed_body_is_refused_while_reading(rest: AsgiClient, stack: Stack) -> None:
    count = stack.settings.http_max_body_bytes // 65536 + 2
    body = problem(rest.request("GET", "/v1/currencies/JPY", content=chunks(count, 65536)), 413)
    assert body["reason"] == "PAYLOAD_TOO_LARGE"


def test_a_body_on_a_route_without_one_is_refused(rest: AsgiClient) -> None:
    body = problem(rest.request("GET", "/v1/currencies/JPY", content=b'{"code": "USD"}'), 400)
    assert "body" in fields(body)


def test_request_id_round_trip(rest: AsgiClient) -> None:
    ok = rest.get("/v1/currencies/USD", headers={"X-Request-Id": "order-42.retry_1"})
    assert ok.headers["x-request-id"] == "order-42.retry_1"
    failed = rest.get("/v1/currencies/QQQ", headers={"X-Request-Id": "lookup-7"})
    assert failed.headers["x-request-id"] == "lookup-7" == failed.json()["correlation_id"]


def test_unsafe_or_missing_request_ids_are_replaced(rest: AsgiClient) -> None:
    unsafe = rest.get("/v1/currencies/USD", headers={"X-Request-Id": "bad id\twith spaces"}).headers["x-request-id"]
    too_long = rest.get("/v1/currencies/USD", headers={"X-Request-Id": "a" * 129}).headers["x-request-id"]
    first = rest.get("/v1/currencies/USD").headers["x-request-id"]
    second = rest.get("/v1/currencies/USD").headers["x-request-id"]
    assert unsafe != "bad id\twith spaces" and too_long != "a" * 129
    assert len({unsafe, too_long, first, second}) == 4


def test_request_timeout_header_must_be_positive_seconds(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/currencies/USD", headers={"X-Request-Timeout": "soon"}), 400)
    assert "X-Request-Timeout" in fields(body)
    assert rest.get("/v1/currencies/USD", headers={"X-Request-Timeout": "2.5"}).status_code == 200


def test_metrics_are_labelled_by_route_template(rest: AsgiClient) -> None:
    rest.get("/v1/currencies/EUR")
    text = rest.get("/metrics").text
    assert 'xborder_http_seconds_count{route="/v1/currencies/{code}",status="200"}' in text
    assert "/v1/currencies/EUR" not in text


def test_healthz_is_ok_when_every_backend_serves(stack: Stack) -> None:
    running = [s for s in discover() if s.service in stack.servers]
    app = build_app(stack.settings, running)
    client = AsgiClient(app)
    try:
        response = client.get("/healthz")
    finally:
        client.close()
        app.state.backends.close()
    assert response.status_code == 200
    assert response.json()["services"] == dict.fromkeys(sorted(stack.servers), "SERVING")


def test_healthz_names_the_backend_that_is_down(stack: Stack) -> None:
    down = replace(stack.settings, service_ports={**stack.settings.service_ports, "payments": unused_port()})
    app = create_app(down)
    client = AsgiClient(app)
    try:
        health = client.get("/healthz")
        call = client.get("/v1/currencies/JPY")
    finally:
        client.close()
        app.state.backends.close()
    assert health.status_code == 503
    assert "payments" in health.json()["not_serving"]
    body = problem(call, 503)
    assert body["reason"] == "UNAVAILABLE"
    assert "127.0.0.1" not in body["detail"]  # transport errors name internal addresses; callers never see them


def test_hs_code_search(rest: AsgiClient) -> None:
    found = rest.get("/v1/hs-codes?query=lithium").json()
    codes = {entry["code"] for entry in found["hsCodes"]}
    assert "850650" in codes or "850760" in codes
    assert found["totalSize"] >= len(found["hsCodes"])


def test_hs_code_by_code(rest: AsgiClient) -> None:
    entry = rest.get("/v1/hs-codes/850760").json()
    assert entry["code"] == "850760"
    assert entry["level"] == 6
    assert entry["heading"]["code"] == "8507"


def test_hs_code_bad_page_size_type_is_refused(rest: AsgiClient) -> None:
    body = problem(rest.get("/v1/hs-codes?query=lithium&pageSize=many"), 400)
    assert "pageSize" in fields(body)


def test_country_by_code(rest: AsgiClient) -> None:
    country = rest.get("/v1/countries/CN").json()
    assert (country["alpha2"], country["alpha3"], country["currencyCode"]) == ("CN", "CHN", "CNY")
    assert country["nameZh"] == "中国"
