"""LedgerService RPCs on the ledger itself: validate each message once (naming proto fields), call the operation,
map to proto; the parsing helpers the settlement and payout RPCs of the same service share."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import money_pb2
from xborder.payments.v1 import ledger_service_pb2 as pb

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import (
    Account,
    AccountKind,
    BalanceLimit,
    Balances,
    InvariantReport,
    PostedTransfer,
    TransactionResult,
)
from services.payments.ledger.operations import LedgerOperations
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import Request, fingerprint
from services.shared.money import Money, to_proto

_KINDS = {pb.AccountKind.Value(f"ACCOUNT_KIND_{k.value}"): k for k in AccountKind}
_KIND_NUMBERS = {k: cast(pb.AccountKind, n) for n, k in _KINDS.items()}
_LIMITS = {pb.BalanceLimit.Value(f"BALANCE_LIMIT_{b.value}"): b for b in BalanceLimit}
_LIMIT_NUMBERS = {b: cast(pb.BalanceLimit, n) for n, b in _LIMITS.items()}


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def account_to_proto(a: Account) -> pb.Account:
    def m(minor: int) -> money_pb2.Money:
        return to_proto(Money.from_minor(minor, a.currency))

    b: Balances = a.balances
    return pb.Account(
        code=a.code,
        owner=a.owner,
        kind=_KIND_NUMBERS[a.kind],
        currency=a.currency,
        limit=_LIMIT_NUMBERS[a.limit],
        debits_pending=m(b.debits_pending),
        debits_posted=m(b.debits_posted),
        credits_pending=m(b.credits_pending),
        credits_posted=m(b.credits_posted),
        posted=to_proto(a.posted),
        available=to_proto(a.available),
        created_at=timestamp(a.created_at),
    )


def transfer_to_proto(t: PostedTransfer) -> pb.Transfer:
    return pb.Transfer(
        id=t.id,
        debit_account=t.debit_account,
        credit_account=t.credit_account,
        amount=to_proto(t.amount),
        code=t.code,
        state=t.state.value,
        pending_id=t.pending_id or 0,
        expires_at=timestamp(t.expires_at),
    )


def transaction_to_proto(t: TransactionResult) -> pb.Transaction:
    return pb.Transaction(
        code=t.code,
        kind=t.kind,
        external_ref=t.external_ref,
        transfers=[transfer_to_proto(x) for x in t.transfers],
        created_at=timestamp(t.created_at),
    )


def report_to_proto(r: InvariantReport) -> pb.VerifyLedgerResponse:
    def m(minor: int, currency: str) -> money_pb2.Money:
        return to_proto(Money.from_minor(minor, currency))

    return pb.VerifyLedgerResponse(
        ok=r.ok,
        accounts=r.accounts,
        transfers=r.transfers,
        currencies=[
            pb.CurrencyTotals(
                currency=c,
                debits_posted=m(s.debits_posted, c),
                credits_posted=m(s.credits_posted, c),
                debits_pending=m(s.debits_pending, c),
                credits_pending=m(s.credits_pending, c),
            )
            for c, s in sorted(r.currencies.items())
        ],
        problems=r.problems,
    )


# -- parsing helpers ---------------------------------------------------------------------------------------


def idempotent_request(scope: str, message: Message) -> Request:
    return Request(scope, getattr(message, "request_id"), fingerprint(message))  # noqa: B009


def present_money(message: Message, field: str) -> money_pb2.Money | None:
    """The wire money in `field`, None when the caller left it out."""
    return getattr(message, field) if message.HasField(field) else None


def require_positive(amount: Money | None, field: str, violations: Violations) -> None:
    if amount is not None and amount.amount <= 0:
        violations.add(field, f"must be positive, got {amount.amount}")


class LedgerRpcs:
    """The LedgerService RPCs on accounts, balances, transactions and the invariants."""

    ledger: LedgerOperations

    def OpenAccount(self, request: pb.OpenAccountRequest, context: grpc.ServicerContext) -> pb.OpenAccountResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        kind = _KINDS.get(request.kind)
        if kind is None:
            violations.add("kind", "is required (ACCOUNT_KIND_...)")
        owner = request.owner.strip()
        if kind in (AccountKind.MERCHANT_PENDING, AccountKind.MERCHANT_AVAILABLE):
            owner = owner.upper()
        currency = fields.currency(request.currency, violations)
        limit = _LIMITS.get(request.limit) if request.limit else None
        violations.raise_if_any()
        assert kind is not None
        return self.ledger.open_account(
            idempotent_request("ledger.open_account", request),
            lh.OpenAccount(owner, kind, currency, limit),
            lambda a: pb.OpenAccountResponse(account=account_to_proto(a)),
            pb.OpenAccountResponse,
        )

    def GetAccount(self, request: pb.GetAccountRequest, context: grpc.ServicerContext) -> pb.GetAccountResponse:
        code = fields.one_code(request.code, "code", "AC")
        return pb.GetAccountResponse(account=account_to_proto(self.ledger.get_account(code)))

    def ListAccounts(self, request: pb.ListAccountsRequest, context: grpc.ServicerContext) -> pb.ListAccountsResponse:
        violations = Violations()
        currency = fields.currency(request.currency, violations) if request.currency else None
        size, after = fields.page(request.page_size, request.page_token, violations, default=100, maximum=500)
        kind = _KINDS.get(request.kind) if request.kind else None
        violations.raise_if_any()
        accounts = self.ledger.list_accounts(
            owner=request.owner.strip() or None, kind=kind, currency=currency, after_id=after or 0, limit=size
        )
        token = str(accounts[-1].id) if len(accounts) == size else ""
        return pb.ListAccountsResponse(accounts=[account_to_proto(a) for a in accounts], next_page_token=token)

    def GetBalances(self, request: pb.GetBalancesRequest, context: grpc.ServicerContext) -> pb.GetBalancesResponse:
        violations = Violations()
        merchant = fields.merchant_code(request.merchant_code, violations)
        currency = fields.currency(request.currency, violations) if request.currency else None
        violations.raise_if_any()
        return pb.GetBalancesResponse(
            merchant_code=merchant,
            balances=[
                pb.WalletBalance(
                    currency=w.currency,
                    pending=to_proto(w.pending),
                    available=to_proto(w.available),
                    reserved=to_proto(w.reserved),
                )
                for w in self.ledger.balances(merchant, currency)
            ],
        )

    def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: grpc.ServicerContext
    ) -> pb.ListTransactionsResponse:
        violations = Violations()
        account = (
            fields.unified_code(request.account_code, "account_code", violations, "AC") if request.account_code else ""
        )
        owner = request.owner.strip()
        if not account and not owner:
            violations.add("account_code", "give an account_code or an owner")
        size, before = fields.page(request.page_size, request.page_token, violations, default=50, maximum=200)
        violations.raise_if_any()
        rows = self.ledger.transactions(account, owner, before, size)
        token = str(rows[-1][0]) if len(rows) == size else ""
        return pb.ListTransactionsResponse(
            transactions=[transaction_to_proto(t) for _, t in rows], next_page_token=token
        )

    def VerifyLedger(self, request: pb.VerifyLedgerRequest, context: grpc.ServicerContext) -> pb.VerifyLedgerResponse:
        return report_to_proto(self.ledger.verify())
