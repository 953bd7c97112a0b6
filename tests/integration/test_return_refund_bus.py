"""A return's refund over the embedded bus, wired from the topology as the nameko workers are: logistics
announces `return_refund_requested` and payments refunds the collection through the ledger exactly once,
however often the event is delivered, through the same use case as ODR refunds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import returns_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2 as ship_pb

from services.embedded import subscribe_all
from services.logistics import bootstrap as logistics_bootstrap
from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.adapters.postal_formats import PostalFormats
from services.logistics.adapters.return_fees import load_warehouse_fees
from services.logistics.entrypoints.returns_api import ReturnServicer
from services.logistics.entrypoints.shipments_api import ShipmentServicer
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.logistics.service_layer.returns import IntoWarehouseStock, catalogue_in
from services.payments import bootstrap as payments_bootstrap
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod
from services.shared import codes
from services.shared.bus import InProcessBus
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.events import Event
from services.shared.money import Money
from services.shared.settings import Settings
from tests.ledger_support import in_uow


@dataclass
class Wired:
    bus: InProcessBus
    logistics: ServiceContext
    payments: ServiceContext
    shipments: ShipmentServicer
    returns: ReturnServicer
    refund_requests: list[dict[str, Any]]


@pytest.fixture
def wired(any_settings: Settings) -> Iterator[Wired]:
    bus = InProcessBus()
    logistics = logistics_bootstrap.bootstrap(any_settings, bus)
    payments = payments_bootstrap.bootstrap(any_settings, bus)
    subscribe_all(bus, {"logistics": logistics, "payments": payments})
    requests: list[dict[str, Any]] = []
    bus.subscribe("logistics", "return_refund_requested", "test.recorder", requests.append)
    shipments = ShipmentServicer(logistics.uow, PostalFormats(), load_tables())  # type: ignore[arg-type]
    returns = ReturnServicer(
        logistics.uow,  # type: ignore[arg-type]
        catalogue_in(CatalogueCache()),
        load_warehouse_fees(),
        PostalFormats(),
        IntoWarehouseStock(),
    )
    try:
        logistics.import_reference_data()
        payments.import_reference_data()
        logistics.relay.drain()
        payments.relay.drain()
        yield Wired(bus, logistics, payments, shipments, returns, requests)
    finally:
        logistics.close()
        payments.close()


def rid() -> str:
    return str(uuid.uuid4())


def collected(payments: ServiceContext, merchant: str, gross: str) -> str:
    command = sh.RecordCollection(
        merchant, "TESTPSP", codes.generate("PY"), CollectionMethod.CARD, Money.of(gross, "USD"), Money.of("0", "USD")
    )
    return in_uow(payments, lambda uow, now: sh.record_collection(uow, command, now)).code


def refunded(payments: ServiceContext, code: str) -> Money:
    with payments.uow() as uow:
        return sh.get_collection(uow, code).refunded


def refund_a_return(wired: Wired, merchant: str, collection: str, refund: str) -> str:
    """A delivered shipment returned, received, inspected, disposed of, and refunded `refund` USD."""
    booking = json_format.ParseDict(
        {
            "requestId": rid(),
            "merchantCode": merchant,
            "channelCode": "SAMPLE-EXP-PRIORITY",
            "rateSheetVersion": 1,
            "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
            "destination": {"country": "GB", "postalCode": "EC1Y 8SY"},
        },
        ship_pb.BookShipmentRequest(),
    )
    shipment = wired.shipments.BookShipment(booking, None).shipment  # type: ignore[arg-type]
    at = timestamp_pb2.Timestamp()
    at.FromDatetime(datetime(2026, 3, 2, tzinfo=UTC))
    event = ship_pb.CarrierEvent(carrier="fedex", waybill_number=shipment.waybill_number, code="DL", occurred_at=at)
    wired.shipments.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[event]), None)  # type: ignore[arg-type]
    s = wired.returns
    line = pb.ReturnLineInput(sku="SCARF-1", quantity=1, reason=pb.RETURN_REASON_NOT_AS_DESCRIBED)
    code = s.AuthoriseReturn(
        pb.AuthoriseReturnRequest(request_id=rid(), shipment_code=shipment.code, lines=[line]),
        None,  # type: ignore[arg-type]
    ).rma.code
    s.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    s.RecordReturnInTransit(pb.RecordReturnInTransitRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    s.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    condition = pb.LineCondition(line_no=1, condition=pb.ITEM_CONDITION_DEFECTIVE)
    s.InspectReturn(pb.InspectReturnRequest(request_id=rid(), code=code, lines=[condition]), None)  # type: ignore[arg-type]
    decide = pb.DecideReturnDispositionRequest(request_id=rid(), code=code, disposition=pb.RETURN_DISPOSITION_DISPOSE)
    s.DecideReturnDisposition(decide, None)  # type: ignore[arg-type]
    units, cents = refund.split(".")
    ask = pb.RequestReturnRefundRequest(
        request_id=rid(),
        code=code,
        collection_code=collection,
        amount={"currency_code": "USD", "units": int(units), "nanos": int(cents) * 10_000_000},
    )
    s.RequestReturnRefund(ask, None)  # type: ignore[arg-type]
    assert wired.logistics.relay.drain()
    return str(code)


def redeliver(wired: Wired, payload: dict[str, Any]) -> None:
    wired.bus.publish(Event(payload["event_id"], "logistics", "return_refund_requested", utcnow(), payload))


def test_a_return_refunds_the_collection_once_however_often_it_is_delivered(wired: Wired) -> None:
    merchant = codes.generate("MC", "G")
    collection = collected(wired.payments, merchant, "80.00")
    code = refund_a_return(wired, merchant, collection, "30.25")

    [payload] = wired.refund_requests
    assert (payload["return_code"], payload["collection_code"]) == (code, collection)
    assert refunded(wired.payments, collection) == Money.of("30.25", "USD")
    redeliver(wired, payload)
    redeliver(wired, payload)
    assert refunded(wired.payments, collection) == Money.of("30.25", "USD")
    with wired.payments.uow() as uow:
        assert sh.get_collection(uow, collection).refundable == Money.of("49.75", "USD")


def test_two_returns_on_one_collection_each_refund_once(wired: Wired) -> None:
    merchant = codes.generate("MC", "G")
    collection = collected(wired.payments, merchant, "80.00")
    refund_a_return(wired, merchant, collection, "10.00")
    refund_a_return(wired, merchant, collection, "10.00")
    for payload in list(wired.refund_requests):
        redeliver(wired, payload)
    assert refunded(wired.payments, collection) == Money.of("20.00", "USD")


def test_a_refund_above_what_was_collected_is_refused_not_retried(wired: Wired) -> None:
    merchant = codes.generate("MC", "G")
    collection = collected(wired.payments, merchant, "20.00")
    refund_a_return(wired, merchant, collection, "45.00")  # the relay drained: the consumer did not raise
    assert refunded(wired.payments, collection) == Money.of("0", "USD")
