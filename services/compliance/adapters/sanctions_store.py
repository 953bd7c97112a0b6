"""Sanctions lists as versioned reference datasets: the import loaders, and reading the lists back.

Each list is one dataset of services/shared/refdata.py (content hash = version; an unchanged file changes
nothing). A new version replaces the list's entries, records the list's publication date, and emits
`list_updated` with the entry ids added, changed and removed, in the import's own transaction: the
loader writes the event to the outbox beside the rows, so the event exists if and only if the new
version does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from xborder.compliance.v1 import events_pb2

from services.compliance.adapters.sanctions_files import (
    OFAC_ADD,
    OFAC_ALT,
    CountryNames,
    ParsedList,
    read_bis,
    read_ofac,
    read_un,
)
from services.compliance.adapters.screening_tables import sanctions_entries, sanctions_lists
from services.compliance.adapters.tables import DATASET_VERSIONS, OUTBOX
from services.compliance.domain.sanctions import (
    EntryName,
    Identifier,
    ListChange,
    ListInfo,
    PartyType,
    SanctionsEntry,
    diff_entries,
)
from services.shared.clock import utcnow
from services.shared.events import Event
from services.shared.outbox import write_event
from services.shared.refdata import DatasetSpec, DatasetVersions, Progress, file_version

SERVICE = "compliance"
COUNTRY_FILE = Path("countries") / "country-codes.csv"


@dataclass(frozen=True)
class ListSource:
    name: str
    title: str
    relative_path: str
    companions: tuple[str, ...]
    read: Callable[[Path, CountryNames], ParsedList]
    expected: int


SOURCES = (
    ListSource(
        "ofac_sdn",
        "US Treasury OFAC Specially Designated Nationals and Blocked Persons (SDN) list",
        "sanctions/ofac_bench_sdn.csv",
        (OFAC_ALT, OFAC_ADD),
        read_ofac,
        8976,
    ),
    ListSource(
        "un_consolidated",
        "UN Security Council Consolidated Sanctions List",
        "sanctions/un_consolidated.xml",
        (),
        lambda path, countries: read_un(path, countries),
        1003,
    ),
    ListSource(
        "bis_dpl",
        "US Commerce BIS Denied Persons List",
        "sanctions/bis_dpl.txt",
        (),
        lambda path, _countries: read_bis(path, utcnow().date()),
        579,
    ),
)
LIST_NAMES = tuple(s.name for s in SOURCES)
_TITLES = {s.name: s.title for s in SOURCES}


def entry_to_record(entry: SanctionsEntry) -> dict[str, Any]:
    return {
        "names": [[n.name, n.is_alias, n.weak] for n in entry.names],
        "programs": list(entry.programs),
        "countries": list(entry.countries),
        "dates_of_birth": list(entry.dates_of_birth),
        "identifiers": [[i.type, i.value] for i in entry.identifiers],
        "remarks": entry.remarks,
        "extra": entry.extra,
    }


def entry_from_row(list_name: str, entry_id: str, party_type: str, record: dict[str, Any]) -> SanctionsEntry:
    return SanctionsEntry(
        list_name=list_name,
        entry_id=entry_id,
        party_type=PartyType(party_type),
        names=tuple(EntryName(n, bool(alias), bool(weak)) for n, alias, weak in record["names"]),
        programs=tuple(record["programs"]),
        countries=tuple(record["countries"]),
        dates_of_birth=tuple(record["dates_of_birth"]),
        identifiers=tuple(Identifier(t, v) for t, v in record["identifiers"]),
        remarks=record.get("remarks", ""),
        extra=dict(record.get("extra", {})),
    )


def emit_in(connection: Connection, message: Any) -> Event:
    """Write an event to compliance's outbox in the caller's transaction (UnitOfWork.emit's row)."""
    return write_event(connection, OUTBOX, SERVICE, message)


# The rows last parsed for each list, by the hash of the files they came from: a process that imports the
# same files into several databases (the test suite, a replica re-seeding) parses each version once.
_parsed: dict[str, tuple[str, ParsedList, list[dict[str, Any]]]] = {}


def _rows(source: ListSource, path: Path) -> tuple[str, ParsedList, list[dict[str, Any]]]:
    countries_path = path.parents[1] / COUNTRY_FILE
    version = file_version(path, *(path.with_name(c) for c in source.companions))
    key = version + (file_version(countries_path) if countries_path.is_file() else "")
    cached = _parsed.get(source.name)
    if cached is not None and cached[0] == key:
        return version, cached[1], cached[2]
    parsed = source.read(path, CountryNames.from_file(countries_path))
    rows = [
        {
            "list_name": source.name,
            "entry_id": e.entry_id,
            "party_type": e.party_type.value,
            "primary_name": e.primary_name,
            "record": entry_to_record(e),
            "content_hash": e.content_hash(),
        }
        for e in parsed.entries
    ]
    _parsed[source.name] = (key, parsed, rows)
    return version, parsed, rows


def _loader(source: ListSource) -> Callable[[Connection, Path, Progress], int]:
    def load(connection: Connection, path: Path, progress: Progress) -> int:
        version, parsed, rows = _rows(source, path)
        t = sanctions_entries
        old = dict(
            connection.execute(sa.select(t.c.entry_id, t.c.content_hash).where(t.c.list_name == source.name)).all()
        )
        duplicates = len(rows) - len({r["entry_id"] for r in rows})
        if duplicates:
            raise ValueError(f"{path.name}: {duplicates} entry ids occur more than once")
        added, changed, removed = diff_entries(old, {str(r["entry_id"]): str(r["content_hash"]) for r in rows})
        connection.execute(t.delete().where(t.c.list_name == source.name))
        count = _insert(connection, rows, progress)
        current = DatasetVersions(connection, DATASET_VERSIONS).current(source.name)
        connection.execute(sanctions_lists.delete().where(sanctions_lists.c.list_name == source.name))
        connection.execute(
            sanctions_lists.insert().values(
                list_name=source.name,
                title=source.title,
                version=version,
                published_on=parsed.published_on,
                date_basis=parsed.date_basis,
                entry_count=count,
            )
        )
        emit_in(
            connection,
            events_pb2.ListUpdated(
                list_name=source.name,
                old_version=current.version if current else "",
                new_version=version,
                publication_date=parsed.published_on,
                added_entry_ids=added,
                changed_entry_ids=changed,
                removed_entry_ids=removed,
                entry_count=count,
            ),
        )
        return count

    return load


def _insert(connection: Connection, rows: list[dict[str, Any]], progress: Progress, chunk: int = 2000) -> int:
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        connection.execute(sanctions_entries.insert(), part)
        progress(len(part))
    return len(rows)


SCREENING_DATASETS = tuple(
    DatasetSpec(
        s.name,
        s.relative_path,
        f"{s.title} (data/README.md)",
        _loader(s),
        s.expected,
        companions=s.companions,
    )
    for s in SOURCES
)


def list_change(message: events_pb2.ListUpdated) -> ListChange:
    return ListChange(
        message.list_name,
        message.old_version,
        message.new_version,
        tuple(message.added_entry_ids),
        tuple(message.changed_entry_ids),
        tuple(message.removed_entry_ids),
    )


class SanctionsRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def current_versions(self) -> dict[str, str]:
        """{list name: current dataset version} for the sanctions lists that have been imported."""
        t = DATASET_VERSIONS
        rows = self.connection.execute(
            sa.select(t.c.dataset, t.c.version).where(t.c.dataset.in_(LIST_NAMES), t.c.is_current.is_(True))
        ).all()
        return {row.dataset: row.version for row in rows}

    def lists(self) -> list[ListInfo]:
        t = sanctions_lists
        rows = self.connection.execute(sa.select(t).order_by(t.c.list_name)).all()
        return [
            ListInfo(r.list_name, r.title, r.version, r.published_on, r.date_basis, int(r.entry_count)) for r in rows
        ]

    def entries(self, list_name: str | None = None) -> list[SanctionsEntry]:
        t = sanctions_entries
        query = sa.select(t.c.list_name, t.c.entry_id, t.c.party_type, t.c.record).order_by(t.c.list_name, t.c.entry_id)
        if list_name is not None:
            query = query.where(t.c.list_name == list_name)
        return [entry_from_row(*row) for row in self.connection.execute(query)]
