"""The countries dataset payments keeps for itself: ISO 3166-1 alpha-2 with UN M49 region and sub-region.

Payments never reads logistics' tables (ADR 0003), so the insurance route loading reads its own import of
the same file (datasets/country-codes on GitHub, UN M49 "Region Name" / "Sub-region Name" columns).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection

from services.payments.vas.adapters.tables import vas_countries
from services.shared.csvfiles import read_records
from services.shared.refdata import DatasetSpec, Progress, replace_rows

_ALPHA2 = re.compile(r"^[A-Z]{2}$")


def read_regions(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line, record in read_records(path, ("ISO3166-1-Alpha-2", "Region Name", "Sub-region Name")):
        alpha2 = record["ISO3166-1-Alpha-2"].strip()
        if not alpha2:
            continue
        if not _ALPHA2.match(alpha2):
            raise ValueError(f"{path.name}: line {line}: bad ISO 3166-1 alpha-2 code {alpha2!r}")
        # Antarctica and a few territories have no M49 region: they get none, which prices as intercontinental.
        rows.append(
            {"alpha2": alpha2, "region": record["Region Name"].strip(), "subregion": record["Sub-region Name"].strip()}
        )
    return rows


def load_regions(connection: Connection, path: Path, progress: Progress) -> int:
    return replace_rows(connection, vas_countries, read_regions(path), progress)


COUNTRY_REGIONS = DatasetSpec(
    "vas_countries",
    "countries/country-codes.csv",
    "ISO 3166-1 with UN M49 regions via GitHub datasets/country-codes",
    load_regions,
    250,
)
