"""What a screening answer shows of the date of birth and identifiers it was asked about."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.compliance.domain.screening import mask_date_of_birth, mask_identifier

identifiers = st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789 -/*", min_size=1, max_size=64)


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 6)))
def test_a_date_of_birth_shows_its_year_only_and_masking_twice_changes_nothing(day: date) -> None:
    masked = mask_date_of_birth(day.isoformat())
    assert masked == f"{day.year:04d}-**-**"
    assert mask_date_of_birth(masked) == masked


@given(value=identifiers)
def test_an_identifier_shows_at_most_its_last_four_characters_in_a_mask_that_hides_its_length(value: str) -> None:
    masked = mask_identifier(value)
    plain = "".join(ch for ch in value if ch.isascii() and ch.isalnum())
    shown = masked.removeprefix("****").strip()
    assert len(shown) <= 4 and plain.endswith(shown)
    assert masked in ("****", f"**** {shown}")
    assert len(shown) == 0 or len(plain) >= 8  # a short number is not half given away
    assert mask_identifier(masked) == masked


def test_nothing_given_shows_nothing() -> None:
    assert mask_date_of_birth("") == ""
    assert mask_identifier("P9876543") == "**** 6543" and mask_identifier("P98765") == "****"
    assert mask_identifier("****123456789") == "**** 6789"  # only a mask's own shape passes as masked
