"""The sample overseas warehouses as a reference dataset: data/logistics/warehouses.yaml (SAMPLE DATA)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from services.logistics.adapters.tables import countries
from services.logistics.adapters.warehouse_repository import WarehouseRepository
from services.logistics.domain.warehouses import Warehouse, warehouse_from_mapping
from services.shared.refdata import DatasetSpec, Progress

WAREHOUSES_DATASET = "logistics_sample_warehouses"


def read_warehouses(path: Path, known_countries: frozenset[str]) -> list[Warehouse]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = document.get("warehouses") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path.name}: a top-level 'warehouses' list is required")
    found: dict[str, Warehouse] = {}
    for i, entry in enumerate(entries):
        warehouse = warehouse_from_mapping(entry, known_countries, f"{path.name}: warehouses[{i}]")
        if warehouse.code in found:
            raise ValueError(f"{path.name}: warehouse {warehouse.code} is defined twice")
        found[warehouse.code] = warehouse
    return list(found.values())


def load_sample_warehouses(connection: Connection, path: Path, progress: Progress) -> int:
    known = frozenset(connection.execute(sa.select(countries.c.alpha2)).scalars())
    count = WarehouseRepository(connection).replace_warehouses(read_warehouses(path, known))
    progress(count)
    return count


DATASETS = (
    DatasetSpec(
        WAREHOUSES_DATASET,
        "logistics/warehouses.yaml",
        "SAMPLE DATA: invented overseas warehouses (not any operator's sites), data/logistics",
        load_sample_warehouses,
        7,
    ),
)
