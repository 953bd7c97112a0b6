"""Rate providers behind one interface, and the chain that asks them in the configured order.

- `live`: forex-python's `CurrencyRates(force_decimal=True)`. It calls a public HTTP API with no timeout
  (it blocked > 45 s against a silent server, docs/architecture.md) and raises `requests` errors offline, so every
  call runs in a daemon thread of its own and is abandoned at our deadline; answers are cached while fresh,
  and a fresh live snapshot stored by the scheduled refresh (fx_rate_snapshots) is used before the network.
  Its `get_rate` does not return the publication date the API sends, so a live rate's `as_of` is the time we
  fetched it (flagged in docs/fx.md).
- `ecb`: the ECB reference table already imported into payments (latest publication, 16:00 CET).
- `ops`: rates entered by operations (`xborder rates set USD CNY 7.1234 --valid-minutes 60`).

The chain returns the first fresh rate. When none is fresh it says why for every provider: RATE_STALE when
some provider had only a stale rate, RATE_UNAVAILABLE when none had any.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.payments.fx.domain.rates import Attempt, ProviderFailed, Rate, RateMissing, round_significant
from services.shared.logs import get_logger

log = get_logger(__name__)

ECB_PUBLICATION_TIME = time(16, 0)
ECB_TIMEZONE = ZoneInfo("Europe/Berlin")  # the ECB publishes "around 16:00 CET" (CEST in summer)


class RateProvider(Protocol):
    name: str

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        """The provider's current rate for the pair, fresh or not; RateMissing / ProviderFailed otherwise."""
        ...


class CurrencyRatesLike(Protocol):
    def get_rate(self, base_cur: str, dest_cur: str, date_obj: Any = None) -> Any: ...


def forex_python_client() -> CurrencyRatesLike:
    from forex_python.converter import CurrencyRates

    return CurrencyRates(force_decimal=True)  # type: ignore[no-any-return]


class LiveRateProvider:
    """forex-python behind our own deadline, with at most `max_in_flight` calls waiting on the network."""

    name = "live"

    def __init__(
        self,
        client: CurrencyRatesLike,
        *,
        timeout_s: float,
        max_staleness: timedelta,
        max_in_flight: int = 4,
        snapshot: Callable[[str, str], Rate | None] | None = None,
        reuse: bool = True,
    ) -> None:
        self.client = client
        self.snapshot = snapshot
        # False for the scheduled refresh: it must ask the source, not get its own last answer back.
        self.reuse = reuse
        self.timeout_s = timeout_s
        self.max_staleness = max_staleness
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._cache: dict[tuple[str, str], Rate] = {}
        self._lock = threading.Lock()

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        with self._lock:
            cached = self._cache.get((base, quote))
        if self.reuse and cached is not None and cached.is_fresh(now):
            return cached
        # A live rate the scheduled refresh (any process: the nameko worker, the embedded timer) stored and
        # that is still fresh serves quotes without a network call on the request path.
        shared = self.snapshot(base, quote) if self.reuse and self.snapshot is not None else None
        if shared is not None and shared.source == self.name and shared.is_fresh(now):
            with self._lock:
                self._cache[(base, quote)] = shared
            return shared
        value = self._call(base, quote)
        # Stamped with the time the call started: never younger than it is.
        rate = Rate(base, quote, value, self.name, now, now, self.max_staleness)
        with self._lock:
            self._cache[(base, quote)] = rate
        return rate

    def _call(self, base: str, quote: str) -> Decimal:
        if not self._slots.acquire(blocking=False):
            # Earlier calls are still hanging on the network: do not pile more threads onto them.
            raise ProviderFailed(f"live source busy: calls already waiting for {self.timeout_s}s or more")
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = self.client.get_rate(base, quote)
            except BaseException as error:  # requests errors, RatesNotAvailableError, anything
                outcome["error"] = error
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=run, name=f"fx-live-{base}{quote}", daemon=True).start()
        if not done.wait(self.timeout_s):
            raise ProviderFailed(f"live source did not answer within {self.timeout_s}s")
        if "error" in outcome:
            error = outcome["error"]
            raise ProviderFailed(f"live source failed: {type(error).__name__}: {error}")
        return _decimal_rate(outcome.get("value"))


def _decimal_rate(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        # A float means force_decimal was lost somewhere: refuse it rather than carry binary noise into money.
        raise ProviderFailed(f"live source returned {type(value).__name__} {value!r}, not a decimal")
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise ProviderFailed(f"live source returned {value!r}, not a decimal") from None
    if not rate.is_finite() or rate <= 0:
        raise ProviderFailed(f"live source returned a non-positive rate {value!r}")
    return round_significant(rate)


def ecb_publication_moment(day: date) -> datetime:
    return datetime.combine(day, ECB_PUBLICATION_TIME, tzinfo=ECB_TIMEZONE).astimezone(UTC)


class EcbRateProvider:
    """The latest imported ECB publication, crossed through EUR; `lookup` raises RateMissing when it has none."""

    name = "ecb"

    def __init__(self, lookup: Callable[[str, str], tuple[Decimal, date, str]], *, max_staleness: timedelta):
        self.lookup = lookup
        self.max_staleness = max_staleness

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        value, day, derivation = self.lookup(base, quote)
        return Rate(base, quote, value, self.name, ecb_publication_moment(day), now, self.max_staleness, derivation)


class OpsRateProvider:
    """The latest ops entry for the pair (or its inverse); fresh while its validity lasts."""

    name = "ops"

    def __init__(self, latest: Callable[[str, str], Rate | None]) -> None:
        self.latest = latest

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        direct = self.latest(base, quote)
        inverse = self.latest(quote, base)
        candidates = [r for r in (direct, inverse.inverted() if inverse else None) if r is not None]
        if not candidates:
            raise RateMissing(f"no ops rate entered for {base}/{quote} or {quote}/{base}")
        fresh = [r for r in candidates if r.is_fresh(now)]
        # The most recent entry wins; a fresh one always beats a stale one.
        return max(fresh or candidates, key=lambda r: r.as_of)


class NoFreshRate(Exception):
    def __init__(self, base: str, quote: str, attempts: Sequence[Attempt], now: datetime) -> None:
        self.base = base
        self.quote = quote
        self.attempts = tuple(attempts)
        self.stale = any(a.rate is not None for a in attempts)
        why = "; ".join(a.describe(now) for a in attempts) or "no provider configured"
        super().__init__(f"no fresh {base}/{quote} rate: {why}")


class RateChain:
    def __init__(self, providers: Sequence[RateProvider]) -> None:
        self.providers = tuple(providers)

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.providers)

    def get(self, base: str, quote: str, now: datetime) -> Rate:
        attempts: list[Attempt] = []
        for provider in self.providers:
            try:
                rate = provider.fetch(base, quote, now)
            except RateMissing as problem:
                attempts.append(Attempt(provider.name, None, str(problem)))
                continue
            except ProviderFailed as problem:
                # An outage (timeout, network) is worth a line in the logs; a pair a source lacks is not.
                log.warning("fx_provider_failed", provider=provider.name, pair=f"{base}/{quote}", problem=str(problem))
                attempts.append(Attempt(provider.name, None, str(problem)))
                continue
            if rate.is_fresh(now):
                return rate
            attempts.append(Attempt(provider.name, rate, "stale"))
        raise NoFreshRate(base, quote, attempts, now)
