"""LedgerService RPCs on collections, settlement, refunds, merchant tiers and fee schedules."""

from __future__ import annotations

import grpc
from xborder.payments.v1 import ledger_service_pb2 as pb

from services.payments.ledger.entrypoints.grpc_api import (
    idempotent_request,
    present_money,
    require_positive,
    transaction_to_proto,
)
from services.payments.settlement import service_layer as sh
from services.payments.settlement.operations import SettlementOperations
from services.payments.settlement.proto import METHODS, collection_to_proto, fee_to_proto
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.money import Money, to_proto


class SettlementRpcs:
    settlement: SettlementOperations

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
        method = METHODS.get(request.method)
        if method is None:
            violations.add("method", "is required (COLLECTION_METHOD_CARD, _WALLET or _BANK)")
        gross = fields.money(present_money(request, "gross"), violations, "gross")
        require_positive(gross, "gross", violations)
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
        return self.settlement.record_collection(
            idempotent_request("ledger.record_collection", request),
            command,
            lambda c: pb.RecordCollectionResponse(collection=collection_to_proto(c)),
            pb.RecordCollectionResponse,
        )

    def GetCollection(
        self, request: pb.GetCollectionRequest, context: grpc.ServicerContext
    ) -> pb.GetCollectionResponse:
        code = fields.one_code(request.collection_code, "collection_code", "PY")
        return pb.GetCollectionResponse(collection=collection_to_proto(self.settlement.get_collection(code)))

    def ConfirmSettlement(
        self, request: pb.ConfirmSettlementRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmSettlementResponse:
        code = fields.keyed_code(request.request_id, request.collection_code, "collection_code", "PY")
        return self.settlement.confirm_settlement(
            idempotent_request("ledger.confirm_settlement", request),
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
        amount = fields.money(present_money(request, "amount"), violations, "amount")
        require_positive(amount, "amount", violations)
        violations.raise_if_any()
        assert amount is not None

        def render(r: sh.Refund) -> pb.RefundCollectionResponse:
            return pb.RefundCollectionResponse(
                collection=collection_to_proto(r.collection),
                transaction=transaction_to_proto(r.transaction),
                from_pending=to_proto(r.from_pending),
                from_available=to_proto(r.from_available),
            )

        return self.settlement.refund(
            idempotent_request("ledger.refund_collection", request), code, amount, render, pb.RefundCollectionResponse
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
        return self.settlement.set_tier(
            idempotent_request("ledger.set_merchant_tier", request),
            merchant,
            tier,
            lambda t: pb.SetMerchantTierResponse(merchant_code=merchant, tier=t),
            pb.SetMerchantTierResponse,
        )

    def ListFeeSchedules(
        self, request: pb.ListFeeSchedulesRequest, context: grpc.ServicerContext
    ) -> pb.ListFeeSchedulesResponse:
        tier = request.tier.strip().upper() or None
        return pb.ListFeeSchedulesResponse(schedules=[fee_to_proto(f) for f in self.settlement.fee_schedules(tier)])
