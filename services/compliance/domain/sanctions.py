"""Sanctions list entries as the screening matcher sees them, whatever list they came from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum


class PartyType(Enum):
    UNKNOWN = "unknown"  # a list entry whose kind the list does not say, or a query that does not say
    PERSON = "person"
    COMPANY = "company"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"


@dataclass(frozen=True)
class Identifier:
    type: str  # lower case: "passport", "imo", "national_id", "registration", ... ("" when unknown)
    value: str  # as printed on the list


@dataclass(frozen=True)
class EntryName:
    name: str
    is_alias: bool
    weak: bool = False  # a low-quality alias (UN "Low", OFAC "a.k.a." nicknames): scored lower


@dataclass(frozen=True)
class SanctionsEntry:
    list_name: str  # the dataset: "ofac_sdn", "un_consolidated", "bis_dpl"
    entry_id: str  # the list's own id (OFAC ent_num, UN REFERENCE_NUMBER, BIS row key)
    party_type: PartyType
    names: tuple[EntryName, ...]  # the primary name first
    programs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # as the list writes them (nationality, citizenship, address country)
    dates_of_birth: tuple[str, ...] = ()  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    identifiers: tuple[Identifier, ...] = ()
    remarks: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def primary_name(self) -> str:
        return self.names[0].name

    def content_hash(self) -> str:
        """What changes when the list changes this entry (drives `list_updated`'s changed ids)."""
        data = [
            self.list_name,
            self.entry_id,
            self.party_type.value,
            [[n.name, n.is_alias, n.weak] for n in self.names],
            list(self.programs),
            list(self.countries),
            list(self.dates_of_birth),
            [[i.type, i.value] for i in self.identifiers],
            self.remarks,
            sorted(self.extra.items()),
        ]
        return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class ListInfo:
    """One loaded list: which version, and when its publisher says it was published."""

    list_name: str
    title: str
    version: str  # content hash of the imported file(s)
    published_on: str  # "YYYY-MM-DD", "" when the file does not say
    date_basis: str  # how published_on was determined
    entry_count: int


@dataclass(frozen=True)
class ListChange:
    """What one import changed in one list (the `list_updated` event's content)."""

    list_name: str
    old_version: str
    new_version: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def touched(self) -> frozenset[str]:
        return frozenset((*self.added, *self.changed, *self.removed))


def diff_entries(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) entry ids between two {entry_id: content hash} maps, each sorted."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    return added, changed, removed
