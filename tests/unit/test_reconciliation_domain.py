"""Statement parsing (every bad cell named, nothing half-read) and matching (every line lands once)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.payments.reconciliation.domain import (
    LedgerMovement,
    LineType,
    Outcome,
    StatementLine,
    parse_statement,
    reconcile,
)
from services.shared.errors import ValidationError
from services.shared.money import Money

EXAMPLE = Path(__file__).parents[1] / "data" / "settlement_statement_example.csv"
HEADER = "line_id,value_date,reference,type,currency,amount,description\n"
DAY = date(2026, 11, 30)
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def problems(content: str) -> list[str]:
    with pytest.raises(ValidationError) as invalid:
        parse_statement(content.encode())
    assert {v.field for v in invalid.value.violations} == {"statement"}
    return [v.description for v in invalid.value.violations]


def test_example_file_parses_with_minor_units_per_currency() -> None:
    lines = parse_statement(EXAMPLE.read_bytes())
    assert [line.line_id for line in lines][:2] == ["STL-20261130-0001", "STL-20261130-0002"]
    by_id = {line.line_id: line for line in lines}
    assert by_id["STL-20261130-0002"].amount == Money(Decimal("-3.78"), "EUR")
    assert by_id["STL-20261130-0004"].amount == Money(Decimal("15000"), "JPY")
    assert by_id["STL-20261130-0006"].amount == Money(Decimal("12.345"), "KWD")
    assert by_id["STL-20261130-0005"].type is LineType.REFUND
    assert lines[0].line_no == 2


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("a,2026-11-30,R1,COLLECTION,JPY,1.5,", "line 2, amount: JPY allows 0 decimal places"),
        ("a,2026-11-30,R1,COLLECTION,KWD,1.0005,", "line 2, amount: KWD allows 3 decimal places"),
        ("a,2026-11-30,R1,COLLECTION,QQQ,1,", "line 2, currency: 'QQQ' is not an ISO 4217"),
        ("a,2026-11-30,R1,COLLECTION,EUR,1e3,", "line 2, amount: must be a signed decimal"),
        ("a,2026-11-30,R1,COLLECTION,EUR,NaN,", "line 2, amount: must be a signed decimal"),
        ("a,30/11/2026,R1,COLLECTION,EUR,1,", "line 2, value_date: must be a date"),
        ("a,2026-02-30,R1,COLLECTION,EUR,1,", "line 2, value_date: is not a calendar date"),
        (",2026-11-30,R1,COLLECTION,EUR,1,", "line 2, line_id: is required"),
        ("a,2026-11-30,,COLLECTION,EUR,1,", "line 2, reference: is required"),
        ("a,2026-11-30,R1,CHARGEBACK,EUR,1,", "line 2, type: must be one of"),
        ("a,2026-11-30,R1,COLLECTION,EUR,1", "line 2: 6 cells where the header has 7"),
    ],
)
def test_bad_cells_are_named_by_line_and_column(row: str, fragment: str) -> None:
    assert any(fragment in p for p in problems(HEADER + row + "\n"))


def test_every_bad_line_is_reported_and_duplicates_within_a_file_are_refused() -> None:
    found = problems(
        HEADER
        + "a,2026-11-30,R1,COLLECTION,EUR,1.001,\n"
        + "b,2026-11-30,R2,COLLECTION,EUR,2,\n"
        + "b,2026-11-30,R3,COLLECTION,EUR,3,\n"
    )
    assert any(p.startswith("line 2, amount") for p in found)
    assert any("line 4, line_id: 'b' already used on line 3" in p for p in found)


def test_header_problems_name_the_columns() -> None:
    assert "missing column(s) amount" in problems("line_id,value_date,reference,type,currency\n")[0]
    assert "unknown column(s) colour" in problems(HEADER.strip() + ",colour\n")[0]
    assert "has no lines" in problems(HEADER)[0]
    with pytest.raises(ValidationError, match="UTF-8"):
        parse_statement(b"\xff\xfe" + HEADER.encode("utf-16-le"))


def test_many_problems_are_capped_with_a_count() -> None:
    body = "".join(f"l{i},2026-11-30,R{i},COLLECTION,JPY,0.5,\n" for i in range(30))
    found = problems(HEADER + body)
    assert len(found) == 21 and found[-1] == "... and 10 more problem(s)"


def line(line_id: str, reference: str, amount: str, currency: str = "EUR") -> StatementLine:
    return StatementLine(2, line_id, DAY, reference, LineType.COLLECTION, Money.of(amount, currency), "")


def move(code: str, reference: str, amount: str, currency: str = "EUR", at: datetime = AT) -> LedgerMovement:
    return LedgerMovement(code, reference, Money.of(amount, currency), at)


def test_each_outcome() -> None:
    lines = [
        line("1", "R-MATCH", "120.00"),
        line("2", "R-MATCH", "-3.78"),
        line("3", "R-AMOUNT", "80.00", "USD"),
        line("4", "R-CCY", "15000", "JPY"),
        line("5", "R-NOLEDGER", "-20.00"),
    ]
    moves = [
        move("PY1", "R-MATCH", "116.22"),
        move("PY2", "R-AMOUNT", "79.00", "USD"),
        move("PY3", "R-CCY", "100.00", "CNY"),
        move("PY4", "R-NOSTATEMENT", "50.00"),
        move("PY5", "R-OLD", "10.00", at=datetime(2026, 11, 1, tzinfo=UTC)),  # outside the period
        move("PY6", "R-REVERSED", "10.00"),
        move("PY7", "R-REVERSED", "-10.00"),  # nets to zero: not reported
        move("PY8", "R-SEEN", "5.00"),  # reconciled by an earlier statement
    ]
    items = {
        (i.reference, i.outcome): i
        for i in reconcile(lines, moves, (DAY, DAY), references_seen_before=frozenset({"R-SEEN"}))
    }
    assert set(items) == {
        ("R-MATCH", Outcome.MATCHED),
        ("R-AMOUNT", Outcome.MISMATCHED),
        ("R-CCY", Outcome.MISMATCHED),
        ("R-NOLEDGER", Outcome.MISSING_IN_LEDGER),
        ("R-NOSTATEMENT", Outcome.MISSING_IN_STATEMENT),
    }
    assert items[("R-MATCH", Outcome.MATCHED)].line_ids == ("1", "2")
    assert "difference 1.00 USD" in items[("R-AMOUNT", Outcome.MISMATCHED)].detail
    assert items[("R-CCY", Outcome.MISMATCHED)].detail == "currency differs: statement JPY, ledger CNY"
    assert items[("R-NOSTATEMENT", Outcome.MISSING_IN_STATEMENT)].transaction_codes == ("PY4",)


references = st.sampled_from([f"R{i}" for i in range(6)])
currencies = st.sampled_from(["EUR", "USD", "JPY"])
cents = st.integers(-10_000, 10_000)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[StatementLine], list[LedgerMovement]]:
    lines = [
        StatementLine(n + 2, f"L{n}", DAY, draw(references), LineType.COLLECTION,
                      Money.from_minor(draw(cents), draw(currencies)), "")
        for n in range(draw(st.integers(0, 12)))
    ]  # fmt: skip
    moves = [
        LedgerMovement(f"PY{n}", draw(references), Money.from_minor(draw(cents), draw(currencies)), AT)
        for n in range(draw(st.integers(0, 12)))
    ]
    return lines, moves


@settings(max_examples=300, deadline=None)
@given(case=scenario())
def test_every_line_and_movement_lands_in_exactly_one_item(case: tuple[list, list]) -> None:
    lines, moves = case
    items = reconcile(lines, moves, (DAY, DAY))
    assert Counter(i for item in items for i in item.line_ids) == Counter(line.line_id for line in lines)
    reported = Counter(c for item in items for c in item.transaction_codes)
    # A movement is missing from the items only when its reference/currency nets to zero, ledger-side only.
    for m in moves:
        if reported[m.transaction_code] == 0:
            assert m.reference not in {line.reference for line in lines}
    for item in items:
        if item.outcome is Outcome.MATCHED:
            assert item.statement_amount == item.ledger_amount
        if item.outcome is Outcome.MISMATCHED:
            assert item.statement_amount != item.ledger_amount


@settings(max_examples=200, deadline=None)
@given(case=scenario())
def test_a_ledger_that_books_exactly_the_statement_matches_everything(case: tuple[list, list]) -> None:
    lines, _ = case
    mirror = [LedgerMovement(f"PY-{line.line_id}", line.reference, line.amount, AT) for line in lines]
    items = reconcile(lines, mirror, (DAY, DAY))
    assert all(item.outcome is Outcome.MATCHED for item in items)
    totals: dict[str, Decimal] = {}
    for item in items:
        assert item.statement_amount is not None
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.statement_amount.amount
    expected: dict[str, Decimal] = {}
    for line in lines:
        expected[line.amount.currency] = expected.get(line.amount.currency, Decimal(0)) + line.amount.amount
    assert totals == expected
