"""LedgerService RPCs on payouts: create (screened), read, post, void, release a held one."""

from __future__ import annotations

from datetime import timedelta

import grpc
from xborder.payments.v1 import ledger_service_pb2 as pb

from services.payments.ledger.entrypoints.grpc_api import (
    idempotent_request,
    present_money,
    require_positive,
)
from services.payments.payouts import domain as payout_domain
from services.payments.payouts import service_layer as ph
from services.payments.payouts.operations import PayoutOperations
from services.payments.payouts.proto import payout_to_proto
from services.payments.settlement import service_layer as sh
from services.shared import request_fields as fields
from services.shared.errors import Violations


class PayoutRpcs:
    payouts: PayoutOperations

    def CreatePayout(self, request: pb.CreatePayoutRequest, context: grpc.ServicerContext) -> pb.CreatePayoutResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        partner = request.partner.strip().upper()
        sh.check_partner(partner, "partner", violations)
        if not request.bank_account_code.strip():
            violations.add("bank_account_code", "is required")
        amount = fields.money(present_money(request, "amount"), violations, "amount")
        require_positive(amount, "amount", violations)
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
        return self.payouts.create_payout(
            idempotent_request("ledger.create_payout", request),
            command,
            lambda p: pb.CreatePayoutResponse(payout=payout_to_proto(p)),
            pb.CreatePayoutResponse,
        )

    def GetPayout(self, request: pb.GetPayoutRequest, context: grpc.ServicerContext) -> pb.GetPayoutResponse:
        code = fields.one_code(request.payout_code, "payout_code", "PY")
        return pb.GetPayoutResponse(payout=payout_to_proto(self.payouts.get_payout(code)))

    def PostPayout(self, request: pb.PostPayoutRequest, context: grpc.ServicerContext) -> pb.PostPayoutResponse:
        code = fields.keyed_code(request.request_id, request.payout_code, "payout_code", "PY")
        return self.payouts.post_payout(
            idempotent_request("ledger.post_payout", request),
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
        return self.payouts.void_payout(
            idempotent_request("ledger.void_payout", request),
            code,
            request.reason.strip() or "voided on request",
            lambda p: pb.VoidPayoutResponse(payout=payout_to_proto(p)),
            pb.VoidPayoutResponse,
        )

    def ReleasePayout(
        self, request: pb.ReleasePayoutRequest, context: grpc.ServicerContext
    ) -> pb.ReleasePayoutResponse:
        code = fields.keyed_code(request.request_id, request.payout_code, "payout_code", "PY")
        return self.payouts.release_payout(
            idempotent_request("ledger.release_payout", request),
            code,
            lambda p: pb.ReleasePayoutResponse(payout=payout_to_proto(p)),
            pb.ReleasePayoutResponse,
        )
