"""The LedgerService servicer: one gRPC service whose RPCs belong to the ledger, settlement and payouts.

Each capability defines its RPCs (LedgerRpcs, SettlementRpcs, PayoutRpcs); this class serves them together
under the service name clients know, and answers GetRecordOwner, which spans collections and payouts.
"""

from __future__ import annotations

import grpc
from xborder.payments.v1 import ledger_service_pb2 as pb
from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

from services.payments.ledger.entrypoints.grpc_api import LedgerRpcs
from services.payments.ledger.operations import LedgerOperations
from services.payments.payouts.entrypoints import PayoutRpcs
from services.payments.payouts.operations import PayoutOperations
from services.payments.settlement.entrypoints import SettlementRpcs
from services.payments.settlement.operations import SettlementOperations
from services.shared import request_fields as fields
from services.shared.errors import Violations


class LedgerServicer(LedgerRpcs, SettlementRpcs, PayoutRpcs, pb_grpc.LedgerServiceServicer):
    def __init__(self, ledger: LedgerOperations, settlement: SettlementOperations, payouts: PayoutOperations) -> None:
        self.ledger = ledger
        self.settlement = settlement
        self.payouts = payouts

    def GetRecordOwner(
        self, request: pb.GetRecordOwnerRequest, context: grpc.ServicerContext
    ) -> pb.GetRecordOwnerResponse:
        violations = Violations()
        owners = {
            pb.RECORD_KIND_COLLECTION: self.settlement.collection_owner,
            pb.RECORD_KIND_PAYOUT: self.payouts.payout_owner,
        }
        owner = owners.get(request.kind)
        if owner is None:
            violations.add("kind", "is required: RECORD_KIND_COLLECTION or RECORD_KIND_PAYOUT")
        code = fields.unified_code(request.code, "code", violations, "PY")
        violations.raise_if_any()
        assert owner is not None
        merchant = owner(code)
        # Not found is an answer, not an error: the caller asks whether the record exists at all.
        return pb.GetRecordOwnerResponse(found=merchant is not None, merchant_code=merchant or "")
