"""The bot's live context from other services over gRPC: a shipment's tracking from logistics
(ShipmentService.GetTracking), a collection's state from payments (LedgerService.GetCollection).

Addresses are read at each call, as identity's screening adapter does, so the embedded platform and tests
that bind free ports reach the port actually bound. A lookup never fails the bot's answer: a code the
service does not know (or that belongs to another merchant) is UNKNOWN, a service that does not answer
in time is UNAVAILABLE, and the answer says which.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import grpc
import structlog
from xborder.logistics.v1 import shipments_service_pb2 as logistics_pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as logistics_grpc
from xborder.payments.v1 import ledger_service_pb2 as payments_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as payments_grpc

from services.customer_service.domain.bot import LiveContext
from services.customer_service.domain.knowledge_base import ContextKind, ContextState
from services.shared import money
from services.shared.grpc_server import REQUEST_ID_HEADER, channel_options
from services.shared.logs import current_request_id
from services.shared.settings import Settings

log = structlog.get_logger(__name__)

_NOT_KNOWN = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


class _Channel:
    def __init__(self, settings: Callable[[], Settings], service: str) -> None:
        self._settings = settings
        self._service = service
        self._address = ""
        self._channel: grpc.Channel | None = None

    def get(self) -> grpc.Channel:
        settings = self._settings()
        address = settings.service_address(self._service)
        if self._channel is None or address != self._address:
            if self._channel is not None:
                self._channel.close()
            self._channel = grpc.insecure_channel(address, options=channel_options(settings))
            self._address = address
        return self._channel

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


def _failed(kind: ContextKind, code: str, error: grpc.RpcError) -> LiveContext:
    status = error.code() if hasattr(error, "code") else None
    if status in _NOT_KNOWN:
        return LiveContext(kind, code, ContextState.UNKNOWN)
    log.warning("bot_context_unavailable", kind=kind.value, code=code, status=str(status))
    return LiveContext(kind, code, ContextState.UNAVAILABLE)


def _metadata() -> tuple[tuple[str, str], ...]:
    request_id = current_request_id()
    return ((REQUEST_ID_HEADER, request_id),) if request_id else ()


class GrpcTrackingLookup:
    def __init__(self, settings: Callable[[], Settings], timeout_s: float) -> None:
        self._channel = _Channel(settings, "logistics")
        self._timeout_s = timeout_s

    def tracking(self, shipment_code: str, merchant_code: str) -> LiveContext:
        kind = ContextKind.SHIPMENT
        try:
            answer = logistics_grpc.ShipmentServiceStub(self._channel.get()).GetTracking(
                logistics_pb.GetTrackingRequest(code=shipment_code), timeout=self._timeout_s, metadata=_metadata()
            )
        except grpc.RpcError as error:
            return _failed(kind, shipment_code, error)
        if answer.merchant_code and answer.merchant_code != merchant_code:
            return LiveContext(kind, shipment_code, ContextState.UNKNOWN)  # another merchant's: never shown
        status = logistics_pb.TrackingStatus.Name(answer.status).removeprefix("TRACKING_STATUS_")
        last = answer.events[-1] if answer.events else None
        detail = ", ".join(part for part in (answer.sub_status, last.location if last else "") if part)
        updated = last.occurred_at.ToDatetime(tzinfo=UTC) if last is not None else None
        return LiveContext(kind, shipment_code, ContextState.LIVE, status, detail, updated)

    def close(self) -> None:
        self._channel.close()


class GrpcCollectionLookup:
    def __init__(self, settings: Callable[[], Settings], timeout_s: float) -> None:
        self._channel = _Channel(settings, "payments")
        self._timeout_s = timeout_s

    def collection(self, collection_code: str, merchant_code: str) -> LiveContext:
        kind = ContextKind.COLLECTION
        try:
            answer = payments_grpc.LedgerServiceStub(self._channel.get()).GetCollection(
                payments_pb.GetCollectionRequest(collection_code=collection_code),
                timeout=self._timeout_s,
                metadata=_metadata(),
            )
        except grpc.RpcError as error:
            return _failed(kind, collection_code, error)
        found = answer.collection
        if found.merchant_code != merchant_code:
            return LiveContext(kind, collection_code, ContextState.UNKNOWN)
        parts = [f"{money.from_proto(found.gross)} collected"]
        if found.HasField("refunded") and (found.refunded.units or found.refunded.nanos):
            parts.append(f"{money.from_proto(found.refunded)} refunded")
        at = found.settled_at if found.HasField("settled_at") else found.created_at
        return LiveContext(
            kind, collection_code, ContextState.LIVE, found.status, ", ".join(parts), at.ToDatetime(tzinfo=UTC)
        )

    def close(self) -> None:
        self._channel.close()
