"""Rate limits (token buckets on a fake clock), the edge's XB_* settings, and the security/CORS headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.edge_headers import EdgeHeadersMiddleware
from gateway.edge_settings import EdgeSettings
from gateway.rate_limits import RateLimiter, caller_of
from services.shared.errors import ConfigurationError
from tests.e2e.stack import AsgiClient


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_caller_waits_for_the_next_token() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=2.0, burst=3, clock=clock)
    assert [limiter.take("alice", "/a") for _ in range(3)] == [None, None, None]
    assert limiter.take("alice", "/a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("alice", "/a") is None
    assert limiter.take("alice", "/a") == pytest.approx(0.5)


def test_buckets_are_per_caller_and_per_method() -> None:
    limiter = RateLimiter(per_second=1.0, burst=1, clock=Clock())
    assert limiter.take("alice", "/a") is None
    assert limiter.take("alice", "/a") is not None
    assert limiter.take("alice", "/b") is None
    assert limiter.take("bob", "/a") is None


def test_a_zero_rate_turns_limits_off() -> None:
    limiter = RateLimiter(per_second=0.0, burst=1, clock=Clock())
    assert all(limiter.take("alice", "/a") is None for _ in range(1000))


@given(st.lists(st.floats(0, 5), max_size=60), st.floats(0.1, 50), st.integers(1, 20))
def test_no_caller_ever_gets_more_than_the_burst_plus_the_refill(gaps: list[float], rate: float, burst: int) -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=rate, burst=burst, clock=clock)
    admitted = 0
    for gap in gaps:
        clock.now += gap
        admitted += limiter.take("alice", "/a") is None
    assert admitted <= burst + rate * sum(gaps) + 1e-6


def test_the_caller_is_its_credential_hashed_else_its_address() -> None:
    keyed = caller_of("Bearer xb_live_secret", "10.0.0.1")
    assert "secret" not in keyed and keyed == caller_of("Bearer xb_live_secret", "10.0.0.2")
    assert caller_of(None, "10.0.0.1") != caller_of(None, "10.0.0.2")


def test_edge_settings_from_the_environment() -> None:
    assert EdgeSettings.from_env({}) == EdgeSettings()
    read = EdgeSettings.from_env(
        {
            "XB_AUDIT": "false",
            "XB_RATE_LIMIT_PER_S": "0",
            "XB_RATE_LIMIT_BURST": "7",
            "XB_CORS_ORIGINS": "https://shop.example, https://ops.example/",
        }
    )
    assert (read.audit, read.rate_limit_per_s, read.rate_limit_burst) == (False, 0.0, 7)
    assert read.cors_origins == ("https://shop.example", "https://ops.example")


@pytest.mark.parametrize(
    ("name", "value"),
    [("XB_CORS_ORIGINS", "*"), ("XB_CORS_ORIGINS", "shop.example"), ("XB_RATE_LIMIT_BURST", "0"), ("XB_AUDIT", "x")],
)
def test_a_bad_edge_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        EdgeSettings.from_env({name: value})


def _client(origins: tuple[str, ...] = ()) -> AsgiClient:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/v1/hello", hello, methods=["GET", "POST"])])
    return AsgiClient(EdgeHeadersMiddleware(app, origins))


def test_every_response_carries_the_security_headers() -> None:
    response = _client().get("/v1/hello")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "cache-control" not in response.headers  # public answers may be cached
    authenticated = _client().get("/v1/hello", headers={"Authorization": "Bearer k"})
    assert authenticated.headers["cache-control"] == "no-store"


def test_cors_is_off_unless_origins_are_configured() -> None:
    response = _client().get("/v1/hello", headers={"Origin": "https://evil.example"})
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    preflight = _client().request(
        "OPTIONS", "/v1/hello", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


def test_cors_answers_only_the_configured_origins() -> None:
    client = _client(("https://shop.example",))
    allowed = client.get("/v1/hello", headers={"Origin": "https://shop.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "Origin" in allowed.headers["vary"]
    other = client.get("/v1/hello", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.request(
        "OPTIONS", "/v1/hello", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["x-content-type-options"] == "nosniff"


def test_the_redis_url_is_read_and_a_bad_one_refused_without_echoing_it() -> None:
    read = EdgeSettings.from_env({"XB_RATE_LIMIT_REDIS_URL": "redis://:s3cret@cache:6379/0"})
    assert read.rate_limit_redis_url == "redis://:s3cret@cache:6379/0"
    assert "s3cret" not in repr(read)
    with pytest.raises(ConfigurationError) as refused:
        EdgeSettings.from_env({"XB_RATE_LIMIT_REDIS_URL": "http://:s3cret@cache:6379"})
    assert "XB_RATE_LIMIT_REDIS_URL" in str(refused.value) and "s3cret" not in str(refused.value)
