from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shared import codes
from services.shared.errors import CodeCheckFailed, ValidationError

body_chars = st.text(alphabet=codes.ALPHABET, min_size=17, max_size=17)


def with_check(body: str) -> str:
    return body + codes.check_character(body)


def test_real_unified_social_credit_code_validates() -> None:
    # A published USCC (GB 32100-2015) checks with the same algorithm as our own codes.
    assert codes.is_valid_uscc("91110000600037341L")
    assert not codes.is_valid_uscc("91110000600037341K")


@given(body_chars, st.integers(0, 17), st.sampled_from(codes.ALPHABET))
def test_every_single_substitution_is_caught(body: str, position: int, replacement: str) -> None:
    code = with_check(body)
    if code[position] == replacement:
        return
    mutated = code[:position] + replacement + code[position + 1 :]
    assert codes.problems(mutated) is not None


@given(body_chars, st.integers(0, 16))
def test_every_adjacent_transposition_is_caught(body: str, position: int) -> None:
    code = with_check(body)
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    assert codes.problems(swapped) is not None


@given(
    st.sampled_from(sorted(codes.ENTITY_TYPES)),
    st.sampled_from(sorted(codes.ZONES)),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2400, 1, 1), timezones=st.just(UTC)),
)
def test_generated_codes_parse_back(kind: str, zone: str, at: datetime) -> None:
    code = codes.generate(kind, zone, at=at)
    parsed = codes.parse(code)
    assert len(code) == 18
    assert (parsed.entity_type, parsed.zone) == (kind, zone)
    assert abs(parsed.issued_at - at) < timedelta(seconds=1)


def test_codes_sort_by_issue_time() -> None:
    start = datetime(2026, 11, 22, tzinfo=UTC)
    issued = [codes.generate("PD", "C", at=start + timedelta(seconds=s)) for s in (0, 1, 31, 961, 86400)]
    assert [c[3:10] for c in issued] == sorted(c[3:10] for c in issued)


def test_parse_names_the_field_and_the_problem() -> None:
    good = codes.generate("DD", "E")
    broken = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(CodeCheckFailed) as check:
        codes.parse(broken, field="order_code")
    assert check.value.violations[0].field == "order_code"
    with pytest.raises(ValidationError) as short:
        codes.parse("PD123", field="product_code")
    assert "18 characters" in short.value.violations[0].description
    with pytest.raises(ValidationError) as letters:
        codes.parse(good[:5] + "O" + good[6:], field="x")
    assert "alphabet" in letters.value.violations[0].description
    with pytest.raises(ValidationError) as kind:
        codes.parse(good, field="merchant", entity_type="MC")
    assert "expected a merchant code" in kind.value.violations[0].description


def test_lower_case_input_is_accepted() -> None:
    code = codes.generate("MC", "C")
    assert codes.parse(code.lower()).value == code


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        codes.generate("PD", at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("gtin", "valid"),
    [
        ("4006381333931", True),  # GS1's own GTIN-13 example
        ("4006381333932", False),
        ("036000291452", True),  # UPC-A
        ("96385074", True),  # GTIN-8
        ("12345", False),
        ("400638133393A", False),
    ],
)
def test_gtin_check_digit(gtin: str, valid: bool) -> None:
    assert codes.gtin_is_valid(gtin) is valid
