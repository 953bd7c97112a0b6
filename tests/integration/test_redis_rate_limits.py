"""Rate-limit buckets in a real Redis: the in-process limiter's answers, one budget for several replicas, and
the replica's own buckets while Redis does not answer."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edge_settings import EdgeSettings
from gateway.rate_limits import RateLimiter, limiter_for
from gateway.redis_rate_limits import RedisRateLimiter

pytestmark = pytest.mark.redis


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """Keys of this test only, deleted afterwards."""
    name = f"xb-test:{uuid.uuid4().hex}:"
    yield name
    for key in client.scan_iter(match=f"{name}*"):
        client.delete(key)


def test_a_burst_passes_then_the_caller_waits_for_the_next_token(client: redis.Redis, prefix: str) -> None:
    clock = Clock()
    limiter = RedisRateLimiter(client, per_second=2.0, burst=3, now=clock, prefix=prefix)
    assert [limiter.take("alice", "/a") for _ in range(3)] == [None, None, None]
    assert limiter.take("alice", "/a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("alice", "/a") is None
    assert limiter.take("alice", "/a") == pytest.approx(0.5)
    assert limiter.take("bob", "/a") is None and limiter.take("alice", "/b") is None


def test_on_redis_own_clock_the_wait_is_the_time_to_the_next_token(client: redis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, per_second=0.01, burst=2, prefix=prefix)
    assert [limiter.take("alice", "/a") for _ in range(2)] == [None, None]
    wait = limiter.take("alice", "/a")
    assert wait is not None and 99.0 < wait <= 100.0  # Retry-After: 100
    # A bucket is forgotten once it would be full again, so Redis does not keep idle callers.
    ttl_ms = client.pttl(f"{prefix}alice|/a")
    assert 0 < ttl_ms <= 201_000


def test_two_replicas_share_one_budget(redis_url: str, prefix: str) -> None:
    clock = Clock()
    one, two = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    try:
        first = RedisRateLimiter(one, per_second=1.0, burst=3, now=clock, prefix=prefix)
        second = RedisRateLimiter(two, per_second=1.0, burst=3, now=clock, prefix=prefix)
        answers = [limiter.take("alice", "/a") for limiter in (first, second, first, second, first)]
        assert answers[:3] == [None, None, None]
        assert answers[3:] == [pytest.approx(1.0), pytest.approx(1.0)]
        clock.now += 1.0
        assert second.take("alice", "/a") is None
        assert first.take("alice", "/a") == pytest.approx(1.0)
    finally:
        one.close()
        two.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.floats(0, 5), max_size=40),
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 20),
)
def test_the_redis_bucket_answers_as_the_in_process_one_and_never_beyond_its_capacity(
    client: redis.Redis, prefix: str, gaps: list[float], rate: float, burst: int
) -> None:
    clock = Clock()
    local = RateLimiter(per_second=rate, burst=burst, clock=clock)
    shared = RedisRateLimiter(client, per_second=rate, burst=burst, now=clock, prefix=f"{prefix}{uuid.uuid4().hex}:")
    admitted = 0
    for gap in gaps:
        clock.now += gap
        expected, answer = local.take("alice", "/a"), shared.take("alice", "/a")
        assert (answer is None) == (expected is None)
        if answer is not None:
            assert answer == pytest.approx(expected, rel=1e-9, abs=1e-9)
        admitted += answer is None
    assert admitted <= burst + rate * sum(gaps) + 1e-6


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_redis_the_replica_limits_on_its_own_buckets() -> None:
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{_closed_port()}/0", per_second=0.01, burst=2)
    try:
        assert [limiter.take("alice", "/a") for _ in range(2)] == [None, None]
        wait = limiter.take("alice", "/a")
        assert wait is not None and wait > 99.0
        assert not limiter.using_redis
    finally:
        limiter.close()


class FlakyRedis:
    """The real client, but every script call fails while `down` is set (Redis restarting, a network cut)."""

    def __init__(self, real: redis.Redis) -> None:
        self.real = real
        self.down = False

    def register_script(self, source: str) -> Callable[..., Any]:
        script = self.real.register_script(source)

        def run(**kwargs: Any) -> Any:
            if self.down:
                raise redis.ConnectionError("Connection refused")
            return script(**kwargs)

        return run

    def close(self) -> None:
        self.real.close()


def test_after_an_outage_the_replica_goes_back_to_the_shared_buckets(client: redis.Redis, prefix: str) -> None:
    now, retry_clock = Clock(), Clock(0.0)
    flaky = FlakyRedis(client)
    limiter = RedisRateLimiter(flaky, per_second=1.0, burst=2, now=now, clock=retry_clock, retry_s=1.0, prefix=prefix)  # type: ignore[arg-type]
    other = RedisRateLimiter(client, per_second=1.0, burst=2, now=now, prefix=prefix)
    assert other.take("alice", "/a") is None and other.take("alice", "/a") is None  # the shared bucket is empty

    flaky.down = True
    # Its own bucket is full: the outage costs the shared budget, never the limit itself.
    assert [limiter.take("alice", "/a") for _ in range(2)] == [None, None]
    assert limiter.take("alice", "/a") is not None
    flaky.down = False
    assert limiter.take("alice", "/b") is None  # still within retry_s: its own buckets
    assert not limiter.using_redis

    retry_clock.now += 1.0
    assert limiter.take("alice", "/a") == pytest.approx(1.0)  # the shared bucket, still empty
    assert limiter.using_redis


def test_the_settings_choose_the_limiter(redis_url: str) -> None:
    assert isinstance(limiter_for(EdgeSettings()), RateLimiter)
    assert limiter_for(EdgeSettings(rate_limit_per_s=0, rate_limit_redis_url=redis_url)) is None
    shared = limiter_for(EdgeSettings(rate_limit_redis_url=redis_url))
    assert isinstance(shared, RedisRateLimiter)
    shared.close()
