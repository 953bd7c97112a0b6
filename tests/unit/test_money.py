from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shared import money
from services.shared.errors import UnknownCurrency, ValidationError
from services.shared.money import Money


def test_minor_units_come_from_iso_4217() -> None:
    assert money.minor_unit("JPY") == 0
    assert money.minor_unit("USD") == 2
    assert money.minor_unit("KWD") == 3
    assert money.minor_unit("CLF") == 4


def test_more_decimals_than_the_currency_allows_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        Money.of("100.5", "JPY", field="declared_value")
    assert error.value.violations[0].field == "declared_value"
    assert Money.of("1.230", "USD").amount == Decimal("1.23")  # trailing zeros are not extra precision


def test_unknown_and_withdrawn_currencies_are_refused() -> None:
    with pytest.raises(UnknownCurrency) as unknown:
        Money.of("1", "ABC", field="price")
    assert unknown.value.violations[0].field == "price.currency_code"
    with pytest.raises(UnknownCurrency, match="withdrawn"):
        Money.of("1", "DEM")


def test_floats_are_not_money() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_cannot_add_different_currencies() -> None:
    with pytest.raises(ValueError, match="cannot combine"):
        Money.of("1", "USD") + Money.of("1", "EUR")


amounts = st.decimals(min_value=Decimal("-99999999999.99"), max_value=Decimal("99999999999.99"), places=2)


@given(amounts)
def test_google_money_round_trip(amount: Decimal) -> None:
    value = Money.of(amount, "USD")
    proto = money.to_proto(value)
    assert (proto.units >= 0 and proto.nanos >= 0) or (proto.units <= 0 and proto.nanos <= 0)
    assert money.from_proto(proto) == value


@given(
    st.integers(0, 10**12),
    st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
    st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_allocation_parts_sum_exactly_to_the_whole(minor: int, weights: list[int], currency: str) -> None:
    whole = Money.from_minor(minor, currency)
    parts = whole.allocate(weights)
    assert sum(p.minor for p in parts) == whole.minor
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(minor) * weight / sum(weights)
        assert abs(part.minor - exact) < 1  # largest remainder: never more than one minor unit off
        assert part.minor >= 0


def test_from_proto_names_bad_parts() -> None:
    from google.type import money_pb2

    with pytest.raises(ValidationError) as error:
        money.from_proto(money_pb2.Money(units=1, nanos=-5), field="fee")
    assert {v.field for v in error.value.violations} == {"fee.currency_code", "fee.nanos"}


def test_explicit_rounding() -> None:
    assert Money(Decimal("2.345"), "USD").rounded().amount == Decimal("2.34")  # half-even
    assert Money(Decimal("2.345"), "USD").rounded("ROUND_HALF_UP").amount == Decimal("2.35")
