"""Bank-account validation (IBAN ISO 7064 MOD 97-10, BIC ISO 9362), normalisation and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.payments.bank_accounts.domain import (
    BankAccount,
    BankAccountDetails,
    iban_problem,
    mask_holder_name,
    mask_iban,
    normalise_iban,
    validate_bank_account,
)
from services.shared.errors import Violations

GOOD_IBAN = "DE89370400440532013000"  # the ISO 13616 / ECBS example


def check(**fields: str) -> tuple[BankAccountDetails | None, dict[str, str]]:
    base = {
        "holder_name": "Erika Mustermann",
        "country": "",
        "currency": "EUR",
        "iban": GOOD_IBAN,
        "account_number": "",
        "bic": "",
    }
    violations = Violations()
    given = {**base, **fields}
    details = validate_bank_account(
        holder_name=given["holder_name"],
        country=given["country"],
        currency=given["currency"],
        iban=given["iban"],
        account_number=given["account_number"],
        bic=given["bic"],
        violations=violations,
    )
    return details, {v.field: v.description for v in violations._items}


def with_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as digits mod 97)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def test_iban_with_spaces_and_lower_case_is_normalised_and_country_taken_from_it() -> None:
    details, problems = check(iban=" de89 3704 0044 0532 0130 00 ", holder_name="  Erika   Mustermann ")
    assert problems == {} and details is not None
    assert details.iban == GOOD_IBAN and details.country == "DE" and details.account_number is None
    assert details.holder_name == "Erika Mustermann"


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"iban": "DE89370400440532013001"}, "iban", "MOD 97-10"),
        ({"iban": "DE8937040044053201300"}, "iban", "has 22 characters, got 21"),
        ({"iban": "XX89370400440532013000"}, "iban", "not a country in the IBAN registry"),
        ({"iban": ""}, "iban", "required unless account_number"),
        ({"country": "FR"}, "country", "IBAN is from 'DE'"),
        ({"holder_name": "   "}, "holder_name", "required"),
        ({"holder_name": "x" * 141}, "holder_name", "at most 140"),
        ({"currency": "EURO"}, "currency", "three letters"),
        ({"currency": ""}, "currency", "required"),
        ({"bic": "DEUT"}, "bic", "ISO 9362"),
        ({"bic": "BNPAFRPP"}, "bic", "bank in 'FR'"),
        ({"account_number": "12345678"}, "account_number", "not both"),
        ({"iban": "", "account_number": "12345678", "country": "US"}, "bic", "required with account_number"),
        ({"iban": "", "account_number": "12345678", "bic": "CHASUS33"}, "country", "required with account_number"),
        ({"iban": "", "account_number": "12_345", "bic": "CHASUS33", "country": "US"}, "account_number", "letters"),
        ({"iban": "", "account_number": "123", "bic": "CHASUS33", "country": "US"}, "account_number", "4-34"),
        ({"iban": "", "account_number": "12345678", "bic": "CHASUS33", "country": "USA"}, "country", "alpha-2"),
    ],
)
def test_each_bad_field_is_named(fields: dict[str, str], field: str, fragment: str) -> None:
    details, problems = check(**fields)
    assert details is None
    assert fragment in problems[field]


def test_every_problem_is_reported_at_once() -> None:
    _, problems = check(holder_name="", currency="", iban="DE00")
    assert set(problems) == {"holder_name", "currency", "iban"}


def test_unknown_currency_is_refused() -> None:
    violations = Violations()
    validate_bank_account(
        holder_name="A",
        country="",
        currency="QQQ",
        iban=GOOD_IBAN,
        account_number="",
        bic="",
        violations=violations,
        known_currency=False,
    )
    assert "not an ISO 4217" in violations._items[0].description


def test_account_number_with_bic() -> None:
    details, problems = check(iban="", account_number="0001-2345 678", bic="chas us 33", country="us", currency="USD")
    assert problems == {} and details is not None
    assert (details.account_number, details.bic, details.country, details.iban) == (
        "00012345678",
        "CHASUS33",
        "US",
        None,
    )


bbans = st.text(alphabet="0123456789", min_size=18, max_size=18)


@given(bban=bbans)
def test_any_german_iban_with_correct_check_digits_is_valid(bban: str) -> None:
    assert iban_problem(with_check_digits("DE", bban)) is None


@given(bban=bbans, position=st.integers(4, 21), delta=st.integers(1, 9))
def test_any_single_digit_change_is_caught(bban: str, position: int, delta: int) -> None:
    iban = with_check_digits("DE", bban)
    changed = iban[:position] + str((int(iban[position]) + delta) % 10) + iban[position + 1 :]
    assert "MOD 97-10" in (iban_problem(changed) or "")


@given(bban=bbans, position=st.integers(4, 20))
def test_any_adjacent_transposition_of_distinct_digits_is_caught(bban: str, position: int) -> None:
    iban = with_check_digits("DE", bban)
    a, b = iban[position], iban[position + 1]
    if a == b:
        return
    swapped = iban[:position] + b + a + iban[position + 2 :]
    assert iban_problem(swapped) is not None


@given(bban=bbans)
def test_mask_shows_only_country_check_digits_and_last_four(bban: str) -> None:
    iban = with_check_digits("DE", bban)
    masked = mask_iban(iban)
    assert masked == f"{iban[:4]} **** **** **** {iban[-4:]}"
    assert iban[4:-4] not in masked.replace(" ", "")


def test_masks_and_reprs_hide_clear_values() -> None:
    assert mask_iban(GOOD_IBAN) == "DE89 **** **** **** 3000"
    assert mask_holder_name("Erika Mustermann") == "E**** M*********"
    details, _ = check()
    assert details is not None
    account = BankAccount("BA1", "MC1", details)
    for text in (repr(details), repr(account), str(account)):
        assert GOOD_IBAN not in text and "Mustermann" not in text


def test_normalise_iban_strips_separators() -> None:
    assert normalise_iban("DE89-3704.0044/0532 0130\u00a000") == GOOD_IBAN
