"""Reference rates from the payments service's PaymentsService.GetReferenceRate over gRPC (its address is
read at each call, so the embedded platform and tests that bind free ports reach the port actually bound)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import grpc
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from services.logistics.service_layer.settlement import Rate, RateUnavailable
from services.shared.grpc_server import REQUEST_ID_HEADER, channel_options, remaining_timeout
from services.shared.logs import current_request_id
from services.shared.settings import Settings

TIMEOUT_S = 2.0  # a match answers without the conversion rather than wait long for it


class GrpcReferenceRates:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._address = ""
        self._channel: grpc.Channel | None = None

    def _stub(self) -> pb_grpc.PaymentsServiceStub:
        settings = self._settings()
        address = settings.service_address("payments")
        if self._channel is None or address != self._address:
            if self._channel is not None:
                self._channel.close()
            self._channel = grpc.insecure_channel(address, options=channel_options(settings))
            self._address = address
        return pb_grpc.PaymentsServiceStub(self._channel)

    def rate(self, base: str, quote: str) -> Rate:
        metadata = ((REQUEST_ID_HEADER, current_request_id() or ""),)
        try:
            answer = self._stub().GetReferenceRate(
                pb.GetReferenceRateRequest(base=base, quote=quote),
                timeout=min(TIMEOUT_S, remaining_timeout(self._settings().default_deadline_s)),
                metadata=metadata,
            )
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            if code in (
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.FAILED_PRECONDITION,
            ):
                raise RateUnavailable(f"payments has no reference rate for {base}/{quote}") from None
            raise RateUnavailable(f"the payments FX reference rate is not available right now ({code})") from None
        try:
            value = Decimal(answer.rate.rate)
        except InvalidOperation:
            raise RateUnavailable(f"payments answered an unreadable rate {answer.rate.rate!r}") from None
        if not value.is_finite() or value <= 0:
            raise RateUnavailable(f"payments answered a rate that is not positive: {answer.rate.rate}")
        return Rate(value, f"reference rate of {answer.rate.rate_date} through payments")

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
