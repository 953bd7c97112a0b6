# ruff: noqa: RUF001  (Cyrillic and CJK names are the test data)
"""Name normalisation for screening: what is folded, what is dropped, and that it is stable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.compliance.domain import names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  BANCO   NACIONAL, de  CUBA. ", ("banco", "nacional", "cuba")),
        ("Müller-Lüdenscheidt", ("muller", "ludenscheidt")),
        ("Владимир Путин", ("vladimir", "putin")),
        ("习近平", ("xi", "jinping")),
        ("Mr. Vladimir PUTIN", ("vladimir", "putin")),
        ("Sheikh Haji Abdul Rahman", ("abdul", "rahman")),
        # The article marks a family name: "al-Shaykh" is not the title, however it is written.
        ("AL-SHAYKH, Muhammad", ("alshaykh", "muhammad")),
        ("Muhammad Alshaykh", ("muhammad", "alshaykh")),
        ("ANGLO-CARIBBEAN CO., LTD.", ("anglo", "caribbean")),
        ("ООО «Ромашка»", ("romashka",)),
        ("Guamatur, S.A.", ("guamatur",)),
        ("深圳华信贸易有限公司", ("shenzhenhuaxinmaoyi",)),
        ("AL-QAIDA", ("qaida",)),
        ("Alshairi Husayn", ("shairi", "husayn")),
        ("Sa'id", ("said",)),
    ],
)
def test_tokens(raw: str, expected: tuple[str, ...]) -> None:
    assert names.tokens(raw) == expected


def test_a_name_made_only_of_dropped_words_keeps_them() -> None:
    # "The Company Ltd" must not vanish: an empty name would match nothing and hide the party.
    assert names.tokens("Company Ltd") == ("company", "ltd")
    assert names.tokens("Dr") == ("dr",)


def test_chinese_syllables_are_not_mistaken_for_titles() -> None:
    # "Eng" and "Gen" are Chinese and Korean name syllables, not "engineer" or "general".
    assert names.tokens("Sin Eng Il") == ("sin", "eng", "il")
    assert names.tokens("Gen Li") == ("gen", "li")


def test_identifiers_compare_on_letters_and_digits() -> None:
    assert names.normalise_identifier("ob 024-3318") == names.normalise_identifier("OB0243318") == "OB0243318"


@given(st.text(max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = names.normalise(text)
    assert names.normalise(once) == once


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_folded_text_is_plain_lower_case_ascii_words(text: str) -> None:
    folded = names.fold(text)
    assert folded == folded.strip()
    assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == " ") for ch in folded)
    assert "  " not in folded
