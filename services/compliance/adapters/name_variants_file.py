"""Reads the name-part variant table (data/screening/name_variants.yaml) into domain.name_variants.

The file is imported as the versioned dataset `name_variants` (adapters/screening_config.py), which stores
the parsed document; `parse_name_variants` checks a document, from the file or from that stored copy.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from services.compliance.domain import names
from services.compliance.domain.name_variants import NameVariants, VariantGroup

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "data" / "screening" / "name_variants.yaml"


class VariantTableError(ValueError):
    """The variant table file is malformed; the message names the file and the group."""


def load_variant_document(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise VariantTableError(f"{path}: cannot be read ({error})") from None


def read_name_variants(path: Path = DEFAULT_PATH) -> NameVariants:
    return parse_name_variants(load_variant_document(path), str(path))


def parse_name_variants(data: object, path: str) -> NameVariants:
    """The table a parsed document describes; VariantTableError naming `path` and the group."""
    if not isinstance(data, dict) or not str(data.get("version") or "").strip():
        raise VariantTableError(f"{path}: needs a non-empty `version`")
    sources = data.get("sources") or {}
    groups: list[VariantGroup] = []
    for number, raw in enumerate(data.get("groups") or []):
        where = f"{path}: groups[{number}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("spellings"), list):
            raise VariantTableError(f"{where}: needs `spellings`, a list")
        source = str(raw.get("source", ""))
        if source not in sources:
            raise VariantTableError(f"{where}: source {source!r} is not one of {sorted(sources)}")
        spellings: list[str] = []
        for spelling in raw["spellings"]:
            text = str(spelling)
            if names.fold(text) != text or " " in text:
                raise VariantTableError(f"{where}: spelling {text!r} must be one lower-case ASCII word")
            if text not in spellings:
                spellings.append(text)
        if len(spellings) < 2:
            raise VariantTableError(f"{where}: a group needs at least two spellings")
        groups.append(VariantGroup(str(raw.get("name", spellings[0])), source, tuple(spellings)))
    try:
        return NameVariants.build(str(data["version"]), groups)
    except ValueError as error:
        raise VariantTableError(f"{path}: {error}") from None
