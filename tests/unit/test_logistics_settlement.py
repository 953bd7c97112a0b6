"""Settlement-currency totals: one rate per channel currency, half-up rounding, a missing rate only a note."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.logistics.service_layer.settlement import Rate, RateUnavailable, settle
from services.shared.money import Money


class FakeRates:
    def __init__(self, rates: dict[tuple[str, str], Decimal]) -> None:
        self.rates = rates
        self.asked: list[tuple[str, str]] = []

    def rate(self, base: str, quote: str) -> Rate:
        self.asked.append((base, quote))
        if (base, quote) not in self.rates:
            raise RateUnavailable("payments is not reachable")
        return Rate(self.rates[base, quote], "reference rate of 2026-12-04")


def test_each_currency_is_asked_once_and_a_missing_one_is_a_note() -> None:
    rates = FakeRates({("CNY", "EUR"): Decimal("0.1252708983")})
    settlement = settle({"CNY", "USD", "EUR"}, "EUR", rates)
    assert sorted(rates.asked) == [("CNY", "EUR"), ("USD", "EUR")]
    assert settlement.convert(Money(Decimal("125.20"), "CNY")) == Money(Decimal("15.68"), "EUR")
    assert settlement.convert(Money(Decimal("9.99"), "EUR")) == Money(Decimal("9.99"), "EUR")
    assert settlement.convert(Money(Decimal("20.00"), "USD")) is None
    assert "CNY->EUR 0.1252708983: reference rate of 2026-12-04" in settlement.note
    assert "conversion USD->EUR missing: payments is not reachable" in settlement.note


@given(st.integers(0, 10**9), st.decimals(min_value="0.0001", max_value="1000", places=6))
def test_a_converted_total_is_the_exact_product_rounded_half_up(minor: int, rate: Decimal) -> None:
    settlement = settle({"CNY"}, "JPY", FakeRates({("CNY", "JPY"): rate}))
    total = Money.from_minor(minor, "CNY")
    converted = settlement.convert(total)
    assert converted is not None and converted.currency == "JPY"
    assert abs(converted.amount - total.amount * rate) <= Decimal("0.5")
    assert converted.amount == (total.amount * rate).quantize(Decimal(1), rounding="ROUND_HALF_UP")


def test_a_tiny_rate_is_written_out_in_plain_decimals() -> None:
    settlement = settle({"VND"}, "USD", FakeRates({("VND", "USD"): Decimal("3.791000000E-7")}))
    assert "VND->USD 0.0000003791000000: " in settlement.note
