"""Country and Rec. 24 code rules and the file readers (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.logistics.adapters.datasets import read_countries, read_status_codes
from services.logistics.domain import countries, status_codes
from services.shared.settings import Settings

DATA = Settings().data_dir


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("CN", countries.CodeKind.ALPHA2, "CN"),
        (" cn ", countries.CodeKind.ALPHA2, "CN"),
        ("chn", countries.CodeKind.ALPHA3, "CHN"),
        ("156", countries.CodeKind.NUMERIC, "156"),
        ("4", countries.CodeKind.NUMERIC, "004"),
        ("04", countries.CodeKind.NUMERIC, "004"),
    ],
)
def test_country_codes_of_every_kind(raw: str, kind: countries.CodeKind, value: str) -> None:
    assert countries.parse_country_code(raw) == countries.CountryCode(kind, value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "is required"),
        ("C", "alpha-2"),
        ("CHINA", "alpha-2"),
        ("1560", "numeric"),
        ("C1", "alpha-2"),
        ("ÇN", "alpha-2"),
    ],
)
def test_malformed_country_codes_are_refused(raw: str, message: str) -> None:
    with pytest.raises(countries.CodeProblem, match=message):
        countries.parse_country_code(raw)


def test_status_codes_and_queries() -> None:
    assert status_codes.parse_status_code(" 21 ") == "21"
    assert status_codes.parse_query("Delivery, COMPLETED") == ("delivery", "completed")
    assert status_codes.parse_query("") == ()
    for bad in ("", "2100", "2-1"):
        with pytest.raises(status_codes.CodeProblem):
            status_codes.parse_status_code(bad)
    with pytest.raises(status_codes.CodeProblem, match="letters or digits"):
        status_codes.parse_query("?!")


def test_china_reads_as_the_api_promises() -> None:
    china = next(row for row in read_countries(DATA / "countries/country-codes.csv") if row["alpha2"] == "CN")
    assert (china["name_en"], china["name_zh"], china["alpha3"], china["numeric"], china["currency_code"]) == (
        "China",
        "中国",
        "CHN",
        "156",
        "CNY",
    )
    assert china["formal_name_en"] == "the People's Republic of China"
    assert china["formal_name_zh"] == "中华人民共和国"
    assert (china["region"], china["sub_region"], china["tld"]) == ("Asia", "Eastern Asia", ".cn")
    assert json.loads(str(china["languages"]))[0] == "zh-CN"


def test_table_quirks_are_normalised() -> None:
    rows = {row["alpha2"]: row for row in read_countries(DATA / "countries/country-codes.csv")}
    assert len(rows) == 249
    assert rows["AF"]["numeric"] == "004"  # the file drops leading zeros
    assert rows["BT"]["currency_code"] == "INR"  # "INR,BTN": the first listed
    assert rows["VA"]["formal_name_en"] == "the Holy See"  # UNTERM footnote asterisk removed
    assert rows["HK"]["name_zh"] == "中国香港特别行政区"  # no UNTERM entry: official_name_cn
    assert rows["CW"]["capital"] == "Willemstad"


def test_a_row_without_alpha2_is_skipped(tmp_path: Path) -> None:
    source = (DATA / "countries/country-codes.csv").read_text(encoding="utf-8-sig").splitlines()
    header = source[0].split(",")
    blank = ["" for _ in header]
    path = tmp_path / "country-codes.csv"
    path.write_text("\n".join([source[0], ",".join(blank), *source[1:3]]) + "\n", encoding="utf-8")
    assert len(read_countries(path)) == 2


def test_rec24_list_keeps_its_order() -> None:
    rows = read_status_codes(DATA / "tracking/unece-rec24-status-codes.csv")
    assert len(rows) == 345
    assert [row["code"] for row in rows[:3]] == ["1", "2", "3"]
    delivered = next(row for row in rows if row["code"] == "21")
    assert delivered["name"] == "Delivery, completed"
