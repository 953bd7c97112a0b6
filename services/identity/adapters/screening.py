"""Onboarding's screening: compliance's ScreeningService over gRPC (its address is read at each call,
so the embedded platform and tests that bind free ports reach the port actually bound)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from xborder.compliance.v1 import screening_service_pb2 as pb
from xborder.compliance.v1 import screening_service_pb2_grpc as pb_grpc

from services.identity.domain.merchants import Screening, ScreeningOutcome
from services.shared.errors import Unavailable
from services.shared.grpc_server import REQUEST_ID_HEADER, channel_options, remaining_timeout
from services.shared.logs import current_request_id
from services.shared.settings import Settings

_DECISIONS = {
    pb.SCREENING_DECISION_CLEAR: Screening.CLEAR,
    pb.SCREENING_DECISION_REVIEW: Screening.REVIEW,
    pb.SCREENING_DECISION_BLOCK: Screening.BLOCK,
}


class GrpcScreener:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._address = ""
        self._channel: grpc.Channel | None = None

    def _stub(self) -> pb_grpc.ScreeningServiceStub:
        settings = self._settings()
        address = settings.service_address("compliance")
        if self._channel is None or address != self._address:
            if self._channel is not None:
                self._channel.close()
            self._channel = grpc.insecure_channel(address, options=channel_options(settings))
            self._address = address
        return pb_grpc.ScreeningServiceStub(self._channel)

    def screen(self, request_id: str, merchant_code: str, legal_name: str, country: str, uscc: str) -> ScreeningOutcome:
        return self._screen(request_id, legal_name, country, uscc, merchant_code=merchant_code)

    def screen_partner(
        self, request_id: str, partner_code: str, legal_name: str, country: str, uscc: str
    ) -> ScreeningOutcome:
        return self._screen(request_id, legal_name, country, uscc, partner_code=partner_code)

    def _screen(self, request_id: str, legal_name: str, country: str, uscc: str, **owner: str) -> ScreeningOutcome:
        identifiers = [pb.PartyIdentifier(type="registration", value=uscc)] if uscc else []
        request = pb.ScreenPartyRequest(
            request_id=request_id,
            name=legal_name,
            party_type=pb.PARTY_TYPE_COMPANY,
            country=country,
            identifiers=identifiers,
            **owner,
        )
        metadata = ((REQUEST_ID_HEADER, current_request_id() or request_id),)
        try:
            answer = self._stub().ScreenParty(
                request, timeout=remaining_timeout(self._settings().default_deadline_s), metadata=metadata
            )
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            raise Unavailable(f"compliance screening is not available right now ({code}); retry later") from None
        return ScreeningOutcome(answer.screening.code, _DECISIONS[answer.screening.decision])

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
