"""The ECB euro reference-rate history file (eurofxref-hist.zip), read the same way by every service that
keeps a copy of it (payments for rates and quotes, compliance for value thresholds: ADR 0009)."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from services.shared.csvfiles import read_records


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
            value = (raw or "").strip()
            if currency in ("", "Date") or value in ("", "N/A"):
                continue
            try:
                rate = Decimal(value)
            except InvalidOperation:
                rate = Decimal(0)
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{path.name}: line {line}: bad rate {value!r} for {currency} on {day}")
            rows.append({"rate_date": day, "currency": currency.strip(), "units_per_eur": value})
    return rows
