"""Loaders for the logistics reference datasets: ISO 3166-1 countries (datasets/country-codes on GitHub)
and UN/CEFACT Recommendation 24 status codes (edi3/edi3-codelists)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy.engine import Connection

from services.logistics.adapters.tables import countries, status_codes
from services.logistics.domain import status_codes as rec24
from services.shared.csvfiles import read_records
from services.shared.refdata import DatasetSpec, Progress, replace_rows

_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_NUMERIC = re.compile(r"^[0-9]{1,3}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# UNTERM marks some names with footnote asterisks ("the Holy See *", "Niue **"); they are not part of the name.
_FOOTNOTE = re.compile(r"\s*\*+$")


def _cell(record: dict[str, str], column: str) -> str:
    return (record.get(column) or "").strip()


def _unterm(record: dict[str, str], column: str) -> str:
    return _FOOTNOTE.sub("", _cell(record, column))


def read_countries(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line, record in read_records(path, ("ISO3166-1-Alpha-2", "ISO3166-1-Alpha-3", "ISO3166-1-numeric")):
        alpha2 = _cell(record, "ISO3166-1-Alpha-2")
        # The table also lists a few non-ISO entities with no alpha-2 code (none in the 2026-05 snapshot,
        # which has 249 rows, all with one); they cannot be named through this API, so they are skipped.
        if not alpha2:
            continue
        alpha3 = _cell(record, "ISO3166-1-Alpha-3")
        numeric = _cell(record, "ISO3166-1-numeric")
        if not (_ALPHA2.match(alpha2) and _ALPHA3.match(alpha3) and _NUMERIC.match(numeric)):
            raise ValueError(f"{path.name}: line {line}: bad ISO 3166-1 codes {alpha2!r}/{alpha3!r}/{numeric!r}")
        # Several currencies circulate in some countries ("INR,BTN" for Bhutan, "SVC,USD" for El Salvador);
        # the API has one field, so it carries the first one the table lists.
        currencies = [c.strip() for c in _cell(record, "ISO4217-currency_alphabetic_code").split(",") if c.strip()]
        if currencies and not _CURRENCY.match(currencies[0]):
            raise ValueError(f"{path.name}: line {line}: bad ISO 4217 code {currencies[0]!r} for {alpha2}")
        # English names from UN M49 (official_name_en: "China", "United States of America"), complete for
        # every row; CLDR's display names abbreviate ("UK", "US", "Bosnia") and UNTERM's short names carry
        # articles ("Netherlands (the)") and are empty for territories. Chinese from UNTERM, falling back to
        # the table's official_name_cn where UNTERM has no entry (territories such as HK, TW).
        name_en = _cell(record, "official_name_en") or _cell(record, "CLDR display name")
        name_zh = _unterm(record, "UNTERM Chinese Short") or _cell(record, "official_name_cn")
        if not name_en:
            raise ValueError(f"{path.name}: line {line}: {alpha2} has no English name")
        rows.append(
            {
                "alpha2": alpha2,
                "alpha3": alpha3,
                "numeric": numeric.zfill(3),
                "name_en": name_en,
                "name_zh": name_zh,
                "formal_name_en": _unterm(record, "UNTERM English Formal"),
                "formal_name_zh": _unterm(record, "UNTERM Chinese Formal"),
                "currency_code": currencies[0] if currencies else "",
                "capital": _cell(record, "Capital"),
                "region": _cell(record, "Region Name"),
                "sub_region": _cell(record, "Sub-region Name"),
                "languages": json.dumps([t.strip() for t in _cell(record, "Languages").split(",") if t.strip()]),
                "tld": _cell(record, "TLD"),
            }
        )
    return rows


def load_countries(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, countries, read_countries(path), progress)


def read_status_codes(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for position, (_, record) in enumerate(read_records(path, ("Code", "Name", "Description")), start=1):
        name, description = _cell(record, "Name"), _cell(record, "Description")
        try:
            code = rec24.parse_status_code(_cell(record, "Code"))
        except rec24.CodeProblem as problem:
            raise ValueError(f"{path.name}: line {position + 1}: code {problem}") from None
        if not name:
            raise ValueError(f"{path.name}: line {position + 1}: code {code} has no name")
        rows.append(
            {
                "code": code,
                "position": position,
                "name": name,
                "description": description,
                "search_text": rec24.search_text(name, description),
            }
        )
    return rows


def load_status_codes(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, status_codes, read_status_codes(path), progress)


DATASETS = (
    DatasetSpec(
        "iso3166_countries",
        "countries/country-codes.csv",
        "ISO 3166-1 with UN M49 and UNTERM names via GitHub datasets/country-codes (2026-05)",
        load_countries,
        249,
    ),
    DatasetSpec(
        "unece_rec24_status_codes",
        "tracking/unece-rec24-status-codes.csv",
        "UN/CEFACT Recommendation 24 trade and transport status codes via GitHub edi3/edi3-codelists",
        load_status_codes,
        345,
    ),
)
