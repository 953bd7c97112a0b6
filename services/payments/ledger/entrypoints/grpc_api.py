"""LedgerService servicer: validate each message once (naming proto fields), call the operation, map to proto."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import money_pb2
from xborder.payments.v1 import ledger_service_pb2 as pb
from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

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
from services.payments.payouts import domain as payout_domain
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import Payout, PayoutStatus
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import Collection, CollectionMethod
from services.payments.settlement.domain.fees import FeeSchedule
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import Request, fingerprint
from services.shared.money import Money, to_proto

_KINDS = {pb.AccountKind.Value(f"ACCOUNT_KIND_{k.value}"): k for k in AccountKind}
_KIND_NUMBERS = {k: cast(pb.AccountKind, n) for n, k in _KINDS.items()}
_LIMITS = {pb.BalanceLimit.Value(f"BALANCE_LIMIT_{b.value}"): b for b in BalanceLimit}
_LIMIT_NUMBERS = {b: cast(pb.BalanceLimit, n) for n, b in _LIMITS.items()}
_METHODS = {pb.CollectionMethod.Value(f"COLLECTION_METHOD_{m.value}"): m for m in CollectionMethod}
_METHOD_NUMBERS = {m: cast(pb.CollectionMethod, n) for n, m in _METHODS.items()}
_PAYOUT_STATUS = {s: cast(pb.PayoutStatus, pb.PayoutStatus.Value(f"PAYOUT_STATUS_{s.value}")) for s in PayoutStatus}


def _ts(moment: datetime | None) -> Timestamp | None:
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
        created_at=_ts(a.created_at),
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
        expires_at=_ts(t.expires_at),
    )


def transaction_to_proto(t: TransactionResult) -> pb.Transaction:
    return pb.Transaction(
        code=t.code,
        kind=t.kind,
        external_ref=t.external_ref,
        transfers=[transfer_to_proto(x) for x in t.transfers],
        created_at=_ts(t.created_at),
    )


def collection_to_proto(c: Collection) -> pb.Collection:
    return pb.Collection(
        code=c.code,
        merchant_code=c.merchant,
        partner=c.partner,
        partner_ref=c.partner_ref,
        method=_METHOD_NUMBERS[c.method],
        gross=to_proto(c.gross),
        partner_fee=to_proto(c.partner_fee),
        platform_fee=None if c.platform_fee is None else to_proto(c.platform_fee),
        pending=to_proto(c.pending),
        refunded=to_proto(c.refunded),
        status=c.status.value,
        collected_transaction=c.collected_txn,
        settled_transaction=c.settled_txn or "",
        created_at=_ts(c.created_at),
        settled_at=_ts(c.settled_at),
    )


def payout_to_proto(p: Payout) -> pb.Payout:
    return pb.Payout(
        code=p.code,
        merchant_code=p.merchant,
        amount=to_proto(p.amount),
        bank_account_code=p.bank_account_code,
        partner=p.partner,
        payee_name=p.payee_name,
        payee_country=p.payee_country,
        status=_PAYOUT_STATUS[p.status],
        hold_reason=p.hold_reason,
        screening_decision=p.screening_decision,
        pending_transfer_id=p.pending_transfer_id or 0,
        posted=None if p.posted is None else to_proto(p.posted),
        timeout_seconds=int(p.timeout.total_seconds()),
        created_at=_ts(p.created_at),
        updated_at=_ts(p.updated_at),
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


def fee_to_proto(f: FeeSchedule) -> pb.FeeSchedule:
    return pb.FeeSchedule(tier=f.tier, currency=f.currency, percent=format(f.percent, "f"), fixed_minor=f.fixed_minor)


# -- parsing helpers ---------------------------------------------------------------------------------------


def _request(scope: str, message: Message) -> Request:
    return Request(scope, getattr(message, "request_id"), fingerprint(message))  # noqa: B009


def _present(message: Message, field: str) -> money_pb2.Money | None:
    """The wire money in `field`, None when the caller left it out."""
    return getattr(message, field) if message.HasField(field) else None


def _amount_positive(amount: Money | None, field: str, violations: Violations) -> None:
    if amount is not None and amount.amount <= 0:
        violations.add(field, f"must be positive, got {amount.amount}")


class LedgerServicer(pb_grpc.LedgerServiceServicer):
    def __init__(self, ops: LedgerOperations) -> None:
        self.ops = ops

    # -- accounts ------------------------------------------------------------------------------------------

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
        return self.ops.open_account(
            _request("ledger.open_account", request),
            lh.OpenAccount(owner, kind, currency, limit),
            lambda a: pb.OpenAccountResponse(account=account_to_proto(a)),
            pb.OpenAccountResponse,
        )

    def GetAccount(self, request: pb.GetAccountRequest, context: grpc.ServicerContext) -> pb.GetAccountResponse:
        violations = Violations()
        code = fields.unified_code(request.code, "code", violations, "AC")
        violations.raise_if_any()
        return pb.GetAccountResponse(account=account_to_proto(self.ops.get_account(code)))

    def ListAccounts(self, request: pb.ListAccountsRequest, context: grpc.ServicerContext) -> pb.ListAccountsResponse:
        violations = Violations()
        currency = fields.currency(request.currency, violations) if request.currency else None
        size, after = fields.page(request.page_size, request.page_token, violations, default=100, maximum=500)
        kind = _KINDS.get(request.kind) if request.kind else None
        violations.raise_if_any()
        accounts = self.ops.list_accounts(
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
                for w in self.ops.balances(merchant, currency)
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
        rows = self.ops.transactions(account, owner, before, size)
        token = str(rows[-1][0]) if len(rows) == size else ""
        return pb.ListTransactionsResponse(
            transactions=[transaction_to_proto(t) for _, t in rows], next_page_token=token
        )

    def VerifyLedger(self, request: pb.VerifyLedgerRequest, context: grpc.ServicerContext) -> pb.VerifyLedgerResponse:
        return report_to_proto(self.ops.verify())

    # -- collections -----------------------------------------------------------------------------------------

    def RecordCollection(
        self, request: pb.RecordCollectionRequest, context: grpc.ServicerContext
    ) -> pb.RecordCollectionResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        partner = request.partner.strip().upper()
        sh.check_partner(partner, "partner", violations)
        if not request.partner_ref.strip():
            violations.add("partner_ref", "is required")
        method = _METHODS.get(request.method)
        if method is None:
            violations.add("method", "is required (COLLECTION_METHOD_CARD, _WALLET or _BANK)")
        gross = fields.money(_present(request, "gross"), violations, "gross")
        _amount_positive(gross, "gross", violations)
        fee = fields.money(request.partner_fee, violations, "partner_fee") if request.HasField("partner_fee") else None
        violations.raise_if_any()
        assert gross is not None and method is not None
        command = sh.RecordCollection(
            merchant,
            partner,
            request.partner_ref.strip(),
            method,
            gross,
            fee if fee is not None else Money.from_minor(0, gross.currency),
        )
        return self.ops.record_collection(
            _request("ledger.record_collection", request),
            command,
            lambda c: pb.RecordCollectionResponse(collection=collection_to_proto(c)),
            pb.RecordCollectionResponse,
        )

    def GetCollection(
        self, request: pb.GetCollectionRequest, context: grpc.ServicerContext
    ) -> pb.GetCollectionResponse:
        violations = Violations()
        code = fields.unified_code(request.collection_code, "collection_code", violations, "PY")
        violations.raise_if_any()
        return pb.GetCollectionResponse(collection=collection_to_proto(self.ops.get_collection(code)))

    def ConfirmSettlement(
        self, request: pb.ConfirmSettlementRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmSettlementResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.collection_code, "collection_code", violations, "PY")
        violations.raise_if_any()
        return self.ops.confirm_settlement(
            _request("ledger.confirm_settlement", request),
            code,
            lambda c: pb.ConfirmSettlementResponse(collection=collection_to_proto(c)),
            pb.ConfirmSettlementResponse,
        )

    def RefundCollection(
        self, request: pb.RefundCollectionRequest, context: grpc.ServicerContext
    ) -> pb.RefundCollectionResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.collection_code, "collection_code", violations, "PY")
        amount = fields.money(_present(request, "amount"), violations, "amount")
        _amount_positive(amount, "amount", violations)
        violations.raise_if_any()
        assert amount is not None

        def render(r: sh.Refund) -> pb.RefundCollectionResponse:
            return pb.RefundCollectionResponse(
                collection=collection_to_proto(r.collection),
                transaction=transaction_to_proto(r.transaction),
                from_pending=to_proto(r.from_pending),
                from_available=to_proto(r.from_available),
            )

        return self.ops.refund(
            _request("ledger.refund_collection", request), code, amount, render, pb.RefundCollectionResponse
        )

    def SetMerchantTier(
        self, request: pb.SetMerchantTierRequest, context: grpc.ServicerContext
    ) -> pb.SetMerchantTierResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        tier = request.tier.strip().upper()
        if not tier:
            violations.add("tier", "is required")
        violations.raise_if_any()
        return self.ops.set_tier(
            _request("ledger.set_merchant_tier", request),
            merchant,
            tier,
            lambda t: pb.SetMerchantTierResponse(merchant_code=merchant, tier=t),
            pb.SetMerchantTierResponse,
        )

    def ListFeeSchedules(
        self, request: pb.ListFeeSchedulesRequest, context: grpc.ServicerContext
    ) -> pb.ListFeeSchedulesResponse:
        tier = request.tier.strip().upper() or None
        return pb.ListFeeSchedulesResponse(schedules=[fee_to_proto(f) for f in self.ops.fee_schedules(tier)])

    # -- payouts ---------------------------------------------------------------------------------------------

    def CreatePayout(self, request: pb.CreatePayoutRequest, context: grpc.ServicerContext) -> pb.CreatePayoutResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        partner = request.partner.strip().upper()
        sh.check_partner(partner, "partner", violations)
        if not request.bank_account_code.strip():
            violations.add("bank_account_code", "is required")
        amount = fields.money(_present(request, "amount"), violations, "amount")
        _amount_positive(amount, "amount", violations)
        seconds = request.timeout_seconds or int(payout_domain.DEFAULT_TIMEOUT.total_seconds())
        if not 60 <= seconds <= int(payout_domain.MAX_TIMEOUT.total_seconds()):
            violations.add(
                "timeout_seconds", f"must be between 60 and {int(payout_domain.MAX_TIMEOUT.total_seconds())}"
            )
        violations.raise_if_any()
        assert amount is not None
        command = ph.CreatePayout(
            request.request_id, merchant, request.bank_account_code.strip(), amount, partner, timedelta(seconds=seconds)
        )
        return self.ops.create_payout(
            _request("ledger.create_payout", request),
            command,
            lambda p: pb.CreatePayoutResponse(payout=payout_to_proto(p)),
            pb.CreatePayoutResponse,
        )

    def GetPayout(self, request: pb.GetPayoutRequest, context: grpc.ServicerContext) -> pb.GetPayoutResponse:
        violations = Violations()
        code = fields.unified_code(request.payout_code, "payout_code", violations, "PY")
        violations.raise_if_any()
        return pb.GetPayoutResponse(payout=payout_to_proto(self.ops.get_payout(code)))

    def PostPayout(self, request: pb.PostPayoutRequest, context: grpc.ServicerContext) -> pb.PostPayoutResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.payout_code, "payout_code", violations, "PY")
        violations.raise_if_any()
        return self.ops.post_payout(
            _request("ledger.post_payout", request),
            code,
            lambda p: pb.PostPayoutResponse(payout=payout_to_proto(p)),
            pb.PostPayoutResponse,
        )

    def VoidPayout(self, request: pb.VoidPayoutRequest, context: grpc.ServicerContext) -> pb.VoidPayoutResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.payout_code, "payout_code", violations, "PY")
        if len(request.reason) > 500:
            violations.add("reason", "at most 500 characters")
        violations.raise_if_any()
        return self.ops.void_payout(
            _request("ledger.void_payout", request),
            code,
            request.reason.strip() or "voided on request",
            lambda p: pb.VoidPayoutResponse(payout=payout_to_proto(p)),
            pb.VoidPayoutResponse,
        )

    def ReleasePayout(
        self, request: pb.ReleasePayoutRequest, context: grpc.ServicerContext
    ) -> pb.ReleasePayoutResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.payout_code, "payout_code", violations, "PY")
        violations.raise_if_any()
        return self.ops.release_payout(
            _request("ledger.release_payout", request),
            code,
            lambda p: pb.ReleasePayoutResponse(payout=payout_to_proto(p)),
            pb.ReleasePayoutResponse,
        )
