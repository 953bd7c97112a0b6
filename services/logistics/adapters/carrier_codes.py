"""The per-carrier event-code mapping tables (data/logistics/carrier_codes/*.yaml), read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from services.logistics.domain.tracking import CarrierTable, table_from_mapping

DIRECTORY = Path(__file__).resolve().parents[3] / "data" / "logistics" / "carrier_codes"


@lru_cache(maxsize=4)
def load_tables(directory: Path = DIRECTORY) -> dict[str, CarrierTable]:
    """Every carrier's table by its carrier id (the file's `carrier`, lower case)."""
    tables = {}
    for path in sorted(directory.glob("*.yaml")):
        table = table_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))
        tables[table.carrier] = table
    return tables
