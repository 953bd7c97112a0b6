"""The sample fee parameters of overseas warehouses that take returns (data/logistics/return_warehouses.yaml)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from services.logistics.domain.returns import WarehouseFees

PATH = Path(__file__).resolve().parents[3] / "data" / "logistics" / "return_warehouses.yaml"


@lru_cache(maxsize=4)
def load_warehouse_fees(path: Path = PATH) -> dict[str, WarehouseFees]:
    """Each market country -> the warehouse taking its returns (a country served twice is refused)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    by_country: dict[str, WarehouseFees] = {}
    for raw in document.get("warehouses") or []:
        fees = WarehouseFees(
            str(raw["code"]),
            str(raw["name"]),
            frozenset(str(c) for c in raw["countries"]),
            str(raw["currency"]),
            Decimal(str(raw["local_return_leg"]["per_parcel"])),
            Decimal(str(raw["local_return_leg"]["per_kg"])),
            Decimal(str(raw["receiving_per_parcel"])),
            Decimal(str(raw["inspection_per_unit"])),
            Decimal(str(raw["restocking_per_unit"])),
        )
        for country in sorted(fees.countries):
            if country in by_country:
                raise ValueError(f"{path.name}: {country} is served by {by_country[country].code} and {fees.code}")
            by_country[country] = fees
    return by_country
