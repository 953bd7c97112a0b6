"""SQL access to the ledger: accounts, transactions, transfers and pending status, on one connection.

The repository never commits: the handler's unit of work does. Balance limits are enforced by one
conditional UPDATE per account, in ascending account id order: on PostgreSQL the UPDATE takes the row lock
and re-checks its WHERE clause against the latest committed row (READ COMMITTED re-evaluation), and the
fixed order means two transactions over the same accounts queue instead of deadlocking. On SQLite the
write transaction is opened with BEGIN IMMEDIATE, so there is a single writer and every read after it is
current.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from services.payments.ledger.adapters.tables import (
    ledger_accounts,
    ledger_pending,
    ledger_transactions,
    ledger_transfers,
)
from services.payments.ledger.domain import (
    Account,
    AccountKind,
    BalanceLimit,
    Balances,
    PendingStatus,
    PostedTransfer,
    TransactionResult,
    TransferState,
)
from services.payments.ledger.errors import InsufficientFunds
from services.shared.money import Money

_A = ledger_accounts.c
_T = ledger_transfers.c


@dataclass(frozen=True)
class NewTransfer:
    debit_account_id: int
    credit_account_id: int
    currency: str
    amount_minor: int
    code: str
    state: TransferState
    pending_id: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class NewTransaction:
    code: str
    idempotency_key: str
    fingerprint: str
    kind: str
    external_ref: str
    metadata: Mapping[str, str]
    created_at: datetime

    def row(self) -> dict[str, object]:
        return {
            "code": self.code,
            "idempotency_key": self.idempotency_key,
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "external_ref": self.external_ref,
            "metadata": json.dumps(dict(self.metadata), sort_keys=True),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class StoredTransaction:
    id: int
    fingerprint: str
    result: TransactionResult


@dataclass(frozen=True)
class PendingRecord:
    transfer: PostedTransfer
    debit_account_id: int
    credit_account_id: int
    status: PendingStatus
    expires_at: datetime | None


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no primary key for the insert")
    return int(key[0])


def _update_guarded() -> sa.Update:
    """One UPDATE for every limit, so a transaction's accounts are updated by one batched statement."""
    dp, dd, cp, cc = (sa.bindparam(n, type_=sa.BigInteger) for n in ("d_dp", "d_dd", "d_cp", "d_cc"))
    debits_ok = _A.debits_pending + dp + _A.debits_posted + dd <= _A.credits_posted + cc
    credits_ok = _A.credits_pending + cp + _A.credits_posted + cc <= _A.debits_posted + dd
    return (
        ledger_accounts.update()
        .where(
            _A.id == sa.bindparam("account_id"),
            sa.or_(
                sa.bindparam("check", type_=sa.Boolean) == sa.false(),
                _A.balance_limit == BalanceLimit.NONE.value,
                sa.and_(_A.balance_limit == BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS.value, debits_ok),
                sa.and_(_A.balance_limit == BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS.value, credits_ok),
            ),
        )
        .values(
            debits_pending=_A.debits_pending + dp,
            debits_posted=_A.debits_posted + dd,
            credits_pending=_A.credits_pending + cp,
            credits_posted=_A.credits_posted + cc,
        )
    )


_UPDATE_GUARDED = _update_guarded()
_ACCOUNTS_BY_CODE = (
    sa.select(ledger_accounts)
    .where(_A.code.in_(sa.bindparam("codes", expanding=True)))
    .order_by(_A.id)
    .with_for_update()  # PostgreSQL: row locks in id order (SQLite renders no FOR UPDATE: BEGIN IMMEDIATE)
)
_ACCOUNTS_BY_ID = (
    sa.select(ledger_accounts).where(_A.id.in_(sa.bindparam("ids", expanding=True))).order_by(_A.id).with_for_update()
)
_CLAIM_TRANSACTION = {
    name: dialect.insert(ledger_transactions)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(ledger_transactions.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_TRANSFER_IDS = sa.select(_T.id).where(_T.transaction_id == sa.bindparam("transaction_id")).order_by(_T.id)
_UNNEST_COLUMNS = (
    "debit_account_id",
    "credit_account_id",
    "currency",
    "amount_minor",
    "code",
    "state",
    "pending_id",
    "expires_at",
)
_PG_INSERT_TRANSFERS = sa.text(
    "INSERT INTO ledger_transfers (transaction_id, debit_account_id, credit_account_id, currency, amount_minor,"
    " code, state, pending_id, expires_at)"
    " SELECT :transaction_id, t.d, t.c, t.cur, t.amt, t.code, t.st, t.pid, t.exp FROM unnest("
    "CAST(:debit_account_id AS integer[]), CAST(:credit_account_id AS integer[]), CAST(:currency AS varchar[]),"
    " CAST(:amount_minor AS bigint[]), CAST(:code AS varchar[]), CAST(:state AS varchar[]),"
    " CAST(:pending_id AS integer[]), CAST(:expires_at AS timestamptz[])"
    ") WITH ORDINALITY AS t(d, c, cur, amt, code, st, pid, exp, n) ORDER BY t.n RETURNING id"
)
_FIND_TRANSACTION = sa.select(ledger_transactions).where(ledger_transactions.c.idempotency_key == sa.bindparam("key"))


def _only_tightens(limit: BalanceLimit, delta: Balances) -> bool:
    """A delta that cannot bring the limited side closer to its limit needs no check (posting a reservation)."""
    if limit is BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS:
        return delta.debits_pending + delta.debits_posted <= 0 and delta.credits_posted >= 0
    if limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS:
        return delta.credits_pending + delta.credits_posted <= 0 and delta.debits_posted >= 0
    return True


class LedgerRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- transactions on SQLite ------------------------------------------------------------------------

    # -- accounts --------------------------------------------------------------------------------------

    @staticmethod
    def _account(row: Any) -> Account:
        return Account(
            id=row.id,
            code=row.code,
            owner=row.owner,
            kind=AccountKind(row.kind),
            currency=row.currency,
            limit=BalanceLimit(row.balance_limit),
            balances=Balances(row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted),
            created_at=row.created_at,
        )

    def add_account_if_absent(
        self, code: str, owner: str, kind: AccountKind, currency: str, limit: BalanceLimit, now: datetime
    ) -> None:
        """INSERT ... ON CONFLICT DO NOTHING: two transactions opening the same account never fail each other."""
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        self.connection.execute(
            dialect.insert(ledger_accounts)
            .values(
                code=code,
                owner=owner,
                kind=kind.value,
                currency=currency,
                balance_limit=limit.value,
                debits_pending=0,
                debits_posted=0,
                credits_pending=0,
                credits_posted=0,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["owner", "kind", "currency"])
        )

    def find_account(self, owner: str, kind: AccountKind, currency: str) -> Account | None:
        row = self.connection.execute(
            sa.select(ledger_accounts).where(_A.owner == owner, _A.kind == kind.value, _A.currency == currency)
        ).first()
        return self._account(row) if row else None

    def get_account(self, code: str) -> Account | None:
        row = self.connection.execute(sa.select(ledger_accounts).where(_A.code == code)).first()
        return self._account(row) if row else None

    def accounts_by_code(self, codes: Iterable[str]) -> dict[str, Account]:
        """The accounts, locked for this transaction (in id order, so lockers queue instead of deadlocking)."""
        rows = self.connection.execute(_ACCOUNTS_BY_CODE, {"codes": sorted(set(codes))})
        return {row.code: self._account(row) for row in rows}

    def accounts_by_id(self, ids: Iterable[int]) -> dict[int, Account]:
        """Like accounts_by_code: locked, current."""
        rows = self.connection.execute(_ACCOUNTS_BY_ID, {"ids": sorted(set(ids))})
        return {row.id: self._account(row) for row in rows}

    def list_accounts(
        self,
        *,
        owner: str | None = None,
        kind: AccountKind | None = None,
        currency: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Account]:
        query = sa.select(ledger_accounts).where(_A.id > after_id).order_by(_A.id).limit(limit)
        if owner is not None:
            query = query.where(_A.owner == owner)
        if kind is not None:
            query = query.where(_A.kind == kind.value)
        if currency is not None:
            query = query.where(_A.currency == currency)
        return [self._account(row) for row in self.connection.execute(query)]

    def all_accounts(self) -> list[Account]:
        return [self._account(row) for row in self.connection.execute(sa.select(ledger_accounts).order_by(_A.id))]

    def apply(self, deltas: Mapping[int, Balances], accounts: Mapping[int, Account], fields: Mapping[int, str]) -> None:
        """Add each delta to its account's totals, refusing the lot if any account would break its limit.

        `accounts` must be the rows this transaction locked (accounts_by_code/by_id), so their totals are
        current: the limits are checked here, then one batched UPDATE (pipelined by psycopg) applies every
        delta, still guarded in SQL, in ascending id order.
        """
        params = []
        for account_id in sorted(deltas):
            delta = deltas[account_id]
            account = accounts[account_id]
            if not _only_tightens(account.limit, delta) and not (account.balances + delta).within(account.limit):
                raise InsufficientFunds(account.code, account.limit.value, field=fields.get(account_id))
            params.append(
                {
                    "account_id": account_id,
                    "d_dp": delta.debits_pending,
                    "d_dd": delta.debits_posted,
                    "d_cp": delta.credits_pending,
                    "d_cc": delta.credits_posted,
                    "check": not _only_tightens(account.limit, delta),
                }
            )
        if not params:
            return
        updated = self.connection.execute(_UPDATE_GUARDED, params).rowcount
        if updated != len(params):
            # Only reachable if the rows were not locked by the caller: refuse rather than half-apply.
            raise InsufficientFunds(
                ",".join(accounts[p["account_id"]].code for p in params), "a balance limit (concurrent change)"
            )

    # -- transactions and transfers ---------------------------------------------------------------------

    def insert_transaction(self, transaction: NewTransaction) -> int:
        return _new_id(self.connection.execute(ledger_transactions.insert(), transaction.row()))

    def claim_transaction(self, transaction: NewTransaction) -> int | None:
        """Insert the transaction row unless its key exists (then None: a replay), in one round trip.

        On PostgreSQL a concurrent insert of the same key waits for the first to commit or roll back.
        """
        row = self.connection.execute(_CLAIM_TRANSACTION[self.connection.dialect.name], transaction.row()).first()
        return None if row is None else int(row.id)

    def insert_transfers(self, transaction_id: int, transfers: Sequence[NewTransfer]) -> list[int]:
        """Insert in order and return the new ids, in the same order."""
        rows = [
            {
                "transaction_id": transaction_id,
                "debit_account_id": t.debit_account_id,
                "credit_account_id": t.credit_account_id,
                "currency": t.currency,
                "amount_minor": t.amount_minor,
                "code": t.code,
                "state": t.state.value,
                "pending_id": t.pending_id,
                "expires_at": t.expires_at,
            }
            for t in transfers
        ]
        if len(rows) == 1:
            return [_new_id(self.connection.execute(ledger_transfers.insert(), rows[0]))]
        if self.connection.dialect.name == "postgresql":
            # One statement whatever the batch size: arrays unnested in order; ids come from the sequence in
            # insertion order, so the sorted RETURNING ids are the transfers' ids in order.
            columns = list(zip(*[[r[c] for c in _UNNEST_COLUMNS] for r in rows], strict=True))
            params = {
                "transaction_id": transaction_id,
                **{c: list(v) for c, v in zip(_UNNEST_COLUMNS, columns, strict=True)},
            }
            ids = sorted(int(i) for i in self.connection.execute(_PG_INSERT_TRANSFERS, params).scalars())
        else:
            # SQLite: executemany in-process, then the ids (max(rowid) + 1 under the single writer: in order).
            self.connection.execute(ledger_transfers.insert(), rows)
            ids = [int(i) for i in self.connection.execute(_TRANSFER_IDS, {"transaction_id": transaction_id}).scalars()]
        if len(ids) != len(rows):
            raise RuntimeError(f"inserted {len(rows)} transfers, found {len(ids)}")
        return ids

    def insert_pending(self, rows: Sequence[tuple[int, datetime | None]]) -> None:
        if rows:
            self.connection.execute(
                ledger_pending.insert(),
                [{"transfer_id": tid, "status": PendingStatus.PENDING.value, "expires_at": at} for tid, at in rows],
            )

    def find_transaction(self, idempotency_key: str) -> StoredTransaction | None:
        row = self.connection.execute(_FIND_TRANSACTION, {"key": idempotency_key}).first()
        return self._stored(row) if row else None

    def _stored(self, row: Any) -> StoredTransaction:
        transfers = self.transfers_of([row.id])[row.id]
        result = TransactionResult(
            code=row.code,
            idempotency_key=row.idempotency_key,
            kind=row.kind,
            external_ref=row.external_ref,
            metadata=json.loads(row.metadata),
            transfers=tuple(transfers),
            created_at=row.created_at,
        )
        return StoredTransaction(row.id, row.fingerprint, result)

    def transfers_of(self, transaction_ids: Sequence[int]) -> dict[int, list[PostedTransfer]]:
        debit = ledger_accounts.alias("debit")
        credit = ledger_accounts.alias("credit")
        rows = self.connection.execute(
            sa.select(
                ledger_transfers,
                debit.c.code.label("debit_code"),
                credit.c.code.label("credit_code"),
            )
            .join(debit, debit.c.id == _T.debit_account_id)
            .join(credit, credit.c.id == _T.credit_account_id)
            .where(_T.transaction_id.in_(list(transaction_ids)))
            .order_by(_T.id)
        )
        out: dict[int, list[PostedTransfer]] = {tid: [] for tid in transaction_ids}
        for row in rows:
            out[row.transaction_id].append(self._transfer(row))
        return out

    @staticmethod
    def _transfer(row: Any) -> PostedTransfer:
        return PostedTransfer(
            id=row.id,
            debit_account=row.debit_code,
            credit_account=row.credit_code,
            amount=Money.from_minor(row.amount_minor, row.currency),
            code=row.code,
            state=TransferState(row.state),
            pending_id=row.pending_id,
            expires_at=row.expires_at,
        )

    def list_transactions(
        self, *, account_id: int | None = None, owner: str | None = None, before_id: int | None = None, limit: int = 50
    ) -> list[tuple[int, TransactionResult]]:
        """(id, transaction) newest first; `before_id` pages back."""
        query = sa.select(ledger_transactions).order_by(ledger_transactions.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(ledger_transactions.c.id < before_id)
        if account_id is not None or owner is not None:
            accounts = sa.select(_A.id).where(_A.id == account_id if account_id is not None else _A.owner == owner)
            touching = sa.select(_T.transaction_id).where(
                sa.or_(_T.debit_account_id.in_(accounts), _T.credit_account_id.in_(accounts))
            )
            query = query.where(ledger_transactions.c.id.in_(touching))
        rows = self.connection.execute(query).all()
        transfers = self.transfers_of([row.id for row in rows])
        return [
            (
                row.id,
                TransactionResult(
                    code=row.code,
                    idempotency_key=row.idempotency_key,
                    kind=row.kind,
                    external_ref=row.external_ref,
                    metadata=json.loads(row.metadata),
                    transfers=tuple(transfers[row.id]),
                    created_at=row.created_at,
                ),
            )
            for row in rows
        ]

    def pending(self, transfer_id: int) -> PendingRecord | None:
        debit = ledger_accounts.alias("debit")
        credit = ledger_accounts.alias("credit")
        row = self.connection.execute(
            sa.select(
                ledger_transfers,
                debit.c.code.label("debit_code"),
                credit.c.code.label("credit_code"),
                ledger_pending.c.status.label("pending_status"),
                ledger_pending.c.expires_at.label("pending_expires_at"),
            )
            .join(ledger_pending, ledger_pending.c.transfer_id == _T.id)
            .join(debit, debit.c.id == _T.debit_account_id)
            .join(credit, credit.c.id == _T.credit_account_id)
            .where(_T.id == transfer_id)
        ).first()
        if row is None:
            return None
        return PendingRecord(
            self._transfer(row),
            row.debit_account_id,
            row.credit_account_id,
            PendingStatus(row.pending_status),
            row.pending_expires_at,
        )

    def resolve_pending(self, transfer_id: int, status: PendingStatus, at: datetime) -> bool:
        """Mark a still-pending transfer resolved; False if something else resolved it first."""
        result = self.connection.execute(
            ledger_pending.update()
            .where(
                ledger_pending.c.transfer_id == transfer_id,
                ledger_pending.c.status == PendingStatus.PENDING.value,
            )
            .values(status=status.value, resolved_at=at)
        )
        return result.rowcount == 1

    def resolve_pending_by(self, transfer_id: int, by: int) -> None:
        self.connection.execute(
            ledger_pending.update().where(ledger_pending.c.transfer_id == transfer_id).values(resolved_by=by)
        )

    def set_pending_expiry(self, transfer_id: int, expires_at: datetime | None) -> None:
        self.connection.execute(
            ledger_pending.update()
            .where(
                ledger_pending.c.transfer_id == transfer_id,
                ledger_pending.c.status == PendingStatus.PENDING.value,
            )
            .values(expires_at=expires_at)
        )

    def due_pending(self, now: datetime, limit: int) -> list[int]:
        return list(
            self.connection.execute(
                sa.select(ledger_pending.c.transfer_id)
                .where(
                    ledger_pending.c.status == PendingStatus.PENDING.value,
                    ledger_pending.c.expires_at.is_not(None),
                    ledger_pending.c.expires_at <= now,
                )
                .order_by(ledger_pending.c.expires_at, ledger_pending.c.transfer_id)
                .limit(limit)
            ).scalars()
        )

    # -- verification ----------------------------------------------------------------------------------

    def transfer_totals(self) -> dict[str, Balances]:
        """Each account's totals recomputed from the transfers alone (for the invariant check).

        A pending transfer adds to the pending sides while still pending; a post adds to the posted
        sides; resolving one removes its reservation (so only PENDING-status reservations count).
        """
        still_pending = sa.select(ledger_pending.c.transfer_id).where(
            ledger_pending.c.status == PendingStatus.PENDING.value
        )
        totals: dict[str, Balances] = {}
        code_of = {row.id: row.code for row in self.connection.execute(sa.select(_A.id, _A.code))}

        def add(account_id: int, delta: Balances) -> None:
            code = code_of[account_id]
            totals[code] = totals.get(code, Balances()) + delta

        posted = self.connection.execute(
            sa.select(_T.debit_account_id, _T.credit_account_id, sa.func.sum(_T.amount_minor))
            .where(_T.state == TransferState.POSTED.value)
            .group_by(_T.debit_account_id, _T.credit_account_id)
        )
        for debit_id, credit_id, total in posted:
            add(debit_id, Balances(debits_posted=int(total)))
            add(credit_id, Balances(credits_posted=int(total)))
        pending = self.connection.execute(
            sa.select(_T.debit_account_id, _T.credit_account_id, sa.func.sum(_T.amount_minor))
            .where(_T.state == TransferState.PENDING.value, _T.id.in_(still_pending))
            .group_by(_T.debit_account_id, _T.credit_account_id)
        )
        for debit_id, credit_id, total in pending:
            add(debit_id, Balances(debits_pending=int(total)))
            add(credit_id, Balances(credits_pending=int(total)))
        return totals

    def transfer_count(self) -> int:
        return int(self.connection.execute(sa.select(sa.func.count()).select_from(ledger_transfers)).scalar_one())
