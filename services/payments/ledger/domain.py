"""The double-entry ledger's model and its pure rules (TigerBeetle semantics, docs/ledger.md).

An account belongs to one owner (a merchant code, "PLATFORM", or a payment partner), has one kind and one
currency, and keeps four running totals in minor units: debits/credits, pending/posted. A transaction is a
list of transfers that post together or not at all (TigerBeetle's linked chain). Each transfer moves one
positive amount in one currency from a debit account to a credit account of that same currency, so the
postings of every currency always sum to zero and no posting crosses currencies (FX is two transfers
through the FX-liquidity accounts).

Balance limits are account flags (TigerBeetle `debits_must_not_exceed_credits` and
`credits_must_not_exceed_debits`). They are checked on the net effect of the whole transaction on each
account: the transfers are atomic, so no intermediate state is ever visible to anyone.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.payments.ledger.errors import CurrencyMismatch
from services.shared.errors import FieldViolation, Violations
from services.shared.money import Money, minor_unit

PLATFORM = "PLATFORM"
"""Owner of the platform's own accounts (fees, FX liquidity, payouts in flight)."""

MAX_TRANSFERS = 1_000
"""Transfers in one transaction; TigerBeetle batches hold 8,189 events, one linked chain far fewer."""

MAX_PENDING_TIMEOUT = timedelta(days=30)


class AccountKind(StrEnum):
    MERCHANT_PENDING = "MERCHANT_PENDING"  # collected, not yet settled by the partner
    MERCHANT_AVAILABLE = "MERCHANT_AVAILABLE"  # settled: can be paid out or refunded
    FEES = "FEES"  # the platform's fee income
    FX_LIQUIDITY = "FX_LIQUIDITY"  # the platform's position per currency for conversions
    FX_SPREAD = "FX_SPREAD"  # the platform's conversion margin
    CLEARING = "CLEARING"  # what a payment partner owes the platform (owner: the partner)
    PAYOUTS_IN_FLIGHT = "PAYOUTS_IN_FLIGHT"  # reserved for payouts the bank has not confirmed
    SUSPENSE = "SUSPENSE"  # ops corrections awaiting investigation


class BalanceLimit(StrEnum):
    """Which side of an account may never exceed the other (TigerBeetle account flags)."""

    DEBITS_MUST_NOT_EXCEED_CREDITS = "DEBITS_MUST_NOT_EXCEED_CREDITS"  # credit-normal: wallets, income
    CREDITS_MUST_NOT_EXCEED_DEBITS = "CREDITS_MUST_NOT_EXCEED_DEBITS"  # debit-normal: assets held in full
    NONE = "NONE"  # allow_negative: the balance may go either way


MERCHANT_KINDS = frozenset({AccountKind.MERCHANT_PENDING, AccountKind.MERCHANT_AVAILABLE})

DEFAULT_LIMITS: Mapping[AccountKind, BalanceLimit] = {
    AccountKind.MERCHANT_PENDING: BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountKind.MERCHANT_AVAILABLE: BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountKind.FEES: BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountKind.PAYOUTS_IN_FLIGHT: BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountKind.FX_SPREAD: BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    # A partner's receivable nets collections against refunds and payouts, and liquidity is a position
    # that treasury tops up: both may go negative by design.
    AccountKind.CLEARING: BalanceLimit.NONE,
    AccountKind.FX_LIQUIDITY: BalanceLimit.NONE,
    AccountKind.SUSPENSE: BalanceLimit.NONE,
}


class TransferState(StrEnum):
    POSTED = "POSTED"  # a plain transfer, or the posting of a pending one
    PENDING = "PENDING"  # a reservation that waits for a post or a void
    VOIDED = "VOIDED"  # the release of a pending reservation (void or timeout)


class PendingStatus(StrEnum):
    PENDING = "PENDING"
    POSTED = "POSTED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Balances:
    """An account's running totals in minor units."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    def __add__(self, other: Balances) -> Balances:
        return Balances(
            self.debits_pending + other.debits_pending,
            self.debits_posted + other.debits_posted,
            self.credits_pending + other.credits_pending,
            self.credits_posted + other.credits_posted,
        )

    def within(self, limit: BalanceLimit) -> bool:
        """TigerBeetle's rule: pending debits count against the limit, pending credits do not."""
        if limit is BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS:
            return self.debits_pending + self.debits_posted <= self.credits_posted
        if limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS:
            return self.credits_pending + self.credits_posted <= self.debits_posted
        return True


@dataclass(frozen=True)
class Account:
    id: int
    code: str  # xborder unified code, type AC
    owner: str
    kind: AccountKind
    currency: str
    limit: BalanceLimit
    balances: Balances = field(default_factory=Balances)
    created_at: datetime | None = None

    @property
    def posted(self) -> Money:
        """Posted balance on the account's normal side (credits minus debits for credit-normal accounts)."""
        sign = -1 if self.limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS else 1
        b = self.balances
        return Money.from_minor(sign * (b.credits_posted - b.debits_posted), self.currency)

    @property
    def available(self) -> Money:
        """What may still be debited (credit-normal) or credited (debit-normal): posted minus reservations."""
        b = self.balances
        if self.limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS:
            return Money.from_minor(b.debits_posted - b.credits_posted - b.credits_pending, self.currency)
        return Money.from_minor(b.credits_posted - b.debits_posted - b.debits_pending, self.currency)

    @property
    def reserved(self) -> Money:
        b = self.balances
        side = b.credits_pending if self.limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS else b.debits_pending
        return Money.from_minor(side, self.currency)

    @property
    def incoming(self) -> Money:
        b = self.balances
        side = b.debits_pending if self.limit is BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS else b.credits_pending
        return Money.from_minor(side, self.currency)


@dataclass(frozen=True)
class Transfer:
    """One movement of `amount` from `debit_account` to `credit_account` (account codes).

    With `pending_timeout` set it is a pending (two-phase) transfer: the amount is reserved on both accounts
    until it is posted (in full or in part), voided, or the timeout passes (then it voids). `pending=True`
    without a timeout reserves until posted or voided (TigerBeetle's timeout 0), e.g. a payout on hold.
    """

    debit_account: str
    credit_account: str
    amount: Money
    code: str = ""  # what the movement is for, e.g. "collection", "fee", "fx_leg"
    pending_timeout: timedelta | None = None
    pending: bool = False

    @property
    def is_pending(self) -> bool:
        return self.pending or self.pending_timeout is not None


@dataclass(frozen=True)
class PostTransaction:
    """A transaction to post, idempotent by `idempotency_key` (a replay returns the first result)."""

    idempotency_key: str
    transfers: tuple[Transfer, ...]
    kind: str  # e.g. "collection", "settlement", "refund", "payout", "fx_conversion", "adjustment"
    external_ref: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical payload: a replay with the same key must carry the same one."""
        canonical = {
            "kind": self.kind,
            "external_ref": self.external_ref,
            "metadata": dict(sorted(self.metadata.items())),
            "transfers": [
                [
                    t.debit_account,
                    t.credit_account,
                    str(t.amount.minor),
                    t.amount.currency,
                    t.code,
                    None if t.pending_timeout is None else t.pending_timeout.total_seconds(),
                    t.is_pending,
                ]
                for t in self.transfers
            ],
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PostedTransfer:
    id: int
    debit_account: str
    credit_account: str
    amount: Money
    code: str
    state: TransferState
    pending_id: int | None = None  # the pending transfer this one posts or voids
    expires_at: datetime | None = None  # pending transfers only


@dataclass(frozen=True)
class TransactionResult:
    code: str  # xborder unified code, type PY
    idempotency_key: str
    kind: str
    external_ref: str
    metadata: Mapping[str, str]
    transfers: tuple[PostedTransfer, ...]
    created_at: datetime
    replayed: bool = False  # True when this key had already been posted: nothing new was written


def validate_amount(amount: Money, field_name: str, violations: Violations) -> None:
    """Positive, finite, within the currency's ISO 4217 minor unit (JPY 0, USD 2, KWD 3)."""
    if amount.amount <= 0:
        violations.add(field_name, f"must be positive, got {amount.amount}")
        return
    places = minor_unit(amount.currency, field=f"{field_name}.currency_code")
    if amount.amount != amount.amount.quantize(Decimal(1).scaleb(-places)):
        violations.add(field_name, f"{amount.currency} allows {places} decimal places, got {amount.amount}")


def validate_shape(command: PostTransaction) -> None:
    """Everything that can be checked without the accounts; raises one ValidationError naming every field."""
    violations = Violations()
    if not command.kind:
        violations.add("kind", "is required")
    if not command.transfers:
        violations.add("transfers", "a transaction needs at least one transfer")
    elif len(command.transfers) > MAX_TRANSFERS:
        violations.add("transfers", f"at most {MAX_TRANSFERS} transfers in one transaction")
    for i, transfer in enumerate(command.transfers[:MAX_TRANSFERS]):
        where = f"transfers[{i}]"
        if not transfer.debit_account:
            violations.add(f"{where}.debit_account", "is required")
        if not transfer.credit_account:
            violations.add(f"{where}.credit_account", "is required")
        if transfer.debit_account and transfer.debit_account == transfer.credit_account:
            violations.add(f"{where}.credit_account", "must differ from debit_account")
        validate_amount(transfer.amount, f"{where}.amount", violations)
        timeout = transfer.pending_timeout
        if timeout is not None and not timedelta(0) < timeout <= MAX_PENDING_TIMEOUT:
            violations.add(f"{where}.pending_timeout", f"must be positive and at most {MAX_PENDING_TIMEOUT.days} days")
    violations.raise_if_any()


def check_currencies(transfers: Sequence[Transfer], accounts: Mapping[str, Account]) -> None:
    """No posting crosses currencies: both accounts of a transfer hold the transfer's currency."""
    violations = []
    for i, transfer in enumerate(transfers):
        for side, code in (("debit_account", transfer.debit_account), ("credit_account", transfer.credit_account)):
            account = accounts[code]
            if account.currency != transfer.amount.currency:
                violations.append(
                    FieldViolation(
                        f"transfers[{i}].amount.currency_code",
                        f"{transfer.amount.currency} cannot be posted to {side} {code}, which holds {account.currency}",
                    )
                )
    if violations:
        raise CurrencyMismatch(violations)


def deltas(transfers: Iterable[Transfer]) -> dict[str, Balances]:
    """The change each transfer list makes to each account's totals (account code -> delta)."""
    out: dict[str, Balances] = defaultdict(Balances)
    for t in transfers:
        minor = t.amount.minor
        if not t.is_pending:
            out[t.debit_account] += Balances(debits_posted=minor)
            out[t.credit_account] += Balances(credits_posted=minor)
        else:
            out[t.debit_account] += Balances(debits_pending=minor)
            out[t.credit_account] += Balances(credits_pending=minor)
    return dict(out)


def resolution_deltas(pending: PostedTransfer, posted_minor: int) -> dict[str, Balances]:
    """Posting `posted_minor` of a pending transfer (0 voids it): the reservation goes, the posting stays."""
    amount = pending.amount.minor
    return {
        pending.debit_account: Balances(debits_pending=-amount, debits_posted=posted_minor),
        pending.credit_account: Balances(credits_pending=-amount, credits_posted=posted_minor),
    }


def currency_totals(accounts: Iterable[Account]) -> dict[str, Balances]:
    """Per currency, the sums of every account's totals: debits equal credits when the ledger balances."""
    totals: dict[str, Balances] = defaultdict(Balances)
    for account in accounts:
        totals[account.currency] += account.balances
    return dict(totals)


@dataclass(frozen=True)
class InvariantReport:
    """What `verify` found: an empty `problems` list means the ledger holds every invariant."""

    accounts: int
    transfers: int
    currencies: dict[str, Balances]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(accounts: Sequence[Account], transfer_totals: Mapping[str, Balances], transfers: int) -> InvariantReport:
    """Check the whole ledger.

    - per currency, debits equal credits, posted and pending (double entry);
    - every account's stored totals equal the sums of its transfers (`transfer_totals`, recomputed);
    - no account breaks its balance limit.
    """
    problems = []
    totals = currency_totals(accounts)
    for currency, sums in sorted(totals.items()):
        if sums.debits_posted != sums.credits_posted:
            problems.append(f"{currency}: posted debits {sums.debits_posted} != posted credits {sums.credits_posted}")
        if sums.debits_pending != sums.credits_pending:
            problems.append(
                f"{currency}: pending debits {sums.debits_pending} != pending credits {sums.credits_pending}"
            )
    for account in accounts:
        recomputed = transfer_totals.get(account.code, Balances())
        if recomputed != account.balances:
            problems.append(f"{account.code}: stored totals {account.balances} != sum of its transfers {recomputed}")
        if not account.balances.within(account.limit):
            problems.append(f"{account.code}: {account.limit.value} is broken ({account.balances})")
    return InvariantReport(len(accounts), transfers, totals, problems)
