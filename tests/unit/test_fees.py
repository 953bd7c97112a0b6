"""Fee schedules: percentage by largest remainder plus fixed, per currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.payments.settlement.domain.fees import FeeSchedule, platform_fee
from services.shared.money import Money


@pytest.mark.parametrize(
    ("gross", "currency", "percent", "fixed_minor", "expected"),
    [
        ("100.00", "USD", "2.9", 30, "3.20"),  # 2.90 + 0.30
        ("10.00", "USD", "2.9", 30, "0.59"),  # 0.29 + 0.30
        ("0.50", "USD", "2.9", 30, "0.31"),  # 0.0145 -> 0.01 (the rest 0.4855 keeps the larger part)
        ("1234", "JPY", "2.9", 40, "76"),  # 35.786 -> 36 yen (JPY has no minor unit) + 40
        ("12.345", "KWD", "2.9", 90, "0.448"),  # 0.358005 -> 0.358 (KWD has 3 decimals) + 0.090
        ("0.25", "USD", "2.9", 30, "0.25"),  # never more than the gross
        ("99.99", "EUR", "0", 0, "0.00"),
    ],
)
def test_fee_examples(gross: str, currency: str, percent: str, fixed_minor: int, expected: str) -> None:
    fee = platform_fee(Money.of(gross, currency), FeeSchedule("T", currency, Decimal(percent), fixed_minor))
    assert fee.total == Money.of(expected, currency)


def test_wildcard_schedule_charges_no_fixed_part() -> None:
    fee = platform_fee(Money.of("100.00", "SGD"), FeeSchedule("T", "*", Decimal("1.5"), 999))
    assert (fee.percentage, fee.fixed) == (Money.of("1.50", "SGD"), Money.of("0.00", "SGD"))


@given(
    minor=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    percent=st.decimals(min_value=0, max_value=100, places=2),
    fixed=st.integers(min_value=0, max_value=10_000),
)
def test_fee_is_exact_minor_units_and_never_exceeds_the_gross(
    minor: int, currency: str, percent: Decimal, fixed: int
) -> None:
    gross = Money.from_minor(minor, currency)
    fee = platform_fee(gross, FeeSchedule("T", currency, percent, fixed))
    assert 0 <= fee.total.minor <= gross.minor
    assert Money.from_minor(fee.total.minor, currency) == fee.total  # representable exactly
    # the percentage part is within one minor unit of the exact share
    exact = Decimal(minor) * percent / 100
    assert abs(Decimal(fee.percentage.minor) - exact) <= 1
    # and the split's two parts sum exactly to the gross
    rest = gross - fee.percentage
    assert fee.percentage + rest == gross
