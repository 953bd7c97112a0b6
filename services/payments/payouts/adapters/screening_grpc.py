"""ScreeningGate over gRPC: compliance's `xborder.compliance.v1.ScreeningService/ScreenParty`, called through
the generated `ScreeningServiceStub`.

Any failure (service unreachable, deadline, an error status, an unknown decision) raises
ScreeningUnavailable, which holds the payout: an unreachable compliance service never lets one through.
"""

from __future__ import annotations

import grpc
from xborder.compliance.v1 import screening_service_pb2 as pb
from xborder.compliance.v1 import screening_service_pb2_grpc as pb_grpc

from services.payments.payouts.domain import Party, ScreeningDecision, ScreeningOutcome, ScreeningUnavailable
from services.shared.grpc_server import remaining_timeout

_PARTY_TYPES = {"PERSON": pb.PARTY_TYPE_PERSON, "COMPANY": pb.PARTY_TYPE_COMPANY}
_DECISIONS = {
    pb.SCREENING_DECISION_CLEAR: ScreeningDecision.CLEAR,
    pb.SCREENING_DECISION_REVIEW: ScreeningDecision.REVIEW,
    pb.SCREENING_DECISION_BLOCK: ScreeningDecision.BLOCK,
}


class GrpcScreeningGate:
    def __init__(self, channel: grpc.Channel, *, timeout_s: float = 3.0) -> None:
        self.stub = pb_grpc.ScreeningServiceStub(channel)
        self.timeout_s = timeout_s

    def screen(self, request_id: str, party: Party) -> ScreeningOutcome:
        request = pb.ScreenPartyRequest(
            request_id=request_id,
            merchant_code=party.merchant_code,
            name=party.name,
            party_type=_PARTY_TYPES.get(party.party_type, pb.PARTY_TYPE_UNSPECIFIED),
            country=party.country,
        )
        try:
            response = self.stub.ScreenParty(request, timeout=remaining_timeout(self.timeout_s))
        except grpc.RpcError as error:
            raise ScreeningUnavailable(f"ScreenParty failed: {error.code().name}") from None  # type: ignore[attr-defined]
        decision = _DECISIONS.get(response.screening.decision)
        if decision is None:
            raise ScreeningUnavailable(f"unrecognised screening decision {response.screening.decision}")
        return ScreeningOutcome(decision, response.screening.code)
