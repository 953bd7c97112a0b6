"""The channel catalogue in the database: channel definitions and their rate-sheet versions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.logistics.adapters.catalogue_tables import channels, rate_rows, rate_sheets
from services.logistics.domain.channels import Channel, channel_from_mapping
from services.logistics.domain.rate_sheets import Bracket, RateSheet, ZoneRates
from services.shared.money import minor_unit


def channel_from_row(
    definition: Mapping[str, Any],
    known_countries: frozenset[str] = frozenset(),
    known_carriers: frozenset[str] = frozenset(),
) -> Channel:
    currency_exponent = minor_unit(str(definition.get("currency", "")))
    return channel_from_mapping(definition, currency_exponent, known_countries, known_carriers)


class ChannelRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def replace_all(self, definitions: Sequence[Mapping[str, Any]]) -> int:
        self.connection.execute(channels.delete())
        if definitions:
            self.connection.execute(
                channels.insert(),
                [
                    {
                        "code": d["code"],
                        "name": d.get("name") or d["code"],
                        "carrier": d.get("carrier") or "",
                        "carrier_id": str(d.get("carrier_id") or "").strip().lower(),
                        "tracking_carriers": " ".join(sorted(channel_from_row(d).tracking_carriers)),
                        "kind": d["kind"],
                        "currency": d["currency"],
                        "definition": json.dumps(d, sort_keys=True),
                    }
                    for d in definitions
                ],
            )
        return len(definitions)

    def carrier_ids(self, codes: Iterable[str]) -> dict[str, str]:
        """Channel code -> the carrier id operating it, for these channels."""
        wanted = sorted(set(codes))
        query = sa.select(channels.c.code, channels.c.carrier_id).where(channels.c.code.in_(wanted))
        return {row.code: row.carrier_id for row in self.connection.execute(query)}

    def all(self) -> dict[str, Channel]:
        rows = self.connection.execute(sa.select(channels.c.code, channels.c.definition).order_by(channels.c.code))
        return {row.code: channel_from_row(json.loads(row.definition)) for row in rows}


@dataclass(frozen=True)
class StoredVersion:
    channel_code: str
    version: int
    valid_from: datetime
    row_count: int


class RateSheetRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def revision(self) -> int:
        """Grows with every stored version: the catalogue cache reloads when it changes."""
        return int(self.connection.execute(sa.select(sa.func.coalesce(sa.func.max(rate_sheets.c.id), 0))).scalar_one())

    def latest(self, channel_code: str) -> StoredVersion | None:
        t = rate_sheets
        query = (
            sa.select(t.c.channel_code, t.c.version, t.c.valid_from, t.c.row_count)
            .where(t.c.channel_code == channel_code)
            .order_by(t.c.version.desc())
            .limit(1)
        )
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return StoredVersion(row.channel_code, row.version, row.valid_from, row.row_count) if row else None

    def add(
        self,
        channel_code: str,
        version: int,
        valid_from: datetime,
        imported_at: datetime,
        source: str,
        zones: Mapping[str, list[Bracket]],
    ) -> StoredVersion:
        count = sum(len(brackets) for brackets in zones.values())
        sheet_id = self.connection.execute(
            rate_sheets.insert()
            .values(
                channel_code=channel_code,
                version=version,
                valid_from=valid_from,
                imported_at=imported_at,
                source=source,
                row_count=count,
            )
            .returning(rate_sheets.c.id)
        ).scalar_one()
        self.connection.execute(
            rate_rows.insert(),
            [
                {
                    "sheet_id": sheet_id,
                    "zone": zone,
                    "weight_from_kg": str(b.weight_from_kg),
                    "weight_to_kg": str(b.weight_to_kg),
                    "per_parcel": str(b.per_parcel),
                    "per_kg": str(b.per_kg),
                }
                for zone, brackets in sorted(zones.items())
                for b in brackets
            ],
        )
        return StoredVersion(channel_code, version, valid_from, count)

    def channels_with_sheets(self) -> set[str]:
        return set(self.connection.execute(sa.select(rate_sheets.c.channel_code).distinct()).scalars())

    def all(self) -> dict[str, list[RateSheet]]:
        """Every version of every channel's sheet, each channel's in valid_from order."""
        t, r = rate_sheets, rate_rows
        brackets: dict[int, dict[str, list[Bracket]]] = defaultdict(lambda: defaultdict(list))
        for row in self.connection.execute(sa.select(r)):
            brackets[row.sheet_id][row.zone].append(
                Bracket(
                    Decimal(row.weight_from_kg), Decimal(row.weight_to_kg), Decimal(row.per_parcel), Decimal(row.per_kg)
                )
            )
        sheets: dict[str, list[RateSheet]] = defaultdict(list)
        query = sa.select(t.c.id, t.c.channel_code, t.c.version, t.c.valid_from).order_by(
            t.c.channel_code, t.c.valid_from
        )
        for row in self.connection.execute(query):
            zones = {zone: ZoneRates.of(items) for zone, items in brackets[row.id].items()}
            sheets[row.channel_code].append(RateSheet(row.channel_code, row.version, row.valid_from, zones))
        return dict(sheets)
