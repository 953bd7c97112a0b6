"""Overseas warehouses: who operates them, where they are, and their local time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    operator: str
    country: str
    address: str
    time_zone: str


def warehouse_from_mapping(raw: Any, known_countries: frozenset[str], where: str) -> Warehouse:
    """One definition of the warehouse file; ValueError naming the entry and key of the first problem."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a mapping is required")
    code = str(raw.get("code", "")).strip().upper()
    if not CODE.match(code):
        raise ValueError(f"{where}.code: {raw.get('code')!r} is not 3-40 letters, digits and hyphens")
    country = str(raw.get("country", "")).strip().upper()
    if country not in known_countries:
        raise ValueError(f"{where}.country: {raw.get('country')!r} is not an ISO 3166-1 alpha-2 code")
    zone = str(raw.get("time_zone", "")).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}.time_zone: {zone!r} is not an IANA time zone") from None
    texts = {key: str(raw.get(key, "")).strip() for key in ("name", "operator", "address")}
    for key, value in texts.items():
        if not value:
            raise ValueError(f"{where}.{key}: is required")
    return Warehouse(code, texts["name"], texts["operator"], country, texts["address"], zone)
