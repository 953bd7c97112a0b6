"""SQL for reconciliation runs and merchant statements. Reads the ledger tables, never writes them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.payments.ledger.adapters.tables import ledger_accounts, ledger_transactions, ledger_transfers
from services.payments.ledger.domain import AccountKind, TransferState
from services.payments.reconciliation.adapters.tables import reconciliation_items, reconciliation_runs, settlement_lines
from services.payments.reconciliation.domain import Item, LedgerMovement, Outcome, StatementLine
from services.payments.settlement.adapters.tables import collections
from services.shared.money import Money

_A, _T, _TR = ledger_accounts.c, ledger_transactions.c, ledger_transfers.c
_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class OutcomeCounts(TypedDict):
    matched: int
    mismatched: int
    missing_in_ledger: int
    missing_in_statement: int
    duplicate: int


@dataclass(frozen=True)
class Run:
    code: str
    partner: str
    content_hash: str
    file_name: str
    period_start: date
    period_end: date
    line_count: int
    created_at: datetime
    items: tuple[Item, ...]
    # Set on a run listed without its items: the counts are then read from the database.
    counts: OutcomeCounts | None = None

    def outcome_counts(self) -> OutcomeCounts:
        """Items per outcome, keyed as the summary fields of the reconciliation and its event name them."""
        if self.counts is not None:
            return self.counts
        counts = Counter(item.outcome for item in self.items)
        return OutcomeCounts(
            matched=counts[Outcome.MATCHED],
            mismatched=counts[Outcome.MISMATCHED],
            missing_in_ledger=counts[Outcome.MISSING_IN_LEDGER],
            missing_in_statement=counts[Outcome.MISSING_IN_STATEMENT],
            duplicate=counts[Outcome.DUPLICATE],
        )


class ReconciliationRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- the ledger side ------------------------------------------------------------------------------

    def clearing_movements(
        self, partner: str, references: Sequence[str], period: tuple[date, date]
    ) -> list[LedgerMovement]:
        """Net posted movement (debits - credits) on the partner's CLEARING accounts per transaction and
        currency, for transactions with one of `references` or created in `period` (UTC days, inclusive).

        A movement's reference is the partner's own reference when the transaction belongs to one of the
        partner's collections (their postings and refunds carry the collection code as external_ref,
        docs/ledger.md; the partner's statement knows the collection by its partner_ref), else the
        transaction's external_ref.
        """
        clearing = set(
            self.connection.execute(
                sa.select(_A.id).where(_A.owner == partner, _A.kind == AccountKind.CLEARING.value)
            ).scalars()
        )
        if not clearing:
            return []
        partner_collections = (
            sa.select(collections.c.code, collections.c.partner_ref).where(collections.c.partner == partner).subquery()
        )
        reference = sa.func.coalesce(partner_collections.c.partner_ref, _T.external_ref)
        base = (
            sa.select(_TR.id, _TR.debit_account_id, _TR.credit_account_id, _TR.currency, _TR.amount_minor, _T.code,
                      reference.label("reference"), _T.created_at)
            .join(ledger_transactions, _T.id == _TR.transaction_id)
            .outerjoin(partner_collections, partner_collections.c.code == _T.external_ref)
            .where(
                _TR.state == TransferState.POSTED.value,
                sa.or_(_TR.debit_account_id.in_(clearing), _TR.credit_account_id.in_(clearing)),
            )
        )  # fmt: skip
        rows: dict[int, sa.Row] = {}
        low, high = day_start(period[0]), day_start(period[1] + timedelta(days=1))
        for row in self.connection.execute(base.where(_T.created_at >= low, _T.created_at < high)):
            rows[row.id] = row
        for chunk in _chunks(sorted(set(references))):
            by_collection = sa.select(collections.c.code).where(
                collections.c.partner == partner, collections.c.partner_ref.in_(chunk)
            )
            query = base.where(sa.or_(_T.external_ref.in_(chunk), _T.external_ref.in_(by_collection)))
            for row in self.connection.execute(query):
                rows[row.id] = row
        net: dict[tuple[str, str], int] = defaultdict(int)
        meta: dict[str, tuple[str, datetime]] = {}
        for row in rows.values():
            sign = (row.debit_account_id in clearing) - (row.credit_account_id in clearing)
            net[(row.code, row.currency)] += sign * row.amount_minor
            meta[row.code] = (row.reference, row.created_at)
        return [
            LedgerMovement(code, meta[code][0], Money.from_minor(minor, currency), meta[code][1])
            for (code, currency), minor in sorted(net.items())
        ]

    # -- runs -----------------------------------------------------------------------------------------

    def run_code_for(self, partner: str, content_hash: str) -> str | None:
        return self.connection.execute(
            sa.select(reconciliation_runs.c.code).where(
                reconciliation_runs.c.partner == partner, reconciliation_runs.c.content_hash == content_hash
            )
        ).scalar_one_or_none()

    def imported_line_ids(self, partner: str, line_ids: Sequence[str]) -> dict[str, str]:
        """line_id -> the run that first imported it, for those of `line_ids` already stored."""
        found: dict[str, str] = {}
        for chunk in _chunks(list(line_ids)):
            rows = self.connection.execute(
                sa.select(settlement_lines.c.line_id, settlement_lines.c.run_code).where(
                    settlement_lines.c.partner == partner, settlement_lines.c.line_id.in_(chunk)
                )
            )
            found.update({row.line_id: row.run_code for row in rows})
        return found

    def references_seen(self, partner: str, references: Iterable[str]) -> frozenset[str]:
        seen: set[str] = set()
        for chunk in _chunks(sorted(set(references))):
            seen.update(
                self.connection.execute(
                    sa.select(settlement_lines.c.reference)
                    .where(settlement_lines.c.partner == partner, settlement_lines.c.reference.in_(chunk))
                    .distinct()
                ).scalars()
            )
        return frozenset(seen)

    def insert_run(self, run: Run, lines: Sequence[StatementLine]) -> None:
        self.connection.execute(
            reconciliation_runs.insert().values(
                code=run.code,
                partner=run.partner,
                content_hash=run.content_hash,
                file_name=run.file_name,
                period_start=run.period_start,
                period_end=run.period_end,
                line_count=run.line_count,
                created_at=run.created_at,
            )
        )
        if lines:
            self.connection.execute(
                settlement_lines.insert(),
                [
                    {
                        "run_code": run.code,
                        "partner": run.partner,
                        "line_id": line.line_id,
                        "line_no": line.line_no,
                        "value_date": line.value_date,
                        "reference": line.reference,
                        "type": line.type.value,
                        "currency": line.amount.currency,
                        "amount_minor": line.amount.minor,
                        "description": line.description,
                    }
                    for line in lines
                ],
            )
        if run.items:
            self.connection.execute(
                reconciliation_items.insert(),
                [
                    {
                        "run_code": run.code,
                        "seq": seq,
                        "outcome": item.outcome.value,
                        "reference": item.reference,
                        "statement_currency": item.statement_amount.currency if item.statement_amount else None,
                        "statement_minor": item.statement_amount.minor if item.statement_amount else None,
                        "ledger_currency": item.ledger_amount.currency if item.ledger_amount else None,
                        "ledger_minor": item.ledger_amount.minor if item.ledger_amount else None,
                        "line_ids": json.dumps(list(item.line_ids)),
                        "transaction_codes": json.dumps(list(item.transaction_codes)),
                        "detail": item.detail,
                    }
                    for seq, item in enumerate(run.items)
                ],
            )

    def get_run(self, code: str) -> Run | None:
        row = self.connection.execute(sa.select(reconciliation_runs).where(reconciliation_runs.c.code == code)).first()
        if row is None:
            return None
        items = []
        for item in self.connection.execute(
            sa.select(reconciliation_items)
            .where(reconciliation_items.c.run_code == code)
            .order_by(reconciliation_items.c.seq)
        ):
            stated = (
                Money.from_minor(item.statement_minor, item.statement_currency)
                if item.statement_currency is not None
                else None
            )
            booked = (
                Money.from_minor(item.ledger_minor, item.ledger_currency) if item.ledger_currency is not None else None
            )
            either = stated or booked
            currency = either.currency if either is not None else ""
            items.append(
                Item(
                    Outcome(item.outcome),
                    item.reference,
                    currency,
                    stated,
                    booked,
                    tuple(json.loads(item.line_ids)),
                    tuple(json.loads(item.transaction_codes)),
                    item.detail,
                )
            )
        return Run(
            row.code,
            row.partner,
            row.content_hash,
            row.file_name,
            row.period_start,
            row.period_end,
            row.line_count,
            row.created_at,
            tuple(items),
        )

    def list_runs(
        self, partner: str | None, from_day: date | None, to_day: date | None, offset: int, limit: int
    ) -> tuple[list[Run], bool]:
        """A page of runs without their items, newest first; whether more follow.

        A run is listed when its period overlaps [from_day, to_day] (either bound open when None).
        """
        r = reconciliation_runs.c
        query = sa.select(reconciliation_runs)
        if partner is not None:
            query = query.where(r.partner == partner)
        if from_day is not None:
            query = query.where(r.period_end >= from_day)
        if to_day is not None:
            query = query.where(r.period_start <= to_day)
        rows = list(
            self.connection.execute(query.order_by(r.created_at.desc(), r.code.desc()).offset(offset).limit(limit + 1))
        )
        page = rows[:limit]
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        if page:
            i = reconciliation_items.c
            grouped = (
                sa.select(i.run_code, i.outcome, sa.func.count())
                .where(i.run_code.in_([row.code for row in page]))
                .group_by(i.run_code, i.outcome)
            )
            for code, outcome, count in self.connection.execute(grouped):
                counts[code][outcome] = count
        runs = [
            Run(
                row.code,
                row.partner,
                row.content_hash,
                row.file_name,
                row.period_start,
                row.period_end,
                row.line_count,
                row.created_at,
                (),
                OutcomeCounts(
                    matched=counts[row.code][Outcome.MATCHED.value],
                    mismatched=counts[row.code][Outcome.MISMATCHED.value],
                    missing_in_ledger=counts[row.code][Outcome.MISSING_IN_LEDGER.value],
                    missing_in_statement=counts[row.code][Outcome.MISSING_IN_STATEMENT.value],
                    duplicate=counts[row.code][Outcome.DUPLICATE.value],
                ),
            )
            for row in page
        ]
        return runs, len(rows) > limit


# -- merchant statements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MerchantLine:
    transfer_id: int
    posted_at: datetime
    transaction_code: str
    kind: str
    external_ref: str
    wallet: str  # MERCHANT_PENDING or MERCHANT_AVAILABLE
    account_code: str
    amount: Money  # signed: credit to the merchant's wallet positive
    balance_after: Money


@dataclass(frozen=True)
class WalletTotals:
    wallet: str
    account_code: str
    opening: Money
    closing: Money


class MerchantStatementRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def wallets(self, merchant: str, currency: str | None) -> list[sa.Row]:
        query = (
            sa.select(_A.id, _A.code, _A.kind, _A.currency)
            .where(
                _A.owner == merchant,
                _A.kind.in_([AccountKind.MERCHANT_PENDING.value, AccountKind.MERCHANT_AVAILABLE.value]),
            )
            .order_by(_A.currency, _A.kind)
        )
        if currency:
            query = query.where(_A.currency == currency)
        return list(self.connection.execute(query))

    def _balance(self, account_id: int, condition: sa.ColumnElement[bool]) -> int:
        """credits - debits of the account's posted transfers that satisfy `condition`."""
        signed = sa.case((_TR.credit_account_id == account_id, _TR.amount_minor), else_=-_TR.amount_minor)
        value = self.connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
            .select_from(ledger_transfers.join(ledger_transactions, _T.id == _TR.transaction_id))
            .where(
                _TR.state == TransferState.POSTED.value,
                sa.or_(_TR.debit_account_id == account_id, _TR.credit_account_id == account_id),
                condition,
            )
        ).scalar_one()
        return int(value)

    def totals(self, wallets: Sequence[sa.Row], start: datetime, end: datetime) -> list[WalletTotals]:
        return [
            WalletTotals(
                w.kind,
                w.code,
                Money.from_minor(self._balance(w.id, _T.created_at < start), w.currency),
                Money.from_minor(self._balance(w.id, _T.created_at < end), w.currency),
            )
            for w in wallets
        ]

    def lines(
        self, wallets: Sequence[sa.Row], start: datetime, end: datetime, after_transfer: int, limit: int
    ) -> tuple[list[MerchantLine], bool]:
        """Lines of up to `limit` transfers after `after_transfer`, in posting order (time, then transfer id,
        so a back-dated posting sits where its date puts it); and whether more follow."""
        if not wallets:
            return [], False
        by_id = {w.id: w for w in wallets}
        ids = list(by_id)
        query = (
            sa.select(_TR.id, _TR.debit_account_id, _TR.credit_account_id, _TR.currency, _TR.amount_minor,
                      _T.code, _T.kind, _T.external_ref, _T.created_at)
            .join(ledger_transactions, _T.id == _TR.transaction_id)
            .where(
                _TR.state == TransferState.POSTED.value,
                sa.or_(_TR.debit_account_id.in_(ids), _TR.credit_account_id.in_(ids)),
                _T.created_at >= start,
                _T.created_at < end,
            )
            .order_by(_T.created_at, _TR.id)
            .limit(limit + 1)
        )  # fmt: skip
        if after_transfer:
            after_at = self.connection.execute(
                sa.select(_T.created_at)
                .join(ledger_transfers, _T.id == _TR.transaction_id)
                .where(_TR.id == after_transfer)
            ).scalar_one_or_none()
            if after_at is None:
                return [], False
            query = query.where(_before(after_at, after_transfer, inverse=True))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        if not rows:
            return [], more
        first = rows[0]
        running = {w.id: self._balance(w.id, _before(first.created_at, first.id)) for w in wallets}
        out: list[MerchantLine] = []
        for row in rows:
            for account_id, sign in ((row.credit_account_id, 1), (row.debit_account_id, -1)):
                wallet = by_id.get(account_id)
                if wallet is None:
                    continue
                running[account_id] += sign * row.amount_minor
                out.append(
                    MerchantLine(
                        row.id,
                        row.created_at,
                        row.code,
                        row.kind,
                        row.external_ref,
                        wallet.kind,
                        wallet.code,
                        Money.from_minor(sign * row.amount_minor, row.currency),
                        Money.from_minor(running[account_id], row.currency),
                    )
                )
        return out, more


def _before(at: datetime, transfer_id: int, *, inverse: bool = False) -> sa.ColumnElement[bool]:
    """Transfers strictly before (or, inverse, strictly after) the one at (at, transfer_id) in posting order."""
    if inverse:
        return sa.or_(_T.created_at > at, sa.and_(_T.created_at == at, _TR.id > transfer_id))
    return sa.or_(_T.created_at < at, sa.and_(_T.created_at == at, _TR.id < transfer_id))
