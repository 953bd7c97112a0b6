"""Ledger use cases: open accounts, post transactions, post/void pending transfers, expire them, verify.

Two layers, so other handlers can post in their own transaction:
- `record_transaction(uow, command, now=...)` and `record_resolution(...)` work inside a unit of work the
  caller opened, write the outbox event, and never commit (the caller commits its own state with them);
- `post_transaction(uow_factory, command)`, `post_pending`, `void_pending`, `open_account`,
  `expire_pending` open a unit of work, commit, and turn a concurrent duplicate into a replay.

Idempotency (TigerBeetle transfer ids, Stripe Idempotency-Key): the key is stored with a fingerprint of
the payload in `ledger_transactions`, unique, in the same transaction as the postings. A replay with the
same payload returns the first result (replayed=True, nothing written, no event); a different payload is
refused with IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from xborder.payments.v1 import events_pb2

from services.payments.ledger import domain as ledger
from services.payments.ledger.adapters.repository import NewTransaction, NewTransfer
from services.payments.ledger.domain import (
    Account,
    AccountKind,
    BalanceLimit,
    PendingStatus,
    PostedTransfer,
    PostTransaction,
    TransactionResult,
    TransferState,
)
from services.payments.ledger.errors import (
    CurrencyMismatch,
    PendingTransferExpired,
    PendingTransferResolved,
)
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import ConflictingWrite, NotFound, ValidationError, Violations, found_or_raise
from services.shared.idempotency import IdempotencyKeyReused, check_key
from services.shared.money import Money, currency_info, to_proto

UowFactory = Callable[[], PaymentsUnitOfWork]
Clock = Callable[[], datetime]
OWNER_MAX = 64
PLATFORM_KINDS = frozenset(
    {AccountKind.FEES, AccountKind.FX_LIQUIDITY, AccountKind.FX_SPREAD, AccountKind.PAYOUTS_IN_FLIGHT}
)


# -- accounts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAccount:
    owner: str  # a merchant code (MC...) for merchant wallets, PLATFORM, or a partner id for CLEARING
    kind: AccountKind
    currency: str
    limit: BalanceLimit | None = None  # None: the kind's default (ledger.DEFAULT_LIMITS)


def validate_open(command: OpenAccount) -> BalanceLimit:
    violations = Violations()
    if not command.owner:
        violations.add("owner", "is required")
    elif len(command.owner) > OWNER_MAX:
        violations.add("owner", f"at most {OWNER_MAX} characters")
    elif command.kind in ledger.MERCHANT_KINDS:
        problem = codes.problems(command.owner)
        if problem is not None or not command.owner.startswith("MC"):
            violations.add("owner", f"merchant wallets belong to a merchant code (MC...): {problem or 'not MC'}")
    elif command.kind in PLATFORM_KINDS and command.owner != ledger.PLATFORM:
        violations.add("owner", f"{command.kind.value} accounts belong to {ledger.PLATFORM}")
    violations.raise_if_any()
    currency_info(command.currency, field="currency")
    return command.limit or ledger.DEFAULT_LIMITS[command.kind]


def ensure_account(uow: PaymentsUnitOfWork, command: OpenAccount, *, now: datetime) -> Account:
    """The account for (owner, kind, currency), opened if it does not exist yet; inside the caller's uow.

    Two transactions opening the same account never fail each other (the insert does nothing on conflict).
    """
    limit = validate_open(command)
    repo = uow.ledger
    existing = repo.find_account(command.owner, command.kind, command.currency)
    if existing is None:
        repo.add_account_if_absent(codes.generate("AC"), command.owner, command.kind, command.currency, limit, now)
        existing = repo.find_account(command.owner, command.kind, command.currency)
        assert existing is not None
    if command.limit is not None and existing.limit != command.limit:
        raise ValidationError.single(
            "limit", f"account {existing.code} already exists with limit {existing.limit.value}"
        )
    return existing


def open_account(uow_factory: UowFactory, command: OpenAccount, *, clock: Clock = utcnow) -> Account:
    """Open (or return the existing) account: opening is idempotent by (owner, kind, currency)."""
    with uow_factory() as uow:
        account = ensure_account(uow, command, now=clock())
        uow.commit()
    return account


def get_account(uow_factory: UowFactory, code: str) -> Account:
    with uow_factory() as uow:
        return found_or_raise(uow.ledger.get_account(code), f"no ledger account {code!r}", field="code")


def list_accounts(
    uow_factory: UowFactory,
    *,
    owner: str | None = None,
    kind: AccountKind | None = None,
    currency: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Account]:
    with uow_factory() as uow:
        return uow.ledger.list_accounts(owner=owner, kind=kind, currency=currency, after_id=after_id, limit=limit)


@dataclass(frozen=True)
class WalletBalance:
    """A merchant's wallet in one currency."""

    currency: str
    pending: Money  # collected, waiting for the partner's settlement
    available: Money  # settled, minus what payouts in flight reserve
    reserved: Money  # held by pending payouts

    @property
    def total(self) -> Money:
        return self.pending + self.available + self.reserved


def get_balances(uow_factory: UowFactory, owner: str, currency: str | None = None) -> list[WalletBalance]:
    with uow_factory() as uow:
        accounts = uow.ledger.list_accounts(owner=owner, currency=currency, limit=10_000)
    by_currency: dict[str, dict[AccountKind, Account]] = {}
    for account in accounts:
        if account.kind in ledger.MERCHANT_KINDS:
            by_currency.setdefault(account.currency, {})[account.kind] = account
    out = []
    for code, wallets in sorted(by_currency.items()):
        zero = Money.from_minor(0, code)
        pending_wallet = wallets.get(AccountKind.MERCHANT_PENDING)
        available_wallet = wallets.get(AccountKind.MERCHANT_AVAILABLE)
        out.append(
            WalletBalance(
                code,
                pending_wallet.available if pending_wallet else zero,
                available_wallet.available if available_wallet else zero,
                available_wallet.reserved if available_wallet else zero,
            )
        )
    return out


# -- posting -----------------------------------------------------------------------------------------------


def check_idempotency_key(key: str, field_name: str = "idempotency_key") -> None:
    check_key(key, field_name)


def _replay(stored_fingerprint: str, fingerprint: str, result: TransactionResult, key: str) -> TransactionResult:
    if stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused(f"ledger transaction {result.kind}", field="idempotency_key")
    return replace(result, replayed=True)


def _event(result: TransactionResult) -> events_pb2.LedgerTransactionPosted:
    message = events_pb2.LedgerTransactionPosted(
        transaction_code=result.code,
        kind=result.kind,
        external_ref=result.external_ref,
        metadata=[events_pb2.LedgerLabel(key=k, value=v) for k, v in sorted(result.metadata.items())],
    )
    for t in result.transfers:
        item = message.transfers.add(
            transfer_id=t.id,
            debit_account=t.debit_account,
            credit_account=t.credit_account,
            amount=to_proto(t.amount),
            code=t.code,
            state=t.state.value,
            pending_id=t.pending_id or 0,
        )
        if t.expires_at is not None:
            item.expires_at.FromDatetime(t.expires_at)
    message.occurred_at.FromDatetime(result.created_at)
    return message


def record_transaction(uow: PaymentsUnitOfWork, command: PostTransaction, *, now: datetime) -> TransactionResult:
    """Post a transaction inside the caller's unit of work (no commit). All transfers or none."""
    check_idempotency_key(command.idempotency_key)
    ledger.validate_shape(command)
    fingerprint = command.fingerprint()
    repo = uow.ledger
    uow.lock_for_write()
    # The transaction row first: it claims the key (a replay costs one round trip and writes nothing).
    transaction_code = codes.generate("PY", at=now)
    transaction_id = repo.claim_transaction(
        NewTransaction(
            transaction_code,
            command.idempotency_key,
            fingerprint,
            command.kind,
            command.external_ref,
            command.metadata,
            now,
        )
    )
    if transaction_id is None:
        stored = repo.find_transaction(command.idempotency_key)
        assert stored is not None
        return _replay(stored.fingerprint, fingerprint, stored.result, command.idempotency_key)
    accounts = repo.accounts_by_code(c for t in command.transfers for c in (t.debit_account, t.credit_account))
    for i, t in enumerate(command.transfers):
        for side, code in (("debit_account", t.debit_account), ("credit_account", t.credit_account)):
            if code not in accounts:
                raise NotFound(f"no ledger account {code!r}", field=f"transfers[{i}].{side}")
    ledger.check_currencies(command.transfers, accounts)
    by_code = ledger.deltas(command.transfers)
    fields: dict[int, str] = {}
    for i, t in reversed(list(enumerate(command.transfers))):
        fields[accounts[t.credit_account].id] = f"transfers[{i}].credit_account"
    for i, t in reversed(list(enumerate(command.transfers))):
        fields[accounts[t.debit_account].id] = f"transfers[{i}].debit_account"
    repo.apply(
        {accounts[code].id: delta for code, delta in by_code.items()},
        {a.id: a for a in accounts.values()},
        fields,
    )
    new = [
        NewTransfer(
            accounts[t.debit_account].id,
            accounts[t.credit_account].id,
            t.amount.currency,
            t.amount.minor,
            t.code,
            TransferState.PENDING if t.is_pending else TransferState.POSTED,
            expires_at=None if t.pending_timeout is None else now + t.pending_timeout,
        )
        for t in command.transfers
    ]
    ids = repo.insert_transfers(transaction_id, new)
    repo.insert_pending(
        [(tid, n.expires_at) for tid, n in zip(ids, new, strict=True) if n.state is TransferState.PENDING]
    )
    result = TransactionResult(
        code=transaction_code,
        idempotency_key=command.idempotency_key,
        kind=command.kind,
        external_ref=command.external_ref,
        metadata=dict(command.metadata),
        transfers=tuple(
            PostedTransfer(tid, t.debit_account, t.credit_account, t.amount, t.code, n.state, None, n.expires_at)
            for tid, t, n in zip(ids, command.transfers, new, strict=True)
        ),
        created_at=now,
    )
    uow.emit(_event(result))
    return result


def _with_replay_on_conflict(
    uow_factory: UowFactory, key: str, fingerprint: str, work: Callable[[PaymentsUnitOfWork], TransactionResult]
) -> TransactionResult:
    try:
        with uow_factory() as uow:
            result = work(uow)
            uow.commit()
            return result
    except ConflictingWrite:
        # A concurrent request with the same key committed first: this one rolled back; answer with theirs.
        with uow_factory() as uow:
            stored = uow.ledger.find_transaction(key)
        if stored is None:
            raise
        return _replay(stored.fingerprint, fingerprint, stored.result, key)


def post_transaction(uow_factory: UowFactory, command: PostTransaction, *, clock: Clock = utcnow) -> TransactionResult:
    """Post and commit a transaction; idempotent by command.idempotency_key."""
    return _with_replay_on_conflict(
        uow_factory,
        command.idempotency_key,
        command.fingerprint(),
        lambda uow: record_transaction(uow, command, now=clock()),
    )


# -- pending transfers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvePending:
    """Post (in full, or `amount` of it) or void the pending transfer `pending_id`."""

    idempotency_key: str
    pending_id: int
    amount: Money | None = None  # posting only; None posts the whole reservation
    external_ref: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def fingerprint(self, action: str) -> str:
        canonical = [
            action,
            self.pending_id,
            None if self.amount is None else [str(self.amount.minor), self.amount.currency],
            self.external_ref,
            sorted(self.metadata.items()),
        ]
        return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def record_resolution(
    uow: PaymentsUnitOfWork,
    command: ResolvePending,
    *,
    void: bool,
    now: datetime,
    outcome: PendingStatus | None = None,
) -> TransactionResult:
    """Post or void a pending transfer inside the caller's unit of work (no commit).

    Exactly one resolution wins: the pending row's status moves from PENDING by a conditional UPDATE,
    which on PostgreSQL also locks it against a concurrent post or void.
    """
    check_idempotency_key(command.idempotency_key)
    action = "void" if void else "post"
    status = outcome or (PendingStatus.VOIDED if void else PendingStatus.POSTED)
    fingerprint = command.fingerprint(action if outcome is not PendingStatus.EXPIRED else "expire")
    repo = uow.ledger
    uow.lock_for_write()
    stored = repo.find_transaction(command.idempotency_key)
    if stored is not None:
        return _replay(stored.fingerprint, fingerprint, stored.result, command.idempotency_key)
    pending = repo.pending(command.pending_id)
    if pending is None:
        raise NotFound(f"no pending transfer {command.pending_id}", field="pending_id")
    if pending.status is not PendingStatus.PENDING:
        raise PendingTransferResolved(
            f"pending transfer {command.pending_id} is already {pending.status.value}",
            field="pending_id",
            metadata={"status": pending.status.value},
        )
    if not void and pending.expires_at is not None and now >= pending.expires_at:
        raise PendingTransferExpired(
            f"pending transfer {command.pending_id} expired at {pending.expires_at.isoformat()}", field="pending_id"
        )
    reserved = pending.transfer.amount
    if void:
        posted_minor = 0
    elif command.amount is None:
        posted_minor = reserved.minor
    else:
        violations = Violations()
        ledger.validate_amount(command.amount, "amount", violations)
        violations.raise_if_any()
        if command.amount.currency != reserved.currency:
            raise CurrencyMismatch.single(
                "amount.currency_code", f"the pending transfer is in {reserved.currency}, not {command.amount.currency}"
            )
        if command.amount.minor > reserved.minor:
            raise ValidationError.single("amount", f"must not exceed the pending amount {reserved}")
        posted_minor = command.amount.minor
    if not repo.resolve_pending(command.pending_id, status, at=now):
        raise PendingTransferResolved(
            f"pending transfer {command.pending_id} was resolved meanwhile", field="pending_id"
        )
    accounts = repo.accounts_by_id([pending.debit_account_id, pending.credit_account_id])
    by_code = ledger.resolution_deltas(pending.transfer, posted_minor)
    ids = {a.code: a.id for a in accounts.values()}
    repo.apply({ids[code]: delta for code, delta in by_code.items()}, accounts, {})
    kind = {PendingStatus.POSTED: "post_pending", PendingStatus.VOIDED: "void_pending"}.get(status, "expire_pending")
    transaction_code = codes.generate("PY", at=now)
    transaction_id = repo.insert_transaction(
        NewTransaction(
            transaction_code, command.idempotency_key, fingerprint, kind, command.external_ref, command.metadata, now
        )
    )
    state = TransferState.VOIDED if void else TransferState.POSTED
    amount_minor = reserved.minor if void else posted_minor
    (transfer_id,) = repo.insert_transfers(
        transaction_id,
        [
            NewTransfer(
                pending.debit_account_id,
                pending.credit_account_id,
                reserved.currency,
                amount_minor,
                pending.transfer.code,
                state,
                pending_id=command.pending_id,
            )
        ],
    )
    repo.resolve_pending_by(command.pending_id, transfer_id)
    result = TransactionResult(
        code=transaction_code,
        idempotency_key=command.idempotency_key,
        kind=kind,
        external_ref=command.external_ref,
        metadata=dict(command.metadata),
        transfers=(
            PostedTransfer(
                transfer_id,
                pending.transfer.debit_account,
                pending.transfer.credit_account,
                Money.from_minor(amount_minor, reserved.currency),
                pending.transfer.code,
                state,
                command.pending_id,
            ),
        ),
        created_at=now,
    )
    uow.emit(_event(result))
    return result


def post_pending(uow_factory: UowFactory, command: ResolvePending, *, clock: Clock = utcnow) -> TransactionResult:
    return _with_replay_on_conflict(
        uow_factory,
        command.idempotency_key,
        command.fingerprint("post"),
        lambda uow: record_resolution(uow, command, void=False, now=clock()),
    )


def void_pending(uow_factory: UowFactory, command: ResolvePending, *, clock: Clock = utcnow) -> TransactionResult:
    return _with_replay_on_conflict(
        uow_factory,
        command.idempotency_key,
        command.fingerprint("void"),
        lambda uow: record_resolution(uow, command, void=True, now=clock()),
    )


class ExpiryHook(Protocol):
    """Called in the expiring transaction, before the release; both commit together or not at all."""

    def __call__(self, uow: PaymentsUnitOfWork, pending_id: int, now: datetime) -> None: ...


def expire_pending(
    uow_factory: UowFactory, *, clock: Clock = utcnow, limit: int = 100, hooks: Sequence[ExpiryHook] = ()
) -> int:
    """Void every pending transfer whose timeout has passed (the relay's timer calls this); how many expired.

    Each expiry is its own transaction with the key `expire:<id>`, so two sweeps never void twice and a
    post that wins the race leaves the sweep nothing to do.
    """
    now = clock()
    with uow_factory() as uow:
        due = uow.ledger.due_pending(now, limit)
    expired = 0
    for pending_id in due:
        command = ResolvePending(f"expire:{pending_id}", pending_id)
        try:
            with uow_factory() as uow:
                # Hooks first: they lock their own rows (a payout) before the pending row, the order a
                # PostPayout takes them in, so a post racing the sweep queues instead of deadlocking.
                uow.lock_for_write()
                for hook in hooks:
                    hook(uow, pending_id, now)
                result = record_resolution(uow, command, void=True, now=now, outcome=PendingStatus.EXPIRED)
                uow.commit()
        except (PendingTransferResolved, ConflictingWrite):
            continue
        expired += 0 if result.replayed else 1
    return expired


# -- verification --------------------------------------------------------------------------------------------


def verify_ledger(uow_factory: UowFactory) -> ledger.InvariantReport:
    """Run every ledger invariant over one consistent snapshot of the whole ledger."""
    with uow_factory().ledger_snapshot() as snapshot:
        accounts = snapshot.all_accounts()
        totals = snapshot.transfer_totals()
        count = snapshot.transfer_count()
    return ledger.verify(accounts, totals, count)


__all__ = [
    "ExpiryHook",
    "OpenAccount",
    "ResolvePending",
    "WalletBalance",
    "ensure_account",
    "expire_pending",
    "get_account",
    "get_balances",
    "list_accounts",
    "open_account",
    "post_pending",
    "post_transaction",
    "record_resolution",
    "record_transaction",
    "verify_ledger",
    "void_pending",
]
