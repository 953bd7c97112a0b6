"""Rate limits through the REST gateway on the whole platform: 429 with Retry-After from one gateway, the
same budget shared by two gateways over Redis, and limits kept while Redis is unreachable."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.edge_settings import EdgeSettings
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, start_stack

JPY = "/v1/currencies/JPY"
RATES = "/v1/fx/reference-rates"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    yield running
    running.stop()


def gateway(stack: Stack, **edge: object) -> AsgiClient:
    settings = EdgeSettings(audit=False, rate_limit_per_s=0.01, rate_limit_burst=2, **edge)  # type: ignore[arg-type]
    return AsgiClient(create_app(stack.settings, edge=settings))


def assert_limited(response: object, retry_after: str = "100") -> None:
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.headers["retry-after"] == retry_after  # type: ignore[attr-defined]
    assert response.json()["reason"] == "RATE_LIMITED"  # type: ignore[attr-defined]


def test_one_gateway_answers_429_with_retry_after_past_the_burst(stack: Stack) -> None:
    client = gateway(stack)
    try:
        headers = stack.onboard(f"Limited {uuid.uuid4().hex[:8]} Ltd", "DE").headers
        assert [client.get(JPY, headers=headers).status_code for _ in range(2)] == [200, 200]
        assert_limited(client.get(JPY, headers=headers))
        assert_limited(client.get("/v1/currencies/EUR", headers=headers))  # the same method: one bucket
        rates = client.get(RATES, params={"base": "USD", "quote": "CNY", "date": "2024-03-15"}, headers=headers)
        assert rates.status_code == 200  # another method has a bucket of its own
    finally:
        client.close()


@pytest.mark.redis
def test_two_gateways_share_one_budget_in_redis(stack: Stack, redis_url: str) -> None:
    first, second = gateway(stack, rate_limit_redis_url=redis_url), gateway(stack, rate_limit_redis_url=redis_url)
    # A merchant of its own: its key's buckets are new in Redis.
    headers = stack.onboard(f"Shared {uuid.uuid4().hex[:8]} Ltd", "DE").headers
    try:
        assert first.get(JPY, headers=headers).status_code == 200
        assert second.get(JPY, headers=headers).status_code == 200
        assert_limited(first.get(JPY, headers=headers))
        assert_limited(second.get(JPY, headers=headers))
    finally:
        first.close()
        second.close()


def test_without_redis_each_gateway_still_limits(stack: Stack) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    client = gateway(stack, rate_limit_redis_url=f"redis://127.0.0.1:{closed}/0")
    try:
        headers = stack.onboard(f"Fallback {uuid.uuid4().hex[:8]} Ltd", "DE").headers
        assert [client.get(JPY, headers=headers).status_code for _ in range(2)] == [200, 200]
        assert_limited(client.get(JPY, headers=headers))
    finally:
        client.close()
