"""Loaders for the payments reference datasets (ISO 4217, ECB euro reference rates)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Connection

from services.payments.reference_data.adapters.tables import currencies, ecb_rates
from services.shared.ecb_file import read_ecb_history
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
