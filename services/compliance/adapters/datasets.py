"""Loader for the compliance reference dataset: WCO HS 2022 (datasets/harmonized-system on GitHub).

`harmonized-system.csv` (section,hscode,description,parent,level) and its sibling `sections.csv`
(section,name; the file starts with a UTF-8 BOM) form one dataset, `hs2022`, loaded together.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection

from services.compliance.adapters.check_datasets import CHECK_DATASETS
from services.compliance.adapters.tables import hs_codes, hs_sections
from services.compliance.domain import hs
from services.shared.csvfiles import read_records
from services.shared.refdata import DatasetSpec, Progress, replace_rows

SECTIONS_FILE = "sections.csv"

# The source appends UN Comtrade aggregates under section "TOTAL": the grand total and chapter 99
# (99 / 9999 / 999999, "Commodities not specified according to kind"). They are statistical codes, not
# WCO nomenclature, and belong to no section, so they are not loaded.
_NOT_NOMENCLATURE = "TOTAL"


def read_sections(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for position, (_, record) in enumerate(read_records(path, ("section", "name")), start=1):
        numeral = (record.get("section") or "").strip()
        name = (record.get("name") or "").strip()
        if not numeral or not name:
            raise ValueError(f"{path.name}: row {position + 1} lacks a section numeral or name")
        # The source writes section I in lower case ("live animals; ..."); the WCO capitalises every title.
        rows.append({"numeral": numeral, "position": position, "name": name[:1].upper() + name[1:]})
    return rows


def read_codes(path: Path, sections: set[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line, record in read_records(path, ("section", "hscode", "description", "parent", "level")):
        section = (record.get("section") or "").strip()
        if section == _NOT_NOMENCLATURE:
            continue
        code = (record.get("hscode") or "").strip()
        level = (record.get("level") or "").strip()
        description = (record.get("description") or "").strip()
        if not (code.isascii() and code.isdigit() and len(code) in hs.LEVELS and level == str(len(code))):
            raise ValueError(f"{path.name}: line {line}: bad code {code!r} or level {level!r}")
        if section not in sections:
            raise ValueError(f"{path.name}: line {line}: section {section!r} is not in {SECTIONS_FILE}")
        if not description:
            raise ValueError(f"{path.name}: line {line}: code {code} has no description")
        rows.append(
            {
                "code": code,
                "level": len(code),
                "section": section,
                "chapter": hs.chapter_of(code),
                "heading": hs.heading_of(code),
                "description": description,
                "search_text": hs.search_text(description),
            }
        )
    return rows


def load_hs(connection: Connection, path: Path, progress: Progress) -> int:
    """Load the codes file at `path` and the sections file beside it; returns the number of codes."""
    sections_path = path.with_name(SECTIONS_FILE)
    if not sections_path.is_file():
        raise FileNotFoundError(f"hs2022: {SECTIONS_FILE} must sit beside {path.name} (looked for {sections_path})")
    sections = read_sections(sections_path)
    codes = read_codes(path, {str(s["numeral"]) for s in sections})
    replace_rows(connection, hs_sections, sections, lambda _: None)
    return replace_rows(connection, hs_codes, codes, progress)


DATASETS = (
    DatasetSpec(
        "hs2022",
        "hs/harmonized-system.csv",
        "WCO Harmonized System 2022 via GitHub datasets/harmonized-system (2024-10)",
        load_hs,
        6940,
        companions=(SECTIONS_FILE,),
    ),
    *CHECK_DATASETS,
)
