"""Reference copies a product check relies on (ADR 0009): countries, ECB euro rates, EU member-state VAT.

Compliance never reads another service's tables, so it imports the same shipped files as its own versioned
datasets; each report cites the versions it used.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Connection

from services.compliance.adapters.tables import ref_countries, ref_ecb_rates, ref_vat_rates
from services.shared.csvfiles import read_records
from services.shared.ecb_file import read_ecb_history
from services.shared.refdata import DatasetSpec, Progress, replace_rows

COUNTRIES = "iso3166_countries"
ECB_RATES = "ecb_reference_rates"
EU_VAT = "eu_vat_rates"

# ibericode/vat-rates writes "0000-01-01" for "since before the dataset's history begins".
_SINCE_EVER = date(1970, 1, 1)


def read_countries(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line, record in read_records(path, ("ISO3166-1-Alpha-2", "official_name_en")):
        alpha2 = (record.get("ISO3166-1-Alpha-2") or "").strip()
        if not alpha2:
            continue
        if len(alpha2) != 2 or not alpha2.isascii() or not alpha2.isupper():
            raise ValueError(f"{path.name}: line {line}: bad ISO 3166-1 alpha-2 {alpha2!r}")
        name_en = (record.get("official_name_en") or record.get("CLDR display name") or "").strip()
        name_zh = (record.get("UNTERM Chinese Short") or record.get("official_name_cn") or "").strip().rstrip("* ")
        rows.append({"alpha2": alpha2, "name_en": name_en or alpha2, "name_zh": name_zh or name_en or alpha2})
    return rows


def load_countries(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, ref_countries, read_countries(path), progress)


def load_ecb_rates(connection: Connection, path: Path, progress: Progress) -> int:
    """Store one row per day; returns the number of rates (the dataset's record count)."""
    days: dict[date, dict[str, str]] = {}
    for row in read_ecb_history(path):
        day = row["rate_date"]
        assert isinstance(day, date)
        days.setdefault(day, {})[str(row["currency"])] = str(row["units_per_eur"])
    rows: list[dict[str, object]] = [
        {"rate_date": day, "rates": json.dumps(rates, sort_keys=True)} for day, rates in sorted(days.items())
    ]
    replace_rows(connection, ref_ecb_rates, rows, lambda n: None)
    count = sum(len(r) for r in days.values())
    progress(count)
    return count


def read_vat_rates(path: Path) -> list[dict[str, object]]:
    document = json.loads(path.read_text("utf-8"))
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, dict) or not items:
        raise ValueError(f"{path.name}: expected an object with 'items' by country")
    rows: list[dict[str, object]] = []
    for country, periods in sorted(items.items()):
        for position, period in enumerate(periods):
            where = f"{path.name}: items.{country}[{position}]"
            raw = str(period.get("effective_from", ""))
            try:
                since = _SINCE_EVER if raw.startswith("0000") else date.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"{where}: effective_from {raw!r} is not a date") from None
            rates = period.get("rates") or {}
            standard = rates.get("standard")
            if isinstance(standard, bool) or not isinstance(standard, int | float):
                raise ValueError(f"{where}: no numeric standard rate")
            rows.append(
                {
                    "country": "GR" if country == "EL" else country,
                    "effective_from": since,
                    "standard_percent": format(Decimal(str(standard)).normalize(), "f"),
                    "rates": json.dumps(rates, sort_keys=True),
                }
            )
    return rows


def load_vat_rates(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, ref_vat_rates, read_vat_rates(path), progress)


CHECK_DATASETS = (
    DatasetSpec(
        COUNTRIES,
        "countries/country-codes.csv",
        "ISO 3166-1 via GitHub datasets/country-codes (2026-05), compliance's copy",
        load_countries,
        249,
    ),
    DatasetSpec(
        ECB_RATES,
        "fx/eurofxref-hist.zip",
        "ECB euro foreign exchange reference rates (eurofxref-hist), compliance's copy for value thresholds",
        load_ecb_rates,
        230_000,
    ),
    DatasetSpec(
        EU_VAT,
        "vat/eu-vat-rates.json",
        "EU VAT rates by member state via GitHub ibericode/vat-rates (2025-08), MIT",
        load_vat_rates,
        40,
    ),
)
