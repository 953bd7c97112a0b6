"""HS code rules, search queries, page tokens and the HS 2022 file reader (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.compliance.adapters.datasets import read_codes, read_sections
from services.compliance.domain import hs, paging
from services.shared.settings import Settings


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("850760", "850760"),
        ("8507.60", "850760"),
        (" 8507 60 ", "850760"),
        ("85", "85"),
        ("8507", "8507"),
        ("01.01", "0101"),
    ],
)
def test_codes_are_read_without_dots_and_spaces(raw: str, code: str) -> None:
    assert hs.parse_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("85076", "must be 2, 4 or 6 digits"),
        ("8", "must be 2, 4 or 6 digits"),
        ("8507601", "must be 2, 4 or 6 digits"),
        ("ABCDEF", "must contain only digits"),
        ("\uff18\uff15\uff10\uff17", "must contain only digits"),  # full-width digits are not HS codes
        ("", "is required"),
        ("85076000", "look up its 6-digit subheading 850760"),
        ("8507.60.00.10", "10-digit national tariff line"),
    ],
)
def test_bad_codes_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(hs.CodeProblem, match=message):
        hs.parse_code(raw)


def test_search_text_matches_word_prefixes_only() -> None:
    text = hs.search_text("Electric accumulators; lithium-ion, including separators")
    assert " lithium" in text and " ion " in text and " accum" in text
    assert " thium" not in text  # the middle of a word is not a word prefix


def test_accents_fold_into_ascii_words() -> None:
    assert hs.search_words("Crème fraîche; Lait") == ["creme", "fraiche", "lait"]


def test_queries_are_words_or_code_prefixes() -> None:
    assert hs.parse_query("Lithium-ion  cells").words == ("lithium", "ion", "cells")
    assert hs.parse_query("lithium lithium").words == ("lithium",)
    assert hs.parse_query("8507.6") == hs.SearchQuery("85076", ())
    assert hs.parse_query("lithium 2836").words == ("lithium", "2836")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("8", "2 to 6 digits"),
        ("8507600", "2 to 6 digits"),
        ("85076000", "search its 6-digit subheading 850760"),
        ("--;", "letters or digits"),
        ("x" * 201, "at most 200"),
    ],
)
def test_bad_queries_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(hs.CodeProblem, match=message):
        hs.parse_query(raw)


@given(st.integers(min_value=0, max_value=10**9), st.text(max_size=40))
def test_page_tokens_round_trip(offset: int, key: str) -> None:
    assert paging.decode_token(paging.encode_token(offset, key), key) == offset


def test_a_token_from_another_search_is_refused() -> None:
    token = paging.encode_token(20, "words:lithium|level:0")
    with pytest.raises(paging.PagingProblem, match="different search"):
        paging.decode_token(token, "words:lithium|level:6")


@pytest.mark.parametrize("token", ["not a token", "e30", "eyJvIjotMSwicSI6IngifQ", "W10", "%%%"])
def test_forged_or_garbled_tokens_are_refused(token: str) -> None:
    with pytest.raises(paging.PagingProblem):
        paging.decode_token(token, "words:lithium|level:0")


@pytest.mark.parametrize(("requested", "size"), [(0, 20), (1, 1), (100, 100)])
def test_page_size_defaults_and_bounds(requested: int, size: int) -> None:
    assert paging.page_size(requested) == size


@pytest.mark.parametrize("requested", [-1, 101])
def test_page_size_out_of_range_is_refused(requested: int) -> None:
    with pytest.raises(paging.PagingProblem, match="between 1 and 100"):
        paging.page_size(requested)


def test_the_shipped_files_hold_the_wco_nomenclature_only() -> None:
    folder = Settings().data_dir / "hs"
    sections = read_sections(folder / "sections.csv")
    assert [s["numeral"] for s in sections][:3] == ["I", "II", "III"] and len(sections) == 21
    assert sections[0]["name"] == "Live animals; animal products"  # BOM stripped, title capitalised
    codes = {
        row["code"]: row
        for row in read_codes(folder / "harmonized-system.csv", {"I", "XVI"} | {str(s["numeral"]) for s in sections})
    }
    assert codes["850760"]["heading"] == "8507" and codes["850760"]["chapter"] == "85"
    assert codes["85"]["heading"] is None
    # UN Comtrade's chapter 99 and grand total are statistical codes, not HS: not loaded.
    assert not {"99", "9999", "999999", "TOTAL"} & set(codes)
    assert sum(1 for row in codes.values() if row["level"] == 6) == 5612


def test_a_code_in_an_unknown_section_fails_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "harmonized-system.csv"
    path.write_text("section,hscode,description,parent,level\nXXX,01,Animals; live,TOTAL,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="section 'XXX'"):
        read_codes(path, {"I"})
