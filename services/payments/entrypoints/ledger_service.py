"""The LedgerService servicer: one gRPC service whose RPCs belong to the ledger, settlement and payouts.

Each capability defines its RPCs (LedgerRpcs, SettlementRpcs, PayoutRpcs); this class serves them together
under the service name clients know.
"""

from __future__ import annotations

from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

from services.payments.ledger.entrypoints.grpc_api import LedgerRpcs
from services.payments.ledger.operations import LedgerOperations
from services.payments.payouts.entrypoints import PayoutRpcs
from services.payments.payouts.operations import PayoutOperations
from services.payments.settlement.entrypoints import SettlementRpcs
from services.payments.settlement.operations import SettlementOperations


class LedgerServicer(LedgerRpcs, SettlementRpcs, PayoutRpcs, pb_grpc.LedgerServiceServicer):
    def __init__(self, ledger: LedgerOperations, settlement: SettlementOperations, payouts: PayoutOperations) -> None:
        self.ledger = ledger
        self.settlement = settlement
        self.payouts = payouts
