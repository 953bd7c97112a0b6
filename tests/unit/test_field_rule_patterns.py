"""The patterns of decimal strings and HS codes say exactly what the numbers and codes they stand for are."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.shared.field_rules import decimal_pattern, hs_code_pattern

plain_decimals = st.tuples(
    st.sampled_from(["", "0", "00"]),
    st.integers(0, 2_000_000),
    st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=1, max_size=7).map(lambda f: "." + f)),
).map(lambda t: f"{t[0]}{t[1]}{t[2]}")


@given(
    text=plain_decimals,
    maximum=st.one_of(st.none(), st.sampled_from([1, 9, 10, 99, 100, 500, 1000, 1_000_000, 4321])),
    exclusive=st.booleans(),
    scale=st.one_of(st.none(), st.integers(0, 4)),
)
def test_a_decimal_pattern_takes_a_plain_decimal_exactly_when_its_value_and_places_fit(
    text: str, maximum: int | None, exclusive: bool, scale: int | None
) -> None:
    value = Decimal(text)
    fits = value > 0 if exclusive else value >= 0
    if maximum is not None:
        fits = fits and value <= maximum
    if scale is not None:
        fits = fits and value == value.quantize(Decimal(1).scaleb(-scale))
    assert bool(re.match(decimal_pattern(0, maximum, exclusive, scale), text)) == fits


@given(
    digits=st.text(alphabet="0123456789", max_size=12),
    separators=st.lists(st.sampled_from(["", ".", " ", "\t", "-"]), min_size=13, max_size=13),
    counts=st.sets(st.integers(2, 10), min_size=1),
)
def test_an_hs_pattern_counts_the_digits_and_ignores_only_dots_and_whitespace(
    digits: str, separators: list[str], counts: set[int]
) -> None:
    text = separators[0] + "".join(d + s for d, s in zip(digits, separators[1:], strict=False))
    taken = bool(re.match(hs_code_pattern(tuple(counts)), text))
    assert taken == (len(digits) in counts and "-" not in text)
