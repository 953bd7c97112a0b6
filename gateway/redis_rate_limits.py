"""The token buckets of gateway/rate_limits.py kept in Redis, so every gateway replica draws on one budget.

One Lua script reads a bucket, refills it for the time passed, takes a token or says how long until one is
free, and writes it back: Redis runs a script alone, so two replicas (or two threads) never both spend the
last token. The arithmetic is the in-process limiter's (same burst, same refill, same wait), so Retry-After
means the same whichever limiter answered. Time is Redis's own clock (`TIME`), so replicas whose clocks
disagree still share one bucket; a bucket that has refilled is the same as none, so Redis forgets it then.

When Redis does not answer, the replica falls back to its own in-process buckets for `retry_s` and then
tries Redis again (docs/adr/0029-gateway-replicas-share-state.md): the limits stay on, each replica
allowing the rate, rather than every call failing or none being limited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.rate_limits import RateLimiter
from services.shared.logs import get_logger

log = get_logger(__name__)

KEY_PREFIX = "xb:ratelimit:"
CONNECT_TIMEOUT_S = 0.1
"""How long a call may wait for Redis before its replica falls back to its own buckets."""
RETRY_S = 1.0
"""After a failure, how long the replica uses its own buckets before asking Redis again."""

# KEYS[1] the bucket; ARGV[1] tokens a second, ARGV[2] the burst, ARGV[3] now in seconds ('' = Redis's clock).
# Numbers are stored and returned as %.17g strings: Redis would cut a Lua number to 14 digits or an integer.
TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[3])
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
now = math.max(now, at)
local admitted = tokens >= 1
if admitted then
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
if admitted then
  return {1}
end
return {0, string.format('%.17g', (1 - tokens) / rate)}
"""


class RedisRateLimiter:
    """`take(caller, method)` on buckets in Redis; the replica's own buckets while Redis is unreachable."""

    def __init__(
        self,
        client: redis.Redis,
        per_second: float,
        burst: int,
        *,
        now: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_s: float = RETRY_S,
        prefix: str = KEY_PREFIX,
    ) -> None:
        """`now`: the buckets' time in seconds (tests inject one; None uses Redis's clock).
        `clock`: when to retry Redis after a failure."""
        self.client = client
        self.per_second = per_second
        self.burst = burst
        self.prefix = prefix
        self.retry_s = retry_s
        self._now = now
        self._clock = clock
        self._script = client.register_script(TAKE)
        self.fallback = RateLimiter(per_second, burst, clock=now or time.monotonic)
        self._lock = threading.Lock()
        self._down_until: float | None = None

    @classmethod
    def from_url(cls, url: str, per_second: float, burst: int) -> RedisRateLimiter:
        # No retries inside the client: one timeout is what a call may lose before the fallback takes over.
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S, retry=Retry(NoBackoff(), 0)
        )
        return cls(client, per_second, burst)

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    @property
    def using_redis(self) -> bool:
        """False while the replica counts on its own buckets after Redis failed."""
        return self._down_until is None

    def take(self, caller: str, method: str) -> float | None:
        if not self.enabled:
            return None
        down_until = self._down_until
        if down_until is not None and self._clock() < down_until:
            return self.fallback.take(caller, method)
        now = "" if self._now is None else repr(float(self._now()))
        try:
            answer: Any = self._script(
                keys=[f"{self.prefix}{caller}|{method}"], args=[self.per_second, self.burst, now]
            )
        except redis.RedisError as error:
            with self._lock:
                if self._down_until is None:
                    log.warning("rate_limit_redis_unavailable", error=type(error).__name__, fallback="in-process")
                self._down_until = self._clock() + self.retry_s
            return self.fallback.take(caller, method)
        if down_until is not None:
            with self._lock:
                if self._down_until is not None:
                    log.info("rate_limit_redis_back")
                self._down_until = None
        if int(answer[0]) == 1:
            return None
        return float(answer[1])

    def close(self) -> None:
        self.client.close()
