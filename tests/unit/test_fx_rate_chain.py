"""The rate-provider chain: order, staleness, the live provider's deadline and its refusals (no network)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from services.payments.fx.adapters.rate_providers import (
    EcbRateProvider,
    LiveRateProvider,
    NoFreshRate,
    OpsRateProvider,
    RateChain,
    ecb_publication_moment,
)
from services.payments.fx.domain.rates import Rate, RateMissing

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class FakeCurrencyRates:
    """Answers like forex-python's CurrencyRates(force_decimal=True), from a table, counting calls."""

    def __init__(self, rates: dict[tuple[str, str], object]) -> None:
        self.rates = rates
        self.calls = 0

    def get_rate(self, base_cur: str, dest_cur: str, date_obj: object = None) -> object:
        self.calls += 1
        if (base_cur, dest_cur) not in self.rates:
            raise requests.ConnectionError("Max retries exceeded with url: /api/latest (offline)")
        return self.rates[(base_cur, dest_cur)]


class HangingCurrencyRates:
    """Blocks like forex-python against a silent server, until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def get_rate(self, base_cur: str, dest_cur: str, date_obj: object = None) -> object:
        self.release.wait(30)
        return Decimal("7.2")


def ops_rate(base: str, quote: str, rate: str, minutes_ago: int, valid_minutes: int) -> Rate:
    start = NOW - timedelta(minutes=minutes_ago)
    return Rate(base, quote, Decimal(rate), "ops", start, start, timedelta(minutes=valid_minutes))


def ops_table(*rates: Rate) -> OpsRateProvider:
    table = {(r.base, r.quote): r for r in rates}
    return OpsRateProvider(lambda b, q: table.get((b, q)))


def ecb(day: date, rate: str = "7.20", staleness_days: int = 5) -> EcbRateProvider:
    return EcbRateProvider(
        lambda b, q: (Decimal(rate), day, f"{b}->EUR->{q}"), max_staleness=timedelta(days=staleness_days)
    )


def live(client: object, **kw: object) -> LiveRateProvider:
    timeout = float(kw.pop("timeout_s", 0.5))  # type: ignore[arg-type]
    return LiveRateProvider(client, timeout_s=timeout, max_staleness=timedelta(minutes=5), **kw)  # type: ignore[arg-type]


def test_the_first_fresh_rate_in_configured_order_wins() -> None:
    ops = ops_table(ops_rate("USD", "CNY", "7.1234", 10, 60))
    client = FakeCurrencyRates({("USD", "CNY"): Decimal("7.25")})
    assert RateChain([ops, live(client), ecb(date(2026, 11, 30))]).get("USD", "CNY", NOW).source == "ops"
    assert client.calls == 0  # later providers are not asked once one answered
    assert RateChain([live(client), ops]).get("USD", "CNY", NOW).rate == Decimal("7.25")


def test_a_stale_rate_is_skipped_for_the_next_fresh_one() -> None:
    ops = ops_table(ops_rate("USD", "CNY", "7.0000", 120, 60))  # expired an hour ago
    chosen = RateChain([ops, ecb(date(2026, 11, 30))]).get("USD", "CNY", NOW)
    assert (chosen.source, chosen.rate) == ("ecb", Decimal("7.20"))


def test_only_stale_rates_is_an_explicit_stale_error_naming_the_pair_and_ages() -> None:
    chain = RateChain([ops_table(ops_rate("USD", "CNY", "7.0", 120, 60)), ecb(date(2026, 4, 13))])
    with pytest.raises(NoFreshRate) as none:
        chain.get("USD", "CNY", NOW)
    assert none.value.stale
    message = str(none.value)
    assert "USD/CNY" in message and "ops: stale" in message and "ecb: stale" in message and "231d old" in message


def test_no_rate_anywhere_is_unavailable_not_a_silent_one() -> None:
    chain = RateChain([ops_table(), live(FakeCurrencyRates({}))])
    with pytest.raises(NoFreshRate) as none:
        chain.get("USD", "KWD", NOW)
    assert not none.value.stale
    assert "no ops rate entered for USD/KWD" in str(none.value)
    assert "ConnectionError" in str(none.value)


def test_ecb_rates_are_dated_at_the_publication_and_expire_after_their_limit() -> None:
    # 16:00 CET is 15:00 UTC in winter, 14:00 UTC in summer.
    assert ecb_publication_moment(date(2026, 11, 27)) == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert ecb_publication_moment(date(2026, 4, 13)) == datetime(2026, 4, 13, 14, 0, tzinfo=UTC)
    friday = ecb(date(2026, 11, 27), staleness_days=5).fetch("USD", "CNY", NOW)
    assert friday.is_fresh(NOW)  # Monday morning still uses Friday's publication
    assert not friday.is_fresh(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))


def test_ops_rate_serves_its_inverse_and_the_newest_fresh_entry_wins() -> None:
    inverse = ops_table(ops_rate("USD", "CNY", "8", 5, 60)).fetch("CNY", "USD", NOW)
    assert (inverse.rate, inverse.derivation) == (Decimal("0.125"), "inverse of USD/CNY")
    both = ops_table(ops_rate("USD", "CNY", "7.1", 30, 60), ops_rate("CNY", "USD", "0.15", 5, 60))
    assert both.fetch("USD", "CNY", NOW).rate == Decimal("6.666666667")  # the newer, inverse entry
    with pytest.raises(RateMissing):
        ops_table().fetch("USD", "CNY", NOW)


def test_live_provider_gives_up_at_its_deadline_and_the_chain_moves_on() -> None:
    hanging = HangingCurrencyRates()
    provider = live(hanging, timeout_s=0.2)
    started = time.monotonic()
    try:
        chosen = RateChain([provider, ecb(date(2026, 11, 30))]).get("USD", "CNY", NOW)
        waited = time.monotonic() - started
    finally:
        hanging.release.set()
    assert chosen.source == "ecb"
    assert waited < 5  # bounded by the deadline, not by the hanging call (which would wait 30 s)


def test_live_provider_refuses_to_pile_threads_onto_hanging_calls() -> None:
    hanging = HangingCurrencyRates()
    provider = live(hanging, timeout_s=0.05, max_in_flight=1)
    try:
        with pytest.raises(NoFreshRate) as first:
            RateChain([provider]).get("USD", "CNY", NOW)
        assert "did not answer within 0.05s" in str(first.value)
        with pytest.raises(NoFreshRate) as second:
            RateChain([provider]).get("USD", "CNY", NOW)
        assert "busy" in str(second.value)
    finally:
        hanging.release.set()


@pytest.mark.parametrize(
    ("value", "problem"), [(7.2, "not a decimal"), (Decimal("0"), "non-positive"), (None, "not a decimal")]
)
def test_live_provider_refuses_floats_and_nonsense(value: object, problem: str) -> None:
    with pytest.raises(NoFreshRate) as refused:
        RateChain([live(FakeCurrencyRates({("USD", "CNY"): value}))]).get("USD", "CNY", NOW)
    assert problem in str(refused.value)


def test_live_answers_are_cached_while_fresh_then_fetched_again() -> None:
    client = FakeCurrencyRates({("USD", "CNY"): Decimal("7.25")})
    provider = live(client)
    assert provider.fetch("USD", "CNY", NOW).rate == Decimal("7.25")
    provider.fetch("USD", "CNY", NOW + timedelta(minutes=4))
    assert client.calls == 1
    provider.fetch("USD", "CNY", NOW + timedelta(minutes=6))
    assert client.calls == 2


def test_a_rate_must_be_positive_and_timezone_aware() -> None:
    with pytest.raises(ValueError, match="positive"):
        Rate("USD", "CNY", Decimal(0), "ops", NOW, NOW, timedelta(minutes=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Rate("USD", "CNY", Decimal(1), "ops", datetime(2026, 1, 1), NOW, timedelta(minutes=1))


def test_a_fresh_live_snapshot_from_the_refresh_spares_the_network_call() -> None:
    stored = Rate("USD", "CNY", Decimal("7.31"), "live", NOW - timedelta(minutes=1), NOW, timedelta(minutes=5))
    offline = FakeCurrencyRates({})
    provider = LiveRateProvider(
        offline, timeout_s=0.5, max_staleness=timedelta(minutes=5), snapshot=lambda b, q: stored
    )
    assert provider.fetch("USD", "CNY", NOW) == stored and offline.calls == 0
    # A stale snapshot, or one another provider answered, is not a live rate now: the network is asked.
    for other in (
        Rate("USD", "CNY", Decimal("7.31"), "live", NOW - timedelta(minutes=6), NOW, timedelta(minutes=5)),
        Rate("USD", "CNY", Decimal("7.31"), "ops", NOW, NOW, timedelta(minutes=5)),
    ):
        client = FakeCurrencyRates({("USD", "CNY"): Decimal("7.4")})

        def kept(base: str, quote: str, rate: Rate = other) -> Rate | None:
            return rate

        fresh = LiveRateProvider(client, timeout_s=0.5, max_staleness=timedelta(minutes=5), snapshot=kept)
        assert fresh.fetch("USD", "CNY", NOW).rate == Decimal("7.4") and client.calls == 1
