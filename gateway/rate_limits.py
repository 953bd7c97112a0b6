"""Token buckets per caller and method: a burst is allowed, a sustained rate above the limit gets 429.

A caller is the SHA-256 of its credential when it sends one (so the limit holds before the key is even
verified, and a flood of bad keys cannot reach the identity service faster than the limit), else its address.

`RateLimiter` keeps the buckets in the process (the default: one gateway process, nothing to run beside it);
`gateway.redis_rate_limits.RedisRateLimiter` keeps the same buckets in Redis, so several gateway replicas share
one budget per caller and method. `limiter_for` picks one from the settings.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.edge_settings import EdgeSettings

MAX_BUCKETS = 100_000


def caller_of(authorization: str | None, address: str | None) -> str:
    if authorization:
        return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    return "addr:" + (address or "unknown")


class Limiter(Protocol):
    """What the doors ask before a call: None when it may go ahead, else the seconds until a token is free."""

    def take(self, caller: str, method: str) -> float | None: ...

    def close(self) -> None: ...


class RateLimiter:
    """`take(caller, method)`: None when the call may go ahead, else the seconds until a token is free."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.per_second = per_second
        self.burst = float(burst)
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, caller: str, method: str) -> float | None:
        if not self.enabled:
            return None
        now = self.clock()
        key = (caller, method)
        with self._lock:
            tokens, then = self._buckets.get(key, (self.burst, now))
            # A clock that steps back refills nothing (and the bucket keeps its later time).
            tokens = min(self.burst, tokens + max(0.0, now - then) * self.per_second)
            now = max(now, then)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._buckets.move_to_end(key)
                # A forgotten bucket comes back full: only idle callers are dropped first.
                while len(self._buckets) > self.max_buckets:
                    self._buckets.popitem(last=False)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def close(self) -> None:
        """Nothing to release: the buckets go with the process."""


def limiter_for(edge: EdgeSettings) -> Limiter | None:
    """The limiter the settings ask for: none when limits are off, Redis's when a URL is set, else in-process."""
    if edge.rate_limit_per_s <= 0:
        return None
    if edge.rate_limit_redis_url:
        from gateway.redis_rate_limits import RedisRateLimiter  # only a gateway configured for Redis needs it

        return RedisRateLimiter.from_url(edge.rate_limit_redis_url, edge.rate_limit_per_s, edge.rate_limit_burst)
    return RateLimiter(edge.rate_limit_per_s, edge.rate_limit_burst)
