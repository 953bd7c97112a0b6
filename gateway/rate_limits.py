"""Token buckets per caller and method: a burst is allowed, a sustained rate above the limit gets 429.

A caller is the SHA-256 of its credential when it sends one (so the limit holds before the key is even
verified, and a flood of bad keys cannot reach the identity service faster than the limit), else its address.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_BUCKETS = 100_000


def caller_of(authorization: str | None, address: str | None) -> str:
    if authorization:
        return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    return "addr:" + (address or "unknown")


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
            tokens = min(self.burst, tokens + (now - then) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._buckets.move_to_end(key)
                # A forgotten bucket comes back full: only idle callers are dropped first.
                while len(self._buckets) > self.max_buckets:
                    self._buckets.popitem(last=False)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second
