"""Reconciling a partner's settlement statement with the ledger (pure Python).

A statement is a CSV file (docs/reconciliation.md, example tests/data/settlement_statement_example.csv):

    line_id,value_date,reference,type,currency,amount,description

`amount` is signed, in the currency's major unit with at most its ISO 4217 minor-unit decimals: positive
when the money is owed to the platform by the partner (a collection it received for us), negative when the
platform owes the partner (a refund or payout it paid for us, its fee).

The ledger side is the net posted movement on the partner's CLEARING account (debits - credits: what the
partner owes the platform, docs/ledger.md) per transaction, keyed by the transaction's external reference.
Lines and ledger movements are summed per (reference, currency), so a statement that shows a gross amount
and a fee as two lines matches a ledger that posted them as one net transfer, or as two.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.shared.errors import FieldViolation, ValidationError
from services.shared.money import Money

COLUMNS = ("line_id", "value_date", "reference", "type", "currency", "amount", "description")
REQUIRED = ("line_id", "value_date", "reference", "currency", "amount")
MAX_LINES = 100_000
MAX_LINE_ID, MAX_REFERENCE, MAX_DESCRIPTION = 128, 255, 500
MAX_REPORTED_PROBLEMS = 20
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")
FIELD = "statement"


class LineType(StrEnum):
    COLLECTION = "COLLECTION"
    REFUND = "REFUND"
    PAYOUT = "PAYOUT"
    FEE = "FEE"
    ADJUSTMENT = "ADJUSTMENT"


class Outcome(StrEnum):
    MATCHED = "MATCHED"
    MISMATCHED = "MISMATCHED"  # on both sides, amount or currency differs
    MISSING_IN_LEDGER = "MISSING_IN_LEDGER"  # in the statement, not in the ledger
    MISSING_IN_STATEMENT = "MISSING_IN_STATEMENT"  # in the ledger (in the period), not in the statement
    DUPLICATE = "DUPLICATE"  # line_id already imported from an earlier statement: not counted again


@dataclass(frozen=True)
class StatementLine:
    line_no: int  # line in the file (the header is line 1)
    line_id: str
    value_date: date
    reference: str
    type: LineType
    amount: Money
    description: str


@dataclass(frozen=True)
class LedgerMovement:
    """One ledger transaction's net posted movement on the partner's clearing account, in one currency."""

    transaction_code: str
    reference: str
    amount: Money
    created_at: datetime


@dataclass(frozen=True)
class Item:
    outcome: Outcome
    reference: str
    currency: str
    statement_amount: Money | None
    ledger_amount: Money | None
    line_ids: tuple[str, ...]
    transaction_codes: tuple[str, ...]
    detail: str


def parse_statement(content: bytes) -> list[StatementLine]:
    """Every line, validated; any problem refuses the whole file (nothing is stored from a bad statement)."""
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(text)

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError.single(FIELD, f"must be UTF-8 text (byte {error.start} is not)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if not header or missing or unknown:
        parts = []
        if missing or not header:
            parts.append(f"missing column(s) {', '.join(missing or REQUIRED)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ValidationError.single(FIELD, f"header: {'; '.join(parts)} (columns: {', '.join(COLUMNS)})")

    lines: list[StatementLine] = []
    seen: dict[str, int] = {}
    for cells in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problem(f"line {n}: {len(cells)} cells where the header has {len(header)}")
            continue
        if len(lines) >= MAX_LINES:
            raise ValidationError.single(FIELD, f"at most {MAX_LINES} lines per statement")
        row = {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
        line = _parse_line(n, row, problem)
        if line is None:
            continue
        if line.line_id in seen:
            problem(f"line {n}, line_id: {line.line_id!r} already used on line {seen[line.line_id]}")
            continue
        seen[line.line_id] = n
        lines.append(line)
    if not problems and not lines:
        problem("has no lines")
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        raise ValidationError(
            [FieldViolation(FIELD, p) for p in shown]
            + ([FieldViolation(FIELD, f"... and {more} more problem(s)")] if more else [])
        )
    return lines


def _parse_line(n: int, row: dict[str, str], problem: Callable[[str], None]) -> StatementLine | None:
    ok = True

    def bad(column: str, text: str) -> None:
        nonlocal ok
        ok = False
        problem(f"line {n}, {column}: {text}")

    line_id, reference = row["line_id"], row["reference"]
    description, type_text = row.get("description", ""), row.get("type", "").upper() or "COLLECTION"
    if not line_id:
        bad("line_id", "is required")
    elif len(line_id) > MAX_LINE_ID:
        bad("line_id", f"at most {MAX_LINE_ID} characters")
    if not reference:
        bad("reference", "is required")
    elif len(reference) > MAX_REFERENCE:
        bad("reference", f"at most {MAX_REFERENCE} characters")
    if len(description) > MAX_DESCRIPTION:
        bad("description", f"at most {MAX_DESCRIPTION} characters")
    if type_text not in LineType.__members__:
        bad("type", f"must be one of {', '.join(LineType)}, got {row.get('type')!r}")
    value_date: date | None = None
    if not _DATE.match(row["value_date"]):
        bad("value_date", f"must be a date YYYY-MM-DD, got {row['value_date']!r}")
    else:
        try:
            value_date = date.fromisoformat(row["value_date"])
        except ValueError:
            bad("value_date", f"is not a calendar date: {row['value_date']!r}")
    currency = row["currency"].upper()
    amount: Money | None = None
    if not _AMOUNT.match(row["amount"]):
        bad("amount", f"must be a signed decimal number like -12.50, got {row['amount']!r}")
    else:
        try:
            amount = Money.of(row["amount"], currency)
        except ValidationError as invalid:
            column = "currency" if invalid.violations[0].field.endswith("currency_code") else "amount"
            bad(column, invalid.violations[0].description)
    if not ok or value_date is None or amount is None:
        return None
    return StatementLine(n, line_id, value_date, reference, LineType(type_text), amount, description)


def _sums(amounts: Iterable[Money]) -> dict[str, Money]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for money in amounts:
        total[money.currency] += money.amount
    return {currency: Money(value, currency) for currency, value in total.items()}


def reconcile(
    lines: Sequence[StatementLine],
    movements: Sequence[LedgerMovement],
    period: tuple[date, date],
    *,
    references_seen_before: frozenset[str] = frozenset(),
) -> list[Item]:
    """Match by (reference, currency): every line and every considered movement lands in exactly one item.

    `movements` are the ledger's movements for the statement's references plus those created in `period`;
    a movement whose reference is not in the statement counts as MISSING_IN_STATEMENT only if it falls in
    the period, its reference was not reconciled by an earlier statement, and it does not net to zero.
    """
    by_ref_lines: dict[str, list[StatementLine]] = defaultdict(list)
    for line in lines:
        by_ref_lines[line.reference].append(line)
    by_ref_moves: dict[str, list[LedgerMovement]] = defaultdict(list)
    for move in movements:
        by_ref_moves[move.reference].append(move)

    items: list[Item] = []
    for reference in sorted(by_ref_lines):
        stated = by_ref_lines[reference]
        booked = by_ref_moves.get(reference, [])
        s_sums, l_sums = _sums(line.amount for line in stated), _sums(m.amount for m in booked)
        if not booked:
            for currency, total in sorted(s_sums.items()):
                ids = tuple(line.line_id for line in stated if line.amount.currency == currency)
                items.append(
                    Item(Outcome.MISSING_IN_LEDGER, reference, currency, total, None, ids, (), "no ledger movement")
                )
            continue
        items.extend(_compare(reference, stated, booked, s_sums, l_sums))

    low, high = period
    for reference in sorted(set(by_ref_moves) - set(by_ref_lines)):
        if reference in references_seen_before:
            continue
        in_period = [m for m in by_ref_moves[reference] if low <= m.created_at.date() <= high]
        for currency, total in sorted(_sums(m.amount for m in in_period).items()):
            if total.amount == 0:
                continue  # e.g. a posting and its reversal: nothing the partner could have settled
            codes = tuple(m.transaction_code for m in in_period if m.amount.currency == currency)
            items.append(
                Item(Outcome.MISSING_IN_STATEMENT, reference, currency, None, total, (), codes, "not in the statement")
            )
    return items


def _compare(
    reference: str,
    stated: list[StatementLine],
    booked: list[LedgerMovement],
    s_sums: dict[str, Money],
    l_sums: dict[str, Money],
) -> list[Item]:
    def ids(currency: str) -> tuple[str, ...]:
        return tuple(line.line_id for line in stated if line.amount.currency == currency)

    def txns(currency: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.transaction_code for m in booked if m.amount.currency == currency))

    items: list[Item] = []
    for currency in sorted(set(s_sums) & set(l_sums)):
        s, book = s_sums[currency], l_sums[currency]
        if s.amount == book.amount:
            items.append(Item(Outcome.MATCHED, reference, currency, s, book, ids(currency), txns(currency), ""))
        else:
            difference = Money(s.amount - book.amount, currency)
            detail = f"amount differs: statement {s}, ledger {book} (difference {difference})"
            items.append(Item(Outcome.MISMATCHED, reference, currency, s, book, ids(currency), txns(currency), detail))
    only_s = sorted(set(s_sums) - set(l_sums))
    only_l = sorted(set(l_sums) - set(s_sums))
    for index in range(max(len(only_s), len(only_l))):
        sc = only_s[index] if index < len(only_s) else None
        lc = only_l[index] if index < len(only_l) else None
        detail = f"currency differs: statement {sc or 'none'}, ledger {lc or 'none'}"
        items.append(
            Item(
                Outcome.MISMATCHED,
                reference,
                sc or lc or "",
                s_sums[sc] if sc else None,
                l_sums[lc] if lc else None,
                ids(sc) if sc else (),
                txns(lc) if lc else (),
                detail,
            )
        )
    return items


def statement_period(lines: Sequence[StatementLine]) -> tuple[date, date]:
    days = [line.value_date for line in lines]
    return min(days), max(days)
