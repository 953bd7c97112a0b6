"""Rate sheets: per channel and zone, weight brackets with a per-parcel fee and a per-kg rate (pure Python).

The CSV has one row per (channel, zone, bracket): `channel,zone,weight_from_kg,weight_to_kg,per_parcel,
per_kg`. A bracket holds parcels heavier than weight_from_kg and at most weight_to_kg; a zone's brackets
start at 0 and follow each other without gaps or overlaps up to the channel's weight limit. A sheet is
refused whole, naming the row (the file's line number) and the column of every problem. Lines starting
with "#" are comments. A sheet imported for one carrier prices only that carrier's channels: a row naming
another carrier's channel reads as a row naming no channel at all (another carrier's prices are not the
importer's to see or to set).
"""

from __future__ import annotations

import bisect
import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from services.logistics.domain.channels import Channel

COLUMNS = ("channel", "zone", "weight_from_kg", "weight_to_kg", "per_parcel", "per_kg")
PER_KG_PLACES = 4  # per-kg rates may be finer than the currency's minor unit; charges are rounded
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Bracket:
    weight_from_kg: Decimal  # exclusive
    weight_to_kg: Decimal  # inclusive
    per_parcel: Decimal
    per_kg: Decimal


@dataclass(frozen=True)
class ZoneRates:
    """A zone's brackets in weight order, with their upper bounds for bisection."""

    brackets: tuple[Bracket, ...]
    uppers: tuple[Decimal, ...]

    @classmethod
    def of(cls, brackets: list[Bracket]) -> ZoneRates:
        ordered = tuple(sorted(brackets, key=lambda b: b.weight_to_kg))
        return cls(ordered, tuple(b.weight_to_kg for b in ordered))

    def bracket_for(self, weight_kg: Decimal) -> Bracket | None:
        index = bisect.bisect_left(self.uppers, weight_kg)
        return self.brackets[index] if index < len(self.brackets) else None

    @property
    def top_kg(self) -> Decimal:
        return self.uppers[-1]


@dataclass(frozen=True)
class RateSheet:
    """One version of one channel's prices."""

    channel_code: str
    version: int
    valid_from: datetime
    zones: Mapping[str, ZoneRates]

    @property
    def row_count(self) -> int:
        return sum(len(rates.brackets) for rates in self.zones.values())


@dataclass(frozen=True)
class SheetProblem:
    row: int  # line number in the file; 1 is the header, 0 for the sheet as a whole
    column: str
    description: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.row else f"column {self.column}"
        return f"{where}: {self.description}"


class SheetRejected(ValueError):
    def __init__(self, problems: list[SheetProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class _Row:
    line: int
    zone: str
    bracket: Bracket


def _number(
    text: str, line: int, column: str, problems: list[SheetProblem], *, places: int, positive: bool = False
) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        problems.append(SheetProblem(line, column, f"{text!r} is not a decimal number"))
        return None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        problems.append(SheetProblem(line, column, f"must be {'positive' if positive else 'zero or more'}"))
        return None
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        problems.append(SheetProblem(line, column, f"at most {places} decimal places, got {text.strip()}"))
        return None
    return value


def _comment(cells: list[str]) -> bool:
    return cells[0].lstrip().startswith("#")


def parse_sheet(text: str, channels: Mapping[str, Channel], carrier: str = "") -> dict[str, dict[str, list[Bracket]]]:
    """channel code -> zone -> brackets, every zone of every named channel priced; SheetRejected otherwise.

    `carrier` (a carrier id): every row's channel must be that carrier's; empty: any channel.
    """
    problems: list[SheetProblem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] = []
    for cells in reader:
        if cells and not _comment(cells):
            header = [cell.strip() for cell in cells]
            break
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise SheetRejected([SheetProblem(1, column, "missing from the header row") for column in missing])
    rows: dict[str, list[_Row]] = defaultdict(list)
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells) or _comment(cells):
            continue
        if line > MAX_ROWS:
            raise SheetRejected([SheetProblem(line, "channel", f"a sheet holds at most {MAX_ROWS} rows")])
        if len(cells) != len(header):
            problems.append(SheetProblem(line, "*", f"{len(cells)} cells where the header has {len(header)}"))
            continue
        record = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        channel = channels.get(record["channel"])
        if carrier and (channel is None or channel.carrier_id != carrier):
            problems.append(SheetProblem(line, "channel", f"carrier {carrier} has no channel {record['channel']!r}"))
            continue
        if channel is None:
            problems.append(SheetProblem(line, "channel", f"unknown channel {record['channel']!r}"))
            continue
        if record["zone"] not in channel.zone_names():
            known = ", ".join(sorted(channel.zone_names()))
            problems.append(
                SheetProblem(line, "zone", f"channel {channel.code} has no zone {record['zone']!r} ({known})")
            )
            continue
        values = [
            _number(record["weight_from_kg"], line, "weight_from_kg", problems, places=3),
            _number(record["weight_to_kg"], line, "weight_to_kg", problems, places=3, positive=True),
            _number(record["per_parcel"], line, "per_parcel", problems, places=channel.currency_exponent),
            _number(record["per_kg"], line, "per_kg", problems, places=PER_KG_PLACES),
        ]
        low, high, per_parcel, per_kg = values
        if low is None or high is None or per_parcel is None or per_kg is None:
            continue
        if high <= low:
            problems.append(SheetProblem(line, "weight_to_kg", f"{high} is not above weight_from_kg {low}"))
            continue
        rows[channel.code].append(_Row(line, record["zone"], Bracket(low, high, per_parcel, per_kg)))
    if not rows and not problems:
        problems.append(SheetProblem(0, "channel", "the sheet has no rate rows"))
    sheets: dict[str, dict[str, list[Bracket]]] = {}
    for code, channel_rows in rows.items():
        sheets[code] = _check_brackets(channels[code], channel_rows, problems)
    if problems:
        raise SheetRejected(sorted(problems, key=lambda p: (p.row, p.column)))
    return sheets


def _check_brackets(channel: Channel, rows: list[_Row], problems: list[SheetProblem]) -> dict[str, list[Bracket]]:
    by_zone: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_zone[row.zone].append(row)
    last_line = max(row.line for row in rows)
    for zone in sorted(channel.zone_names() - by_zone.keys()):
        problems.append(SheetProblem(last_line, "zone", f"channel {channel.code} zone {zone} has no rate rows"))
    limit = channel.restrictions.max_weight_kg
    for zone, zone_rows in by_zone.items():
        ordered = sorted(zone_rows, key=lambda r: (r.bracket.weight_from_kg, r.line))
        reach = Decimal(0)
        for row in ordered:
            low = row.bracket.weight_from_kg
            if low > reach:
                problems.append(
                    SheetProblem(row.line, "weight_from_kg", f"gap in zone {zone}: nothing prices {reach}-{low} kg")
                )
            elif low < reach:
                problems.append(
                    SheetProblem(row.line, "weight_from_kg", f"overlap in zone {zone}: {low} kg is below {reach} kg")
                )
            reach = max(reach, row.bracket.weight_to_kg)
        if reach < limit:
            problems.append(
                SheetProblem(
                    ordered[-1].line,
                    "weight_to_kg",
                    f"zone {zone} brackets end at {reach} kg but {channel.code} accepts up to {limit} kg",
                )
            )
    return {zone: [row.bracket for row in zone_rows] for zone, zone_rows in by_zone.items()}


def check_valid_from(valid_from: datetime, latest: datetime | None) -> str | None:
    """Why a new version cannot start at valid_from, or None; versions follow each other in time."""
    if latest is not None and valid_from <= latest:
        return f"must be after the current version's valid-from {latest.isoformat()}"
    return None
