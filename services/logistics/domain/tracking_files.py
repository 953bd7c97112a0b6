"""A carrier's tracking file: CSV with a header row, or JSON lines, one event per row.

Columns (CSV header names, JSON keys): `waybill`, `code`, `time` (ISO 8601 with a UTC offset) required;
`carrier`, `location`, `description` optional. A file is one carrier's: a row that names a carrier must
name that one. Each row is read on its own: a row that cannot be read is a `RowProblem` naming its line
number (the CSV header is line 1) and column, and does not stop the others. What makes the whole file
unreadable (no header, a required column missing from it, too many rows) is `TrackingFileRejected`.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

REQUIRED = ("waybill", "code", "time")
OPTIONAL = ("carrier", "location", "description")
MAX_ROWS = 20_000
MAX_CODE = 40
MAX_TEXT = 500


class FileFormat(enum.Enum):
    CSV = "csv"
    JSON_LINES = "json_lines"


@dataclass(frozen=True)
class FileEvent:
    """One readable row."""

    line: int
    waybill: str
    code: str
    occurred_at: datetime
    location: str
    description: str


@dataclass(frozen=True)
class RowProblem:
    """One unreadable row: its first problem, named by line and column."""

    line: int
    waybill: str  # as read, when it could be ("" otherwise)
    column: str
    description: str

    def __str__(self) -> str:
        return f"row {self.line}, column {self.column}: {self.description}"


class TrackingFileRejected(ValueError):
    """The file as a whole cannot be read; the message names the line and column where it can."""


def detect(text: str) -> FileFormat:
    """JSON lines when the first line that is not blank starts with "{", else CSV."""
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return FileFormat.JSON_LINES if line.lstrip().startswith("{") else FileFormat.CSV
    return FileFormat.CSV


def parse_file(text: str, carrier: str, file_format: FileFormat | None = None) -> list[FileEvent | RowProblem]:
    """Every data row, in file order: the event it holds, or its problem."""
    text = text.lstrip("\ufeff")
    chosen = file_format or detect(text)
    records = _csv_records(text) if chosen is FileFormat.CSV else _json_records(text)
    rows: list[FileEvent | RowProblem] = []
    for line, record in records:
        if len(rows) >= MAX_ROWS:
            raise TrackingFileRejected(f"row {line}: a file holds at most {MAX_ROWS} rows")
        rows.append(record if isinstance(record, RowProblem) else _row(line, record, carrier))
    if not rows:
        raise TrackingFileRejected("the file has no data rows")
    return rows


def _csv_records(text: str) -> list[tuple[int, dict[str, str] | RowProblem]]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] = []
    for cells in reader:
        if any(cell.strip() for cell in cells) and not cells[0].lstrip().startswith("#"):
            header = [cell.strip().lower() for cell in cells]
            break
    header_line = reader.line_num
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        where = f"row {header_line}" if header else "row 1"
        raise TrackingFileRejected(
            f"{where}: the header must name {', '.join(REQUIRED)} (and may name {', '.join(OPTIONAL)}); "
            f"missing: {', '.join(missing)}"
        )
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise TrackingFileRejected(f"row {header_line}, column {unknown[0]}: not a tracking-file column")
    records: list[tuple[int, dict[str, str] | RowProblem]] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) != len(header):
            problem = f"{len(cells)} cells where the header has {len(header)}"
            records.append((line, RowProblem(line, "", "*", problem)))
            continue
        records.append((line, dict(zip(header, cells, strict=True))))
    return records


def _json_records(text: str) -> list[tuple[int, dict[str, str] | RowProblem]]:
    records: list[tuple[int, dict[str, str] | RowProblem]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            records.append((line, RowProblem(line, "", "*", f"not JSON: {error.msg} at character {error.pos + 1}")))
            continue
        if not isinstance(data, dict):
            records.append((line, RowProblem(line, "", "*", "must be a JSON object")))
            continue
        unknown = sorted(k for k in data if k not in REQUIRED + OPTIONAL)
        if unknown:
            records.append((line, RowProblem(line, "", unknown[0], "not a tracking-file key")))
            continue
        wrong = sorted(k for k, v in data.items() if v is not None and not isinstance(v, str))
        if wrong:
            records.append((line, RowProblem(line, "", wrong[0], "must be a string")))
            continue
        records.append((line, {k: v or "" for k, v in data.items()}))
    return records


def _row(line: int, record: dict[str, str], carrier: str) -> FileEvent | RowProblem:
    waybill = record.get("waybill", "").strip().upper()

    def problem(column: str, description: str) -> RowProblem:
        return RowProblem(line, waybill, column, description)

    if not waybill:
        return problem("waybill", "is required")
    if len(waybill) > MAX_CODE:
        return problem("waybill", f"at most {MAX_CODE} characters")
    named = record.get("carrier", "").strip().lower()
    if named and named != carrier:
        return problem("carrier", f"{named!r}, but the file is imported for carrier {carrier!r}")
    code = record.get("code", "").strip()
    if not code:
        return problem("code", "is required: the carrier's event code")
    if len(code) > MAX_CODE:
        return problem("code", f"at most {MAX_CODE} characters")
    stamp = record.get("time", "").strip()
    if not stamp:
        return problem("time", "is required: ISO 8601 with a UTC offset, e.g. 2026-03-04T08:00:00Z")
    try:
        occurred_at = datetime.fromisoformat(stamp)
    except ValueError:
        return problem("time", f"{stamp!r} is not an ISO 8601 time")
    if occurred_at.tzinfo is None:
        return problem("time", f"{stamp!r} has no UTC offset (write it as 2026-03-04T08:00:00Z or +08:00)")
    for column in ("location", "description"):
        if len(record.get(column, "")) > MAX_TEXT:
            return problem(column, f"at most {MAX_TEXT} characters")
    return FileEvent(
        line,
        waybill,
        code,
        occurred_at.astimezone(UTC),
        record.get("location", "").strip(),
        record.get("description", "").strip(),
    )
