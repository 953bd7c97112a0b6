"""ISO 4217 currency table, parsed from the published CSV (data/currencies/codes-all.csv).

One parser serves both the money kernel (minor units) and the payments importer (the served table).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from services.shared.csvfiles import read_records
from services.shared.settings import Settings

# ISO 4217 lists funds codes and precious metals beside legal tender; they carry "N.A." minor units or are
# marked as funds in the standard's own notes. Codes from the standard's list of funds (X* are supranational).
FUNDS_AND_METALS = frozenset(
    {
        "BOV",
        "CHE",
        "CHW",
        "CLF",
        "COU",
        "MXV",
        "USN",
        "UYI",
        "UYW",
        "XAG",
        "XAU",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XPD",
        "XPT",
        "XSU",
        "XTS",
        "XUA",
        "XXX",
    }
)


@dataclass
class CurrencyInfo:
    code: str
    numeric_code: str
    name: str
    minor_unit: int | None  # None where ISO 4217 says "N.A."
    entities: list[str] = field(default_factory=list)
    withdrawn: str = ""  # "" while any entity still uses it; else the latest withdrawal date

    @property
    def is_fund_or_metal(self) -> bool:
        return self.code in FUNDS_AND_METALS


def parse_iso4217(rows: Iterable[dict[str, str]]) -> dict[str, CurrencyInfo]:
    """Fold the per-entity rows into one record per alphabetic code.

    A code is active when at least one entity row has no WithdrawalDate; its name, numeric code and minor
    unit then come from an active row (withdrawn rows can carry historical names).
    """
    active: dict[str, CurrencyInfo] = {}
    withdrawn: dict[str, CurrencyInfo] = {}
    for row in rows:
        code = (row.get("AlphabeticCode") or "").strip()
        if len(code) != 3:
            continue
        minor_raw = (row.get("MinorUnit") or "").strip()
        minor = int(minor_raw) if minor_raw.isdigit() else None
        entity = (row.get("Entity") or "").strip()
        date = (row.get("WithdrawalDate") or "").strip()
        info = CurrencyInfo(
            code,
            (row.get("NumericCode") or "").strip().split(".")[0].zfill(3),
            (row.get("Currency") or "").strip(),
            minor,
        )
        target = withdrawn if date else active
        record = target.setdefault(code, info)
        if entity and entity not in record.entities:
            record.entities.append(entity)
        if date and date > record.withdrawn:
            record.withdrawn = date
    for code, record in withdrawn.items():
        if code not in active:
            active[code] = record
    return dict(sorted(active.items()))


def read_iso4217(path: Path) -> dict[str, CurrencyInfo]:
    return parse_iso4217(record for _, record in read_records(path, ("AlphabeticCode", "MinorUnit")))


def iso4217_path(settings: Settings | None = None) -> Path:
    return (settings or Settings()).data_dir / "currencies" / "codes-all.csv"


@functools.cache
def default_table() -> dict[str, CurrencyInfo]:
    """The shipped ISO 4217 table (read once per process)."""
    return read_iso4217(iso4217_path(Settings.from_env()))
