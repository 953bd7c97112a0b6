"""A restock hands each resaleable SKU to `RestockedUnits` once, inside the unit of work that records the
disposition: a failure there leaves the return as it was. On SQLite and on PostgreSQL, with a fake port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import returns_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2 as spb

from services.logistics import bootstrap
from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.adapters.postal_formats import PostalFormats
from services.logistics.adapters.return_fees import load_warehouse_fees
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.entrypoints.returns_api import ReturnServicer
from services.logistics.entrypoints.shipments_api import ShipmentServicer
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.logistics.service_layer.returns import catalogue_in
from services.logistics.service_layer.stock import stock_levels
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.errors import ValidationError
from services.shared.settings import Settings
from tests.fakes import RecordingBus


@dataclass
class FakeStock:
    """Records what it is handed; `fail` makes it refuse like a stock model that finds no such SKU."""

    handed: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    seen_status: list[str] = field(default_factory=list)
    fail: bool = False

    def restock(
        self,
        uow: LogisticsUnitOfWork,
        *,
        warehouse_code: str,
        merchant_code: str,
        sku: str,
        quantity: int,
        source_reference: str,
    ) -> None:
        rma = uow.returns.get(source_reference)  # the caller's open transaction sees the return
        assert rma is not None
        self.seen_status.append(rma.status.value)
        if self.fail:
            raise ValidationError.single("warehouse_code", f"{warehouse_code} holds no stock of {sku}")
        self.handed.append((warehouse_code, merchant_code, sku, quantity, source_reference))


@dataclass
class World:
    context: ServiceContext
    shipments: ShipmentServicer
    returns: ReturnServicer
    stock: FakeStock


@pytest.fixture
def world(any_settings: Settings) -> Iterator[World]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    context.import_reference_data()
    stock = FakeStock()
    uow = context.uow
    try:
        yield World(
            context,
            ShipmentServicer(uow, PostalFormats(), load_tables()),  # type: ignore[arg-type]
            ReturnServicer(uow, catalogue_in(CatalogueCache()), load_warehouse_fees(), PostalFormats(), stock),  # type: ignore[arg-type]
            stock,
        )
    finally:
        context.close()


def rid() -> str:
    return str(uuid.uuid4())


def inspected_return(world: World, merchant: str) -> str:
    booking = {
        "requestId": rid(),
        "merchantCode": merchant,
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "DE", "postalCode": "10115"},
    }
    shipment = world.shipments.BookShipment(json_format.ParseDict(booking, spb.BookShipmentRequest()), None).shipment  # type: ignore[arg-type]
    at = timestamp_pb2.Timestamp()
    at.FromDatetime(datetime(2026, 3, 2, tzinfo=UTC))
    event = spb.CarrierEvent(carrier="fedex", waybill_number=shipment.waybill_number, code="DL", occurred_at=at)
    world.shipments.PushTrackingEvents(spb.PushTrackingEventsRequest(events=[event]), None)  # type: ignore[arg-type]
    lines = [
        pb.ReturnLineInput(sku="BOOT-42", quantity=2, reason=pb.RETURN_REASON_NO_LONGER_NEEDED),
        pb.ReturnLineInput(sku="BOOT-43", quantity=1, reason=pb.RETURN_REASON_DEFECTIVE),
        pb.ReturnLineInput(sku="LACES", quantity=3, reason=pb.RETURN_REASON_OTHER),
    ]
    s = world.returns
    request = pb.AuthoriseReturnRequest(request_id=rid(), shipment_code=shipment.code, lines=lines)
    code = s.AuthoriseReturn(request, None).rma.code  # type: ignore[arg-type]
    s.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    s.RecordReturnInTransit(pb.RecordReturnInTransitRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    s.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code), None)  # type: ignore[arg-type]
    conditions = [
        pb.LineCondition(line_no=1, condition=pb.ITEM_CONDITION_RESALEABLE),
        pb.LineCondition(line_no=2, condition=pb.ITEM_CONDITION_DEFECTIVE),
        pb.LineCondition(line_no=3, condition=pb.ITEM_CONDITION_RESALEABLE),
    ]
    s.InspectReturn(pb.InspectReturnRequest(request_id=rid(), code=code, lines=conditions), None)  # type: ignore[arg-type]
    return str(code)


def test_a_restock_hands_the_resaleable_units_once(world: World) -> None:
    merchant = codes.generate("MC")
    code = inspected_return(world, merchant)
    decide = pb.DecideReturnDispositionRequest(request_id="d-1", code=code, disposition=pb.RETURN_DISPOSITION_RESTOCK)
    first = world.returns.DecideReturnDisposition(decide, None)  # type: ignore[arg-type]
    assert first.rma.warehouse_code == "SAMPLE-WH-DE-HAM"
    assert world.stock.handed == [
        ("SAMPLE-WH-DE-HAM", merchant, "BOOT-42", 2, code),
        ("SAMPLE-WH-DE-HAM", merchant, "LACES", 3, code),
    ]
    assert set(world.stock.seen_status) == {"inspected"}
    assert world.returns.DecideReturnDisposition(decide, None) == first  # type: ignore[arg-type]
    assert len(world.stock.handed) == 2  # the retry replays; nothing is handed twice


def test_a_stock_refusal_leaves_the_return_inspected(world: World) -> None:
    code = inspected_return(world, codes.generate("MC"))
    world.stock.fail = True
    decide = pb.DecideReturnDispositionRequest(request_id=rid(), code=code, disposition=pb.RETURN_DISPOSITION_RESTOCK)
    with pytest.raises(ValidationError):
        world.returns.DecideReturnDisposition(decide, None)  # type: ignore[arg-type]
    got = world.returns.GetReturn(pb.GetReturnRequest(code=code), None)  # type: ignore[arg-type]
    assert got.rma.status == pb.RETURN_STATUS_INSPECTED and not got.rma.warehouse_code


def test_a_restock_counts_the_resaleable_units_into_the_warehouse_stock_once(any_settings: Settings) -> None:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    context.import_reference_data()
    uow = context.uow
    try:
        into_stock = World(
            context,
            ShipmentServicer(uow, PostalFormats(), load_tables()),  # type: ignore[arg-type]
            ReturnServicer(
                uow, catalogue_in(CatalogueCache()), load_warehouse_fees(), PostalFormats(), bootstrap.restocked_units()
            ),  # type: ignore[arg-type]
            FakeStock(),
        )
        merchant = codes.generate("MC")
        code = inspected_return(into_stock, merchant)
        decide = pb.DecideReturnDispositionRequest(
            request_id=rid(), code=code, disposition=pb.RETURN_DISPOSITION_RESTOCK
        )
        into_stock.returns.DecideReturnDisposition(decide, None)  # type: ignore[arg-type]
        into_stock.returns.DecideReturnDisposition(decide, None)  # type: ignore[arg-type]  # a retry counts nothing twice
        view = stock_levels(uow, merchant, warehouse="SAMPLE-WH-DE-HAM")  # type: ignore[arg-type]
        on_hand = {level.sku: level.on_hand for level in view.levels}
        assert on_hand == {"BOOT-42": 2, "LACES": 3}  # the defective BOOT-43 stays out of stock
    finally:
        context.close()
