"""Linked records over gRPC: shipments from logistics (ShipmentService.GetTracking), the owners of collections
and payouts from payments (LedgerService.GetRecordOwner, which answers the merchant alone: no payout with its
payee name crosses over). Addresses are read at each call, so the embedded platform and tests that bind free
ports reach the port actually bound (as the identity screening adapter).

The ODR escalation sweep asks for tracking from the nameko worker's @timer too, in an eventlet-patched
process where grpcio must not run on the hub: there every call goes to a real thread (eventlet.tpool)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC
from typing import Any, TypeVar

import grpc
from xborder.logistics.v1 import shipments_service_pb2 as logistics_pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as logistics_grpc
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

from services.customer_service.domain.linked_records import Tracking, TrackingEvent
from services.customer_service.domain.tickets import LinkKind
from services.shared.errors import Unavailable
from services.shared.grpc_server import REQUEST_ID_HEADER, channel_options, remaining_timeout
from services.shared.logs import current_request_id
from services.shared.settings import Settings

_TRACKING_PREFIX = "TRACKING_STATUS_"
_RECORD_KINDS = {LinkKind.COLLECTION: ledger_pb.RECORD_KIND_COLLECTION, LinkKind.PAYOUT: ledger_pb.RECORD_KIND_PAYOUT}
T = TypeVar("T")


def _off_the_hub(call: Callable[..., T], *args: Any) -> T:
    """Run a gRPC call on a real thread when eventlet has patched this process, directly otherwise."""
    if "eventlet" in sys.modules:
        import eventlet.patcher
        from eventlet import tpool

        if eventlet.patcher.is_monkey_patched("thread"):
            return tpool.execute(call, *args)  # type: ignore[no-any-return]
    return call(*args)


def _status_name(value: int) -> str:
    name = logistics_pb.TrackingStatus.Name(value) if value in logistics_pb.TrackingStatus.values() else ""
    return "" if name.endswith("UNSPECIFIED") else name.removeprefix(_TRACKING_PREFIX)


class GrpcLinkedRecords:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._channels: dict[str, tuple[str, grpc.Channel]] = {}

    def _channel(self, service: str) -> grpc.Channel:
        settings = self._settings()
        address = settings.service_address(service)
        known = self._channels.get(service)
        if known is None or known[0] != address:
            if known is not None:
                known[1].close()
            known = (address, grpc.insecure_channel(address, options=channel_options(settings)))
            self._channels[service] = known
        return known[1]

    def _call(self, service: str, method: Callable[..., Any], request: Any) -> Any | None:
        """The answer; None for NOT_FOUND (or a code of another kind, INVALID_ARGUMENT); Unavailable otherwise."""
        metadata = ((REQUEST_ID_HEADER, current_request_id() or ""),)
        try:
            return method(request, timeout=remaining_timeout(self._settings().default_deadline_s), metadata=metadata)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise Unavailable(f"{service} is not available right now ({code}); retry later") from None

    def _get_tracking(self, code: str) -> logistics_pb.GetTrackingResponse | None:
        stub = logistics_grpc.ShipmentServiceStub(self._channel("logistics"))
        return self._call("logistics", stub.GetTracking, logistics_pb.GetTrackingRequest(code=code))

    def owner(self, kind: LinkKind, code: str) -> str | None:
        return _off_the_hub(self._owner, kind, code)

    def tracking(self, shipment_code: str) -> Tracking | None:
        return _off_the_hub(self._tracking, shipment_code)

    def _owner(self, kind: LinkKind, code: str) -> str | None:
        if kind is LinkKind.SHIPMENT:
            tracking = self._get_tracking(code)
            return None if tracking is None else tracking.merchant_code
        record_kind = _RECORD_KINDS.get(kind)
        if record_kind is None:
            raise ValueError(f"{kind} records are not looked up")
        ledger = ledger_grpc.LedgerServiceStub(self._channel("payments"))
        owner = self._call(
            "payments", ledger.GetRecordOwner, ledger_pb.GetRecordOwnerRequest(kind=record_kind, code=code)
        )
        return owner.merchant_code if owner is not None and owner.found else None

    def _tracking(self, shipment_code: str) -> Tracking | None:
        answer = self._get_tracking(shipment_code)
        if answer is None:
            return None
        return Tracking(
            shipment_code=answer.shipment.code or shipment_code,
            merchant_code=answer.merchant_code,
            waybill_number=answer.shipment.waybill_number,
            status=_status_name(answer.status),
            sub_status=answer.sub_status,
            events=tuple(
                TrackingEvent(
                    occurred_at=e.occurred_at.ToDatetime(tzinfo=UTC),
                    status=_status_name(e.status),
                    sub_status=e.sub_status,
                    rec24_code=e.rec24_code,
                    location=e.location,
                    description=e.description,
                    carrier=e.carrier,
                    raw_code=e.raw_code,
                )
                for e in answer.events
            ),
        )

    def close(self) -> None:
        for _, channel in self._channels.values():
            channel.close()
