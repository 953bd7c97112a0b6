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
from sqlalchemy.engine import Connection

from services.payments.adapters.ledger_tables import (
    ledger_accounts,
    ledger_pending,
    ledger_transactions,
    ledger_transfers,
)
from services.payments.domain.ledger import (
    Account,
    AccountKind,
    BalanceLimit,
    Balances,
    PendingStatus,
    PostedTransfer,
    TransactionResult,
    TransferState,
)
from services.payments.domain.ledger_errors import InsufficientFunds
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


def _limit_holds(limit: BalanceLimit, delta: Balances) -> sa.ColumnElement[bool] | None:
    """The SQL form of Balances.within() on the row's totals after `delta`."""
    if limit is BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS:
        return (
            _A.debits_pending + delta.debits_pending + _A.debits_posted + delta.debits_posted
            <= _A.credits_posted + delta.credits_posted
        )
    if limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS:
        return (
            _A.credits_pending + delta.credits_pending + _A.credits_posted + delta.credits_posted
            <= _A.debits_posted + delta.debits_posted
        )
    return None


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

    def begin_write(self) -> None:
        """On SQLite, take the write lock now (BEGIN IMMEDIATE), before anything is read.

        pysqlite opens its transaction lazily at the first INSERT/UPDATE; reads before that would see a
        snapshot another writer can change before this one writes. Idempotent within a transaction.
        """
        if self.connection.dialect.name != "sqlite":
            return
        dbapi = self.connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:  # type: ignore[attr-defined]
            self.connection.exec_driver_sql("BEGIN IMMEDIATE")

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

    def insert_account(
        self, code: str, owner: str, kind: AccountKind, currency: str, limit: BalanceLimit, now: datetime
    ) -> Account:
        result = self.connection.execute(
            ledger_accounts.insert().values(
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
        )
        return Account(_new_id(result), code, owner, kind, currency, limit, Balances(), now)

    def find_account(self, owner: str, kind: AccountKind, currency: str) -> Account | None:
        row = self.connection.execute(
            sa.select(ledger_accounts).where(_A.owner == owner, _A.kind == kind.value, _A.currency == currency)
        ).first()
        return self._account(row) if row else None

    def get_account(self, code: str) -> Account | None:
        row = self.connection.execute(sa.select(ledger_accounts).where(_A.code == code)).first()
        return self._account(row) if row else None

    def accounts_by_code(self, codes: Iterable[str]) -> dict[str, Account]:
        wanted = sorted(set(codes))
        rows = self.connection.execute(sa.select(ledger_accounts).where(_A.code.in_(wanted)))
        return {row.code: self._account(row) for row in rows}

    def accounts_by_id(self, ids: Iterable[int]) -> dict[int, Account]:
        rows = self.connection.execute(sa.select(ledger_accounts).where(_A.id.in_(sorted(set(ids)))))
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

        Ascending id order is the lock order (no deadlocks between transactions over the same accounts).
        """
        for account_id in sorted(deltas):
            delta = deltas[account_id]
            account = accounts[account_id]
            statement = (
                ledger_accounts.update()
                .where(_A.id == account_id)
                .values(
                    debits_pending=_A.debits_pending + delta.debits_pending,
                    debits_posted=_A.debits_posted + delta.debits_posted,
                    credits_pending=_A.credits_pending + delta.credits_pending,
                    credits_posted=_A.credits_posted + delta.credits_posted,
                )
            )
            condition = None if _only_tightens(account.limit, delta) else _limit_holds(account.limit, delta)
            if condition is not None:
                statement = statement.where(condition)
            if self.connection.execute(statement).rowcount != 1:
                raise InsufficientFunds(account.code, account.limit.value, field=fields.get(account_id))

    # -- transactions and transfers ---------------------------------------------------------------------

    def insert_transaction(
        self,
        code: str,
        idempotency_key: str,
        fingerprint: str,
        kind: str,
        external_ref: str,
        metadata: Mapping[str, str],
        now: datetime,
    ) -> int:
        result = self.connection.execute(
            ledger_transactions.insert().values(
                code=code,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                kind=kind,
                external_ref=external_ref,
                metadata=json.dumps(dict(metadata), sort_keys=True),
                created_at=now,
            )
        )
        return _new_id(result)

    def insert_transfers(self, transaction_id: int, transfers: Sequence[NewTransfer]) -> list[int]:
        """Insert in order and return the new ids (one round trip per transfer with RETURNING)."""
        ids = []
        for t in transfers:
            result = self.connection.execute(
                ledger_transfers.insert().values(
                    transaction_id=transaction_id,
                    debit_account_id=t.debit_account_id,
                    credit_account_id=t.credit_account_id,
                    currency=t.currency,
                    amount_minor=t.amount_minor,
                    code=t.code,
                    state=t.state.value,
                    pending_id=t.pending_id,
                    expires_at=t.expires_at,
                )
            )
            ids.append(_new_id(result))
        return ids

    def insert_pending(self, rows: Sequence[tuple[int, datetime | None]]) -> None:
        if rows:
            self.connection.execute(
                ledger_pending.insert(),
                [{"transfer_id": tid, "status": PendingStatus.PENDING.value, "expires_at": at} for tid, at in rows],
            )

    def find_transaction(self, idempotency_key: str) -> StoredTransaction | None:
        row = self.connection.execute(
            sa.select(ledger_transactions).where(ledger_transactions.c.idempotency_key == idempotency_key)
        ).first()
        return self._stored(row) if row else None

    def get_transaction(self, code: str) -> StoredTransaction | None:
        row = self.connection.execute(sa.select(ledger_transactions).where(ledger_transactions.c.code == code)).first()
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
    ) -> list[TransactionResult]:
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
            TransactionResult(
                code=row.code,
                idempotency_key=row.idempotency_key,
                kind=row.kind,
                external_ref=row.external_ref,
                metadata=json.loads(row.metadata),
                transfers=tuple(transfers[row.id]),
                created_at=row.created_at,
            )
            for row in rows
        ]

    def transaction_id_of(self, code: str) -> int | None:
        return self.connection.execute(
            sa.select(ledger_transactions.c.id).where(ledger_transactions.c.code == code)
        ).scalar_one_or_none()

    # -- pending transfers -----------------------------------------------------------------------------

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
