"""Spreads by pair, tier and lock; quote pricing and its ISO 4217 rounding (JPY 0, USD 2, KWD 3 decimals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.payments.fx.domain import quotes as q
from services.payments.fx.domain.spreads import (
    DEFAULT_SPREADS,
    SpreadRule,
    base_spread_bps,
    executable,
    lock_premium_bps,
)


def test_the_most_specific_rule_for_the_tier_applies() -> None:
    assert base_spread_bps(DEFAULT_SPREADS, "USD", "CNY", "STANDARD") == 60
    assert base_spread_bps(DEFAULT_SPREADS, "USD", "CNY", "ENTERPRISE") == 25
    assert base_spread_bps(DEFAULT_SPREADS, "USD", "JPY", "STANDARD") == 100  # no corridor rule: any/any
    assert base_spread_bps(DEFAULT_SPREADS, "USD", "JPY", "PLUS") == 70
    one_sided = [*DEFAULT_SPREADS, SpreadRule("*", "KWD", "STANDARD", 150)]
    assert base_spread_bps(one_sided, "USD", "KWD", "STANDARD") == 150
    with pytest.raises(KeyError):
        base_spread_bps(DEFAULT_SPREADS, "USD", "CNY", "PLATINUM")


def test_longer_locks_cost_more_and_the_range_is_one_minute_to_a_day() -> None:
    premiums = [lock_premium_bps(s) for s in (60, 61, 900, 3600, 3601, 14_400, 86_400)]
    assert premiums == sorted(premiums) and premiums[0] == 0 and premiums[-1] == 40
    for outside in (59, 86_401, 0):
        with pytest.raises(ValueError, match=r"60\.\.86400"):
            lock_premium_bps(outside)


def test_the_spread_always_works_against_the_merchant() -> None:
    rate = executable(Decimal("7.1234"), 60)
    assert rate.rate == Decimal("7.080659600")  # 7.1234 * 0.994, 10 significant digits
    assert executable(Decimal("7.1234"), 0).rate == Decimal("7.123400000")


def test_jpy_has_no_decimals_and_rounds_half_even() -> None:
    # 100 USD at 149.5 JPY: 14950 exactly; at 149.505: 14950.5 -> 14950 (half to even).
    assert q.price(
        executable(Decimal("149.5"), 0), sell_places=2, buy_places=0, sell_amount=Decimal("100")
    ).buy_amount == Decimal("14950")
    assert q.price(
        executable(Decimal("149.505"), 0), sell_places=2, buy_places=0, sell_amount=Decimal("100")
    ).buy_amount == Decimal("14950")
    assert q.price(
        executable(Decimal("149.515"), 0), sell_places=2, buy_places=0, sell_amount=Decimal("100")
    ).buy_amount == Decimal("14952")


def test_kwd_keeps_three_decimals() -> None:
    # 1000 USD at 0.30745 KWD: 307.45 exactly, shown as 307.450; 333.33 USD -> 102.4823085 -> 102.482.
    priced = q.price(executable(Decimal("0.30745"), 0), sell_places=2, buy_places=3, sell_amount=Decimal("1000"))
    assert str(priced.buy_amount) == "307.450"
    priced = q.price(executable(Decimal("0.30745"), 0), sell_places=2, buy_places=3, sell_amount=Decimal("333.33"))
    assert str(priced.buy_amount) == "102.482"
    # Buying 100 KWD costs 100 / 0.30745 = 325.2561... USD -> 325.26.
    bought = q.price(executable(Decimal("0.30745"), 0), sell_places=2, buy_places=3, buy_amount=Decimal("100.000"))
    assert bought.sell_amount == Decimal("325.26") and bought.fixed_side == "buy"


def test_the_spread_amount_is_what_the_reference_rate_would_have_paid_more() -> None:
    priced = q.price(executable(Decimal("7.1234"), 60), sell_places=2, buy_places=2, sell_amount=Decimal("1000"))
    assert priced.buy_amount == Decimal("7080.66")  # 1000 * 7.0806596
    assert priced.spread_amount == Decimal("42.74")  # 7123.40 - 7080.66


def test_an_amount_that_rounds_to_nothing_is_refused() -> None:
    with pytest.raises(q.AmountTooSmall):
        q.price(executable(Decimal("0.0067"), 0), sell_places=0, buy_places=2, sell_amount=Decimal("0"))
    with pytest.raises(q.AmountTooSmall):
        q.price(executable(Decimal("0.001"), 0), sell_places=0, buy_places=2, sell_amount=Decimal("1"))  # 0.001 -> 0.00


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=6).filter(lambda d: d > 0)
places = st.sampled_from([0, 2, 3])
bps = st.integers(min_value=0, max_value=500)


@given(rates, bps, places, places, st.integers(min_value=1, max_value=10**12))
def test_a_sell_fixed_quote_is_within_half_a_minor_unit_of_sell_times_rate(
    reference: Decimal, spread: int, sell_places: int, buy_places: int, sell_minor: int
) -> None:
    rate = executable(reference, spread)
    sell = Decimal(sell_minor).scaleb(-sell_places)
    try:
        priced = q.price(rate, sell_places=sell_places, buy_places=buy_places, sell_amount=sell)
    except q.AmountTooSmall:
        assert sell * rate.rate <= Decimal("0.5").scaleb(-buy_places)
        return
    assert priced.sell_amount == sell
    assert abs(priced.buy_amount - sell * rate.rate) <= Decimal("0.5").scaleb(-buy_places)
    assert -priced.buy_amount.as_tuple().exponent <= buy_places  # type: ignore[operator]
    assert priced.spread_amount >= 0
    # Merchant plus spread never exceeds what the reference rate would pay, beyond one rounding unit.
    assert priced.buy_amount + priced.spread_amount <= sell * reference + Decimal("0.5").scaleb(-buy_places)


@given(rates, bps, places, places, st.integers(min_value=1, max_value=10**12))
def test_a_buy_fixed_quote_is_within_half_a_minor_unit_of_buy_over_rate(
    reference: Decimal, spread: int, sell_places: int, buy_places: int, buy_minor: int
) -> None:
    rate = executable(reference, spread)
    buy = Decimal(buy_minor).scaleb(-buy_places)
    try:
        priced = q.price(rate, sell_places=sell_places, buy_places=buy_places, buy_amount=buy)
    except q.AmountTooSmall:
        # Refused only when the buy amount costs less than half a minor unit of the sell currency.
        assert buy / rate.rate <= Decimal("0.5").scaleb(-sell_places)
        return
    assert priced.buy_amount == buy
    assert abs(priced.sell_amount - buy / rate.rate) <= Decimal("0.5").scaleb(-sell_places)
    assert priced.spread_amount >= 0


NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_locked_offer_is_usable_once_and_only_before_it_expires() -> None:
    offer = q.LockedOffer("QT1", q.OPEN, NOW + timedelta(seconds=60))
    offer.check_usable(NOW + timedelta(seconds=59))
    with pytest.raises(q.QuoteExpiredError):
        offer.check_usable(NOW + timedelta(seconds=60))
    with pytest.raises(q.QuoteUsedError):
        q.LockedOffer("QT1", q.CONVERTED, NOW + timedelta(seconds=60)).check_usable(NOW)


def test_the_executable_rate_is_truncated_so_it_never_beats_the_reference() -> None:
    # Half-even to 10 digits would give 17574.08450 > 17574.084495: a zero spread paying more than the reference.
    rate = executable(Decimal("17574.084495"), 0)
    assert rate.rate == Decimal("17574.08449") and rate.rate <= rate.reference
    priced = q.price(rate, sell_places=0, buy_places=0, sell_amount=Decimal("81805"))
    assert priced.buy_amount + priced.spread_amount <= Decimal("81805") * rate.reference + Decimal("0.5")
