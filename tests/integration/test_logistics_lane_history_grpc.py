"""Transit and quality learned from delivered shipments, over gRPC on SQLite and PostgreSQL: the published
range until a lane has the minimum of delivered shipments, then figures learned from them, named as such."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format
from xborder.logistics.v1 import plans_service_pb2 as ppb
from xborder.logistics.v1 import plans_service_pb2_grpc as ppb_grpc
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, running_service

MERCHANT = codes.generate("MC")
PARCEL = {"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}
DESTINATION = {"country": "DE", "postalCode": "10115"}


@pytest.fixture
def service(any_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("XB_LOGISTICS_LEARN_MIN_DELIVERED", "3")
    with running_service(any_settings, "logistics", pb_grpc.ShipmentServiceStub) as running:
        yield running


def ems_plan(service: Running) -> ppb.Plan:
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    body = {"parcels": [PARCEL], "originCountry": "CN", "destination": DESTINATION, "goods": {"hsCode": "420292"}}
    body["declaredValue"] = {"currencyCode": "EUR", "units": "20"}
    answer = ppb_grpc.LogisticsPlanServiceStub(channel).MatchPlans(json_format.ParseDict(body, ppb.MatchPlansRequest()))
    channel.close()
    return next(p for p in answer.plans if p.channel_code == "SAMPLE-POST-EMS")


def learned_plan(service: Running) -> ppb.Plan:
    """The EMS plan once the catalogue cache has read the new history (it checks at most every second)."""
    deadline = time.monotonic() + 10
    plan = ems_plan(service)
    while "learned" not in plan.transit.source and time.monotonic() < deadline:
        time.sleep(0.1)
        plan = ems_plan(service)
    return plan


def deliver(service: Running, name: str, days: int, *, incident: bool = False) -> None:
    booking = {
        "requestId": name,
        "merchantCode": MERCHANT,
        "channelCode": "SAMPLE-POST-EMS",
        "rateSheetVersion": 1,
        "parcels": [PARCEL],
        "destination": DESTINATION,
    }
    shipment = service.stub.BookShipment(json_format.ParseDict(booking, pb.BookShipmentRequest())).shipment
    booked = shipment.booked_at.ToDatetime(tzinfo=UTC)
    # Hermes codes (the carrier of the EMS channel): sorted, not arrived at the depot (an incident), delivered.
    events = [("1510", booked + timedelta(hours=6))]
    if incident:
        events.append(("0600", booked + timedelta(days=days - 1)))
    delivered = datetime.combine(booked.date() + timedelta(days=days), booked.timetz()) + timedelta(hours=1)
    events.append(("3500", delivered))
    pushed = []
    for code, at in events:
        event = pb.CarrierEvent(carrier="hermes", waybill_number=shipment.waybill_number, code=code)
        event.occurred_at.FromDatetime(at)
        pushed.append(event)
    service.stub.PushTrackingEvents(pb.PushTrackingEventsRequest(events=pushed))


def test_the_lane_learns_transit_and_quality_once_it_has_enough_delivered_shipments(service: Running) -> None:
    published = ems_plan(service)
    assert "published range" in published.transit.source
    assert "no tracking history" in published.quality.source
    deliver(service, "ems-1", 4)
    deliver(service, "ems-2", 6)
    assert "published range" in ems_plan(service).transit.source  # 2 of the 3 needed

    deliver(service, "ems-3", 30, incident=True)
    learned = learned_plan(service)
    assert (learned.transit.p50_days, learned.transit.p90_days) == (6, 30)
    assert learned.transit.source == "learned from 3 delivered shipments on SAMPLE-POST-EMS to DE (booking to delivery)"
    assert learned.quality.source.startswith("learned from 3 finished shipments on SAMPLE-POST-EMS to DE: on time 67%")
    assert "exceptions 33%, lost 0%" in learned.quality.source
    assert learned.quality.score == round(100 * (0.6 * 2 / 3 + 0.2 * 2 / 3 + 0.2))
