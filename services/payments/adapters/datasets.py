"""Loaders for the payments reference datasets (ISO 4217, ECB euro reference rates)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy.engine import Connection

from services.payments.adapters.tables import currencies, ecb_rates
from services.shared.csvfiles import read_records
from services.shared.iso4217 import read_iso4217
from services.shared.refdata import DatasetSpec, Progress, replace_rows


def load_currencies(connection: Connection, path: Path, progress: Progress) -> int:
    rows: list[dict[str, object]] = [
        {
            "code": c.code,
            "numeric_code": c.numeric_code,
            "name": c.name,
            "minor_unit": c.minor_unit,
            "entities": json.dumps(c.entities, ensure_ascii=False),
            "withdrawn": c.withdrawn,
            "is_fund_or_metal": c.is_fund_or_metal,
        }
        for c in read_iso4217(path).values()
    ]
    return replace_rows(connection, currencies, rows, progress)


def read_ecb_history(path: Path) -> list[dict[str, object]]:
    """Rows of (date, currency, units per EUR) from the ECB history zip; "N/A" cells are skipped.

    A row with more or fewer cells than the header would shift rates onto the wrong currencies, so it is
    refused, as is a rate that is not a positive decimal: the import then changes nothing.
    """
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        if not names:
            raise ValueError(f"{path.name}: no CSV file inside the archive")
        text = archive.read(names[0]).decode("utf-8-sig")
    rows: list[dict[str, object]] = []
    for line, record in read_records(path, ("Date",), text=text):
        try:
            day = date.fromisoformat(record["Date"].strip())
        except ValueError:
            raise ValueError(f"{path.name}: line {line}: {record['Date']!r} is not a date") from None
        for currency, raw in record.items():
            value = raw.strip()
            if currency in ("", "Date") or value in ("", "N/A"):
                continue
            try:
                rate = Decimal(value)
            except InvalidOperation:
                rate = Decimal(0)
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{path.name}: line {line}: bad rate {value!r} for {currency} on {day}")
            rows.append({"rate_date": day, "currency": currency, "units_per_eur": value})
    return rows


def load_ecb_rates(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, ecb_rates, read_ecb_history(path), progress)


DATASETS = (
    DatasetSpec(
        "iso4217_currencies",
        "currencies/codes-all.csv",
        "ISO 4217 via GitHub datasets/currency-codes (2026-02)",
        load_currencies,
        180,
    ),
    DatasetSpec(
        "ecb_reference_rates",
        "fx/eurofxref-hist.zip",
        "ECB euro foreign exchange reference rates (eurofxref-hist)",
        load_ecb_rates,
        230_000,
    ),
)
