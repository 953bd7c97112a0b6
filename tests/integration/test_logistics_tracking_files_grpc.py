"""Carrier tracking files over real gRPC, on SQLite and PostgreSQL: rows answered one by one, bad rows named,
the same file twice changes nothing, and a file and a push of the same event store it once."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import json_format
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC")


@pytest.fixture
def service(any_settings: Settings) -> Iterator[Running]:
    with running_service(any_settings, "logistics", pb_grpc.ShipmentServiceStub) as running:
        yield running


def book(service: Running, request_id: str, channel: str = "SAMPLE-POST-EMS") -> pb.Shipment:
    """A shipment on the EMS channel (its carrier: hermes), or on another channel."""
    body = {
        "requestId": request_id,
        "merchantCode": MERCHANT,
        "channelCode": channel,
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "DE", "postalCode": "10115"},
    }
    return service.stub.BookShipment(json_format.ParseDict(body, pb.BookShipmentRequest())).shipment


def outcomes(answer: pb.ImportTrackingFileResponse) -> list[tuple[int, str, str]]:
    return [
        (r.row, pb.TrackingOutcome.Name(r.outcome).removeprefix("TRACKING_OUTCOME_"), r.column) for r in answer.rows
    ]


def test_a_csv_file_is_answered_row_by_row_and_the_same_file_again_changes_nothing(service: Running) -> None:
    first, second = book(service, "file-1"), book(service, "file-2")
    content = (
        "waybill,carrier,code,time,location,description\n"
        f"{first.waybill_number},hermes,1510,2026-03-04T08:00:00Z,Hamburg,\n"
        f"{first.waybill_number},hermes,3500,2026-03-06T11:00:00+01:00,Berlin,Zugestellt\n"
        f"{second.waybill_number},hermes,1510,2026-03-04 09:00,Hamburg,\n"  # no UTC offset
        "# a comment line\n"
        f"{second.waybill_number},dhl_express,1510,2026-03-04T09:00:00Z,Hamburg,\n"  # another carrier
        f"{first.waybill_number},hermes,9324,2026-03-05T09:00:00Z,,\n"
        "EX000000000CN,hermes,3500,2026-03-06T10:00:00Z,,\n"
        f"{first.waybill_number},hermes,1510,2026-03-04T08:00:00Z,Hamburg,\n"  # the first row again
        f"{second.waybill_number},hermes,,2026-03-04T09:00:00Z,,\n"
        f"{second.waybill_number},hermes,2000\n"
    )
    request = pb.ImportTrackingFileRequest(carrier="Hermes", content=content, source="hermes-0306.csv")
    answer = service.stub.ImportTrackingFile(request)
    assert outcomes(answer) == [
        (2, "APPLIED", ""),
        (3, "APPLIED", ""),
        (4, "REJECTED", "time"),
        (6, "REJECTED", "carrier"),
        (7, "UNMAPPED", ""),
        (8, "UNKNOWN_WAYBILL", ""),
        (9, "DUPLICATE", ""),
        (10, "REJECTED", "code"),
        (11, "REJECTED", "*"),
    ]
    by_row = {r.row: r for r in answer.rows}
    assert "no UTC offset" in by_row[4].detail and by_row[4].waybill_number == second.waybill_number
    assert "imported for carrier 'hermes'" in by_row[6].detail
    assert by_row[2].status_changed and by_row[3].status_changed
    assert by_row[2].status == pb.TRACKING_STATUS_DELIVERED  # the status after the whole file
    assert (answer.applied, answer.duplicates, answer.unmapped, answer.unknown_waybills, answer.rejected) == (
        2,
        1,
        1,
        1,
        4,
    )

    again = service.stub.ImportTrackingFile(request)
    assert [o for _, o, _ in outcomes(again)] == [
        "DUPLICATE",
        "DUPLICATE",
        "REJECTED",
        "REJECTED",
        "DUPLICATE",
        "UNKNOWN_WAYBILL",
        "DUPLICATE",
        "REJECTED",
        "REJECTED",
    ]
    assert not any(r.status_changed for r in again.rows)
    tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=first.code))
    assert [e.raw_code for e in tracking.events] == ["1510", "9324", "3500"]
    assert tracking.status == pb.TRACKING_STATUS_DELIVERED
    assert not service.stub.GetTracking(pb.GetTrackingRequest(code=second.code)).events
    service.context.relay.drain()
    changes = [e.payload for e in service.bus.published if e.event_type == "shipment_status_changed"]
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        ("INFO_RECEIVED", "IN_TRANSIT"),
        ("IN_TRANSIT", "DELIVERED"),
    ]


def test_json_lines_and_a_push_of_the_same_event_store_it_once(service: Running) -> None:
    shipment = book(service, "file-json", "SAMPLE-EXP-PRIORITY")  # a FedEx channel
    pushed = pb.CarrierEvent(carrier="fedex", waybill_number=shipment.waybill_number, code="PU")
    pushed.occurred_at.FromJsonString("2026-03-02T03:00:00Z")
    service.stub.PushTrackingEvents(pb.PushTrackingEventsRequest(events=[pushed]))
    content = (
        f'{{"waybill": "{shipment.waybill_number}", "code": "PU", "time": "2026-03-02T11:00:00+08:00"}}\n'
        "\n"
        f'{{"waybill": "{shipment.waybill_number}", "code": "DL", "time": "2026-03-09T10:00:00Z", '
        '"location": "Berlin"}\n'
        '{"waybill": 12, "code": "DL"}\n'
        "[1, 2]\n"
        '{"waybill": "X", "code": "DL", "time": "2026-03-09T10:00:00Z", "colour": "red"}\n'
        "{not json\n"
    )
    answer = service.stub.ImportTrackingFile(
        pb.ImportTrackingFileRequest(carrier="fedex", content=content, format=pb.TRACKING_FILE_FORMAT_JSON_LINES)
    )
    assert outcomes(answer) == [
        (1, "DUPLICATE", ""),  # the pushed event, written in another offset
        (3, "APPLIED", ""),
        (4, "REJECTED", "waybill"),
        (5, "REJECTED", "*"),
        (6, "REJECTED", "colour"),
        (7, "REJECTED", "*"),
    ]
    tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
    assert [(e.raw_code, e.location) for e in tracking.events] == [("PU", ""), ("DL", "Berlin")]


def test_a_file_that_cannot_be_read_is_refused_naming_the_field(service: Running) -> None:
    cases = [
        (pb.ImportTrackingFileRequest(carrier="acme", content="waybill,code,time\n"), "carrier", "no code table"),
        (pb.ImportTrackingFileRequest(carrier="fedex", content="  \n"), "content", "is required"),
        (
            pb.ImportTrackingFileRequest(carrier="fedex", content="waybill,status,time\nRX1,DL,2026-03-02T03:00Z\n"),
            "content",
            "missing: code",
        ),
        (pb.ImportTrackingFileRequest(carrier="fedex", content="waybill,code,time\n"), "content", "no data rows"),
        (
            pb.ImportTrackingFileRequest(carrier="fedex", content="waybill,code,time\n" + "x" * (3 * 1024 * 1024)),
            "content",
            "at most 3 MB",
        ),
    ]
    for request, field, text in cases:
        with pytest.raises(grpc.RpcError) as refused:
            service.stub.ImportTrackingFile(request)
        status, _, fields = rejected(refused.value)
        assert status is grpc.StatusCode.INVALID_ARGUMENT
        assert text in fields[field], (field, fields)
