"""Reading carrier tracking files: every data row answered in file order, a bad row named by line and column."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.logistics.domain.tracking_files import (
    FileEvent,
    FileFormat,
    RowProblem,
    TrackingFileRejected,
    detect,
    parse_file,
)

T0 = datetime(2026, 3, 2, tzinfo=UTC)
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
row = st.fixed_dictionaries(
    {
        "waybill": st.from_regex(r"[A-Z]{2}[0-9]{9}CN", fullmatch=True),
        "code": st.from_regex(r"[A-Z0-9]{1,6}", fullmatch=True),
        "time": st.integers(0, 10**6).map(lambda m: (T0 + timedelta(minutes=m)).isoformat()),
        "location": cell,
        "description": cell,
    }
)


def as_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["waybill", "code", "time", "location", "description"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@given(st.lists(row, min_size=1, max_size=20), st.sampled_from(["csv", "jsonl"]))
def test_well_formed_rows_read_back_as_written_in_order(rows: list[dict[str, str]], layout: str) -> None:
    text = as_csv(rows) if layout == "csv" else "".join(json.dumps(r) + "\n" for r in rows)
    parsed = parse_file(text, "fedex")
    assert all(isinstance(p, FileEvent) for p in parsed)
    events = [p for p in parsed if isinstance(p, FileEvent)]
    assert [(e.waybill, e.code, e.occurred_at) for e in events] == [
        (r["waybill"], r["code"], datetime.fromisoformat(r["time"])) for r in rows
    ]
    assert [e.location for e in events] == [r["location"].strip() for r in rows]
    assert len({e.line for e in events}) == len(rows)


@given(st.lists(row, min_size=2, max_size=10), st.data())
def test_a_broken_row_is_named_and_the_others_still_read(rows: list[dict[str, str]], data: st.DataObject) -> None:
    broken = data.draw(st.integers(0, len(rows) - 1))
    column, value = data.draw(
        st.sampled_from([("time", "2026-03-02 10:00"), ("time", "soon"), ("code", ""), ("waybill", " ")])
    )
    rows[broken] = {**rows[broken], column: value}
    parsed = parse_file(as_csv(rows), "fedex")
    problems = [p for p in parsed if isinstance(p, RowProblem)]
    assert [(p.line, p.column) for p in problems] == [(broken + 2, column)]
    assert sum(isinstance(p, FileEvent) for p in parsed) == len(rows) - 1


def test_times_keep_their_instant_in_utc_and_need_an_offset() -> None:
    text = "waybill,code,time\nRX1,DL,2026-03-02T11:00:00+08:00\nRX1,DL,2026-03-02T03:00:00\n"
    first, second = parse_file(text, "fedex")
    assert isinstance(first, FileEvent) and first.occurred_at == T0 + timedelta(hours=3)
    assert first.occurred_at.tzinfo is UTC
    assert isinstance(second, RowProblem) and str(second).startswith("row 3, column time: ")


def test_the_format_is_told_from_the_content() -> None:
    assert detect('\n  {"waybill": "RX1"}\n') is FileFormat.JSON_LINES
    assert detect("\ufeffwaybill,code,time\n") is FileFormat.CSV


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "row 1: the header must name waybill, code, time"),
        ("# only a comment\nwaybill,when\n", "row 2: the header must name"),
        ("waybill,code,time,colour\nRX1,DL,2026-03-02T03:00:00Z,red\n", "row 1, column colour: not a tracking-file"),
        ("waybill,code,time\n\n", "no data rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_rejected_whole(text: str, message: str) -> None:
    with pytest.raises(TrackingFileRejected, match=message):
        parse_file(text, "fedex")
