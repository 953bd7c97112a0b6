"""ShipmentService servicer: parse each message once (every bad field named), call the use case, answer proto."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from services.logistics.domain.channels import normalise_postal_code
from services.logistics.domain.shipments import Shipment
from services.logistics.domain.tracking import CarrierTable, MainStatus, Status
from services.logistics.domain.tracking_files import FileFormat, TrackingFileRejected
from services.logistics.entrypoints import plan_requests
from services.logistics.service_layer import shipments as handlers
from services.logistics.service_layer.tracking_files import import_tracking_file
from services.shared import request_fields
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint

MAX_EVENTS = 1000
MAX_FILE_BYTES = 3 * 1024 * 1024  # under the 4 MB gRPC message limit, with room for the rest of the request
FORMATS = {
    pb.TRACKING_FILE_FORMAT_UNSPECIFIED: None,
    pb.TRACKING_FILE_FORMAT_CSV: FileFormat.CSV,
    pb.TRACKING_FILE_FORMAT_JSON_LINES: FileFormat.JSON_LINES,
}
MAX_TEXT = 500
MAX_CODE = 40
STATUSES: dict[MainStatus, pb.TrackingStatus] = {
    MainStatus.INFO_RECEIVED: pb.TRACKING_STATUS_INFO_RECEIVED,
    MainStatus.IN_TRANSIT: pb.TRACKING_STATUS_IN_TRANSIT,
    MainStatus.CUSTOMS: pb.TRACKING_STATUS_CUSTOMS,
    MainStatus.OUT_FOR_DELIVERY: pb.TRACKING_STATUS_OUT_FOR_DELIVERY,
    MainStatus.AVAILABLE_FOR_PICKUP: pb.TRACKING_STATUS_AVAILABLE_FOR_PICKUP,
    MainStatus.EXCEPTION: pb.TRACKING_STATUS_EXCEPTION,
    MainStatus.EXPIRED: pb.TRACKING_STATUS_EXPIRED,
    MainStatus.DELIVERED: pb.TRACKING_STATUS_DELIVERED,
    MainStatus.RETURNING: pb.TRACKING_STATUS_RETURNING,
    MainStatus.RETURNED: pb.TRACKING_STATUS_RETURNED,
}
OUTCOMES = {
    handlers.Outcome.APPLIED: pb.TRACKING_OUTCOME_APPLIED,
    handlers.Outcome.DUPLICATE: pb.TRACKING_OUTCOME_DUPLICATE,
    handlers.Outcome.UNMAPPED: pb.TRACKING_OUTCOME_UNMAPPED,
    handlers.Outcome.UNKNOWN_WAYBILL: pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL,
}
SUMMARY = {
    pb.TRACKING_OUTCOME_APPLIED: "applied",
    pb.TRACKING_OUTCOME_DUPLICATE: "duplicates",
    pb.TRACKING_OUTCOME_UNMAPPED: "unmapped",
    pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL: "unknown_waybills",
    pb.TRACKING_OUTCOME_REJECTED: "rejected",
}


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def shipment_to_proto(shipment: Shipment) -> pb.Shipment:
    return pb.Shipment(
        code=shipment.code,
        merchant_code=shipment.merchant_code,
        channel_code=shipment.channel_code,
        rate_sheet_version=shipment.rate_sheet_version,
        waybill_number=shipment.waybill_number,
        label_reference=shipment.label_reference,
        destination_country=shipment.destination_country,
        booked_at=_timestamp(shipment.booked_at),
        parcel_count=len(shipment.parcels),
    )


def _status(status: Status | None) -> pb.TrackingStatus:
    return pb.TRACKING_STATUS_UNSPECIFIED if status is None else STATUSES[status.status]


def book_command(request: pb.BookShipmentRequest, postal: plan_requests.PostalRules) -> handlers.BookShipment:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    merchant = request_fields.merchant_code(request.merchant_code, violations)
    channel = request.channel_code.strip().upper()
    if not channel:
        violations.add("channel_code", "is required: the channel of the matched plan")
    if request.rate_sheet_version <= 0:
        violations.add("rate_sheet_version", "is required: the version the plan was priced with (1 or more)")
    if not request.parcels:
        violations.add("parcels", "at least one parcel is required")
    if len(request.parcels) > plan_requests.MAX_PARCELS:
        violations.add("parcels", f"at most {plan_requests.MAX_PARCELS} parcels, got {len(request.parcels)}")
    parcels = [
        plan_requests.parcel(p, f"parcels[{i}]", violations)
        for i, p in enumerate(request.parcels[: plan_requests.MAX_PARCELS])
    ]
    country = plan_requests.country(request.destination.country, "destination.country", violations, postal)
    postal_code = ""
    if country:
        problem = postal.problem(country, request.destination.postal_code)
        if problem:
            violations.add("destination.postal_code", problem)
        elif postal.uses_postal_codes(country):
            postal_code = normalise_postal_code(request.destination.postal_code.strip())
    violations.raise_if_any()
    return handlers.BookShipment(
        key,
        fingerprint(request),
        merchant,
        channel,
        request.rate_sheet_version,
        tuple(p for p in parcels if p is not None),
        country,
        postal_code,
    )


def carrier_events(
    request: pb.PushTrackingEventsRequest, tables: Mapping[str, CarrierTable]
) -> list[handlers.CarrierEvent]:
    """The batch, or INVALID_ARGUMENT naming every malformed event field (nothing is stored then)."""
    violations = Violations()
    if not request.events:
        violations.add("events", "at least one event is required")
    if len(request.events) > MAX_EVENTS:
        violations.add("events", f"at most {MAX_EVENTS} events, got {len(request.events)}")
    events = []
    for i, e in enumerate(request.events[:MAX_EVENTS]):
        where = f"events[{i}]"
        carrier = e.carrier.strip().lower()
        if carrier not in tables:
            violations.add(f"{where}.carrier", f"{e.carrier!r} has no code table; known: {', '.join(sorted(tables))}")
        waybill = e.waybill_number.strip().upper()
        if not waybill or len(waybill) > MAX_CODE:
            violations.add(f"{where}.waybill_number", f"is required, at most {MAX_CODE} characters")
        code = e.code.strip()
        if not code or len(code) > MAX_CODE:
            violations.add(f"{where}.code", f"is required: the carrier's event code, at most {MAX_CODE} characters")
        if not e.HasField("occurred_at"):
            violations.add(f"{where}.occurred_at", "is required")
        for name in ("location", "description"):
            if len(getattr(e, name)) > MAX_TEXT:
                violations.add(f"{where}.{name}", f"at most {MAX_TEXT} characters")
        events.append(
            handlers.CarrierEvent(
                carrier,
                waybill,
                code,
                e.occurred_at.ToDatetime(tzinfo=UTC),
                e.location.strip(),
                e.description.strip(),
            )
        )
    violations.raise_if_any()
    return events


class ShipmentServicer(pb_grpc.ShipmentServiceServicer):
    def __init__(
        self,
        uow_factory: handlers.UowFactory,
        postal: plan_requests.PostalRules,
        tables: Mapping[str, CarrierTable],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow_factory = uow_factory
        self.postal = postal
        self.tables = tables
        self.now = now

    def BookShipment(self, request: pb.BookShipmentRequest, context: grpc.ServicerContext) -> pb.BookShipmentResponse:
        command = book_command(request, self.postal)
        return handlers.book_shipment(
            self.uow_factory,
            command,
            pb.BookShipmentResponse,
            lambda shipment: pb.BookShipmentResponse(shipment=shipment_to_proto(shipment)),
            self.now,
        )

    def PushTrackingEvents(
        self, request: pb.PushTrackingEventsRequest, context: grpc.ServicerContext
    ) -> pb.PushTrackingEventsResponse:
        events = carrier_events(request, self.tables)
        outcomes = handlers.push_tracking_events(self.uow_factory, self.tables, events, self.now)
        return pb.PushTrackingEventsResponse(
            results=[
                pb.EventResult(
                    index=i,
                    outcome=OUTCOMES[o.outcome],
                    detail=o.detail,
                    status=_status(o.status),
                    status_changed=o.status_changed,
                )
                for i, o in enumerate(outcomes)
            ]
        )

    def ImportTrackingFile(
        self, request: pb.ImportTrackingFileRequest, context: grpc.ServicerContext
    ) -> pb.ImportTrackingFileResponse:
        violations = Violations()
        carrier = request.carrier.strip().lower()
        if carrier not in self.tables:
            known = ", ".join(sorted(self.tables))
            violations.add("carrier", f"{request.carrier!r} has no code table; known: {known}")
        if not request.content.strip():
            violations.add("content", "is required: the file's text")
        elif len(request.content.encode()) > MAX_FILE_BYTES:
            violations.add("content", f"at most {MAX_FILE_BYTES // (1024 * 1024)} MB; send a larger file in parts")
        if request.format not in FORMATS:
            violations.add("format", f"unknown format {request.format}")
        violations.raise_if_any()
        try:
            rows = import_tracking_file(
                self.uow_factory,
                self.tables,
                carrier,
                request.content,
                FORMATS[request.format],
                request.source.strip()[:200],
                self.now,
            )
        except TrackingFileRejected as error:
            violations.add("content", str(error))
            violations.raise_if_any()
            raise
        answer = pb.ImportTrackingFileResponse(
            rows=[
                pb.FileRowResult(
                    row=r.line,
                    outcome=pb.TRACKING_OUTCOME_REJECTED if r.outcome is None else OUTCOMES[r.outcome],
                    detail=r.detail,
                    column=r.column,
                    waybill_number=r.waybill,
                    status=_status(r.status),
                    status_changed=r.status_changed,
                )
                for r in rows
            ]
        )
        for row in answer.rows:
            name = SUMMARY[row.outcome]
            setattr(answer, name, getattr(answer, name) + 1)
        return answer

    def GetTracking(self, request: pb.GetTrackingRequest, context: grpc.ServicerContext) -> pb.GetTrackingResponse:
        violations = Violations()
        code = request_fields.unified_code(request.code, "code", violations, "YD")
        violations.raise_if_any()
        tracking = handlers.get_tracking(self.uow_factory, code, self.tables)
        shipment = tracking.shipment
        return pb.GetTrackingResponse(
            shipment=shipment_to_proto(shipment),
            merchant_code=shipment.merchant_code,
            status=STATUSES[shipment.status.status],
            sub_status=shipment.status.sub_status,
            rec24_code=shipment.status.rec24,
            events=[
                pb.TimelineEvent(
                    occurred_at=_timestamp(e.occurred_at),
                    raw_code=e.raw_code,
                    status=_status(None) if e.mapped is None else STATUSES[e.mapped.status],
                    sub_status=e.mapped.sub_status if e.mapped else "",
                    rec24_code=e.mapped.rec24 if e.mapped else "",
                    location=e.location,
                    description=e.description,
                    carrier=e.carrier,
                    unmapped=e.mapped is None,
                )
                for e in tracking.events
            ],
        )
