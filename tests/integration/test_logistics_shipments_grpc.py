"""ShipmentService over real gRPC (port 0), on SQLite and on PostgreSQL: booking, carrier events, timeline."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from services.logistics.adapters.shipment_repository import ShipmentRepository
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC")
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def booking(request_id: str = "book-1", **changes: object) -> pb.BookShipmentRequest:
    body = {
        "requestId": request_id,
        "merchantCode": MERCHANT,
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "US", "postalCode": "10001"},
        **changes,
    }
    return json_format.ParseDict(body, pb.BookShipmentRequest())


def stamp(minutes: int) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(T0 + timedelta(minutes=minutes))
    return value


def carrier_event(waybill: str, code: str, minutes: int, carrier: str = "fedex") -> pb.CarrierEvent:
    return pb.CarrierEvent(
        carrier=carrier, waybill_number=waybill, code=code, occurred_at=stamp(minutes), location="Memphis, TN US"
    )


@pytest.fixture
def service(any_settings: Settings) -> Iterator[Running]:
    with running_service(any_settings, "logistics", pb_grpc.ShipmentServiceStub) as running:
        yield running


def test_a_booking_answers_codes_and_a_retry_replays_it(service: Running) -> None:
    first = service.stub.BookShipment(booking())
    shipment = first.shipment
    assert codes.parse(shipment.code).entity_type == "YD"
    assert shipment.waybill_number.startswith("EX") and shipment.waybill_number.endswith("CN")
    assert len(shipment.waybill_number) == 13
    assert shipment.label_reference == f"labels/{shipment.code}.pdf"
    assert (shipment.merchant_code, shipment.rate_sheet_version, shipment.parcel_count) == (MERCHANT, 1, 1)
    assert service.stub.BookShipment(booking()) == first
    other = service.stub.BookShipment(booking("book-2"))
    assert other.shipment.code != shipment.code and other.shipment.waybill_number != shipment.waybill_number


def test_bad_bookings_name_their_fields(service: Running) -> None:
    with pytest.raises(grpc.RpcError) as malformed:
        service.stub.BookShipment(
            booking(
                merchantCode="MC123",
                rateSheetVersion=0,
                parcels=[{"weightKg": "-1", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
                destination={"country": "US", "postalCode": "ABC"},
            )
        )
    status, _, fields = rejected(malformed.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert {"merchant_code", "rate_sheet_version", "parcels[0].weight_kg", "destination.postal_code"} <= set(fields)
    with pytest.raises(grpc.RpcError) as unknown:
        service.stub.BookShipment(booking(channelCode="SAMPLE-LINE-JP", rateSheetVersion=9))
    status, _, fields = rejected(unknown.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert "no rate-sheet version 9" in fields["rate_sheet_version"]
    assert "does not deliver to US 10001" in fields["destination"]


def test_events_move_the_status_forward_once_and_the_timeline_keeps_raw_codes(service: Running) -> None:
    shipment = service.stub.BookShipment(booking()).shipment
    waybill = shipment.waybill_number
    answer = service.stub.PushTrackingEvents(
        pb.PushTrackingEventsRequest(
            events=[
                carrier_event(waybill, "PU", 0),
                carrier_event(waybill, "DL", 120),
                carrier_event(waybill, "IT", 60),  # late: stored, the status stays DELIVERED
                carrier_event(waybill, "PU", 0),  # the same event again
                carrier_event(waybill, "SP", 30),  # published by FedEx, not mapped
                carrier_event("RX000000000CN", "DL", 10),
                carrier_event(waybill, "3500", 150, "hermes"),  # a carrier the shipment was not booked with
            ]
        )
    )
    outcomes = [(r.outcome, r.status_changed) for r in answer.results]
    assert outcomes == [
        (pb.TRACKING_OUTCOME_APPLIED, True),
        (pb.TRACKING_OUTCOME_APPLIED, True),
        (pb.TRACKING_OUTCOME_APPLIED, False),
        (pb.TRACKING_OUTCOME_DUPLICATE, False),
        (pb.TRACKING_OUTCOME_UNMAPPED, False),
        (pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL, False),
        (pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL, False),
    ]
    assert answer.results[5].detail == "no shipment booked with fedex has waybill RX000000000CN"
    # Another carrier's event on this waybill is answered as for a waybill nobody booked, and not stored.
    assert answer.results[6].detail == f"no shipment booked with hermes has waybill {waybill}"
    assert answer.results[6].status == pb.TRACKING_STATUS_UNSPECIFIED
    assert answer.results[0].status == pb.TRACKING_STATUS_DELIVERED

    again = service.stub.PushTrackingEvents(pb.PushTrackingEventsRequest(events=[carrier_event(waybill, "DL", 120)]))
    assert again.results[0].outcome == pb.TRACKING_OUTCOME_DUPLICATE

    service.context.relay.drain()
    changes = [e.payload for e in service.bus.published if e.event_type == "shipment_status_changed"]
    assert [(c["previous_status"], c["status"], c["raw_code"]) for c in changes] == [
        ("INFO_RECEIVED", "IN_TRANSIT", "PU"),
        ("IN_TRANSIT", "DELIVERED", "DL"),
    ]
    assert changes[1]["shipment_code"] == shipment.code and changes[1]["rec24_code"] == "21"

    tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
    assert (tracking.status, tracking.sub_status, tracking.rec24_code) == (
        pb.TRACKING_STATUS_DELIVERED,
        "delivered",
        "21",
    )
    assert tracking.merchant_code == MERCHANT
    assert [(e.raw_code, e.unmapped) for e in tracking.events] == [
        ("PU", False),
        ("SP", True),
        ("IT", False),
        ("DL", False),
    ]
    assert tracking.events[1].description == "Split Status"  # the published text when the carrier sent none
    assert tracking.events[1].status == pb.TRACKING_STATUS_UNSPECIFIED


def test_a_malformed_batch_is_refused_whole_naming_each_event(service: Running) -> None:
    shipment = service.stub.BookShipment(booking()).shipment
    bad = pb.CarrierEvent(carrier="acme", waybill_number=shipment.waybill_number, code="")
    with pytest.raises(grpc.RpcError) as refused:
        service.stub.PushTrackingEvents(
            pb.PushTrackingEventsRequest(events=[carrier_event(shipment.waybill_number, "DL", 0), bad])
        )
    status, _, fields = rejected(refused.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert {"events[1].carrier", "events[1].code", "events[1].occurred_at"} <= set(fields)
    tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
    assert tracking.status == pb.TRACKING_STATUS_INFO_RECEIVED and not tracking.events


def test_an_unknown_shipment_is_not_found(service: Running) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.GetTracking(pb.GetTrackingRequest(code=codes.generate("YD")))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


def test_the_same_batch_pushed_concurrently_is_stored_once(service: Running) -> None:
    shipment = service.stub.BookShipment(booking()).shipment
    batch = pb.PushTrackingEventsRequest(
        events=[carrier_event(shipment.waybill_number, code, i) for i, code in enumerate(["PU", "IT", "DL"])]
    )
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: service.stub.PushTrackingEvents(batch), range(4)))
    applied = sum(r.outcome == pb.TRACKING_OUTCOME_APPLIED for a in answers for r in a.results)
    assert applied == 3
    tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
    assert len(tracking.events) == 3 and tracking.status == pb.TRACKING_STATUS_DELIVERED
    service.context.relay.drain()
    changes = [e for e in service.bus.published if e.event_type == "shipment_status_changed"]
    assert len(changes) == 2  # IN_TRANSIT, then DELIVERED: INFO_RECEIVED is where a booking starts


def test_a_crash_mid_batch_stores_nothing_and_the_retry_applies_every_event_once(
    service: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.stub.BookShipment(booking("crash-1")).shipment
    second = service.stub.BookShipment(booking("crash-2")).shipment
    batch = pb.PushTrackingEventsRequest(
        events=[
            carrier_event(first.waybill_number, "PU", 0),
            carrier_event(second.waybill_number, "PU", 5),
            carrier_event(first.waybill_number, "DL", 90),
        ]
    )

    def crash(*_: object) -> None:
        raise RuntimeError("the process died after the events and the outbox rows were written")

    with monkeypatch.context() as patch:
        patch.setattr(ShipmentRepository, "set_statuses", crash)
        with pytest.raises(grpc.RpcError) as failed:
            service.stub.PushTrackingEvents(batch)
    assert failed.value.code() is grpc.StatusCode.INTERNAL
    service.context.relay.drain()
    assert not [e for e in service.bus.published if e.event_type == "shipment_status_changed"]
    assert not service.stub.GetTracking(pb.GetTrackingRequest(code=first.code)).events

    answer = service.stub.PushTrackingEvents(batch)
    assert [r.outcome for r in answer.results] == [pb.TRACKING_OUTCOME_APPLIED] * 3
    assert service.stub.PushTrackingEvents(batch).results[0].outcome == pb.TRACKING_OUTCOME_DUPLICATE
    service.context.relay.drain()
    changes = [e.payload for e in service.bus.published if e.event_type == "shipment_status_changed"]
    assert [(c["waybill_number"], c["status"]) for c in changes] == [
        (first.waybill_number, "IN_TRANSIT"),
        (second.waybill_number, "IN_TRANSIT"),
        (first.waybill_number, "DELIVERED"),
    ]


def test_concurrent_batches_on_shared_shipments_emit_one_chained_change_per_move(service: Running) -> None:
    shipments = [service.stub.BookShipment(booking(f"race-{i}")).shipment for i in range(3)]
    codes_ = ["PU", "AR", "IT", "CC", "OD", "DL", "DE", "SP"]
    batches = [
        pb.PushTrackingEventsRequest(
            events=[
                carrier_event(s.waybill_number, codes_[(b * 3 + i + j) % len(codes_)], b * 10 + i * 3 + j)
                for i, s in enumerate(shipments)
                for j in range(3)
            ]
        )
        for b in range(8)
    ]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(service.stub.PushTrackingEvents, batches))
    moves = sum(r.status_changed for a in answers for r in a.results)
    service.context.relay.drain()
    chains: dict[str, list[tuple[str, str]]] = {}
    for e in service.bus.published:
        if e.event_type == "shipment_status_changed":
            chains.setdefault(e.payload["shipment_code"], []).append(
                (e.payload["previous_status"], e.payload["status"])
            )
    assert sum(len(c) for c in chains.values()) == moves
    for shipment in shipments:
        chain = chains[shipment.code]
        assert chain[0][0] == "INFO_RECEIVED" and all(a[1] == b[0] for a, b in itertools.pairwise(chain))
        tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
        assert pb.TrackingStatus.Name(tracking.status).removeprefix("TRACKING_STATUS_") == chain[-1][1]
        assert len({(e.raw_code, e.occurred_at.seconds) for e in tracking.events}) == len(tracking.events)
