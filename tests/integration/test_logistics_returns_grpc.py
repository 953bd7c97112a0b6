"""ReturnService over real gRPC (port 0), on SQLite and on PostgreSQL: the RMA lifecycle of a delivered
shipment, the restock-versus-return-to-origin comparison, illegal moves, idempotent retries and events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import returns_service_pb2 as pb
from xborder.logistics.v1 import returns_service_pb2_grpc as pb_grpc
from xborder.logistics.v1 import shipments_service_pb2 as ship_pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as ship_grpc

from services.shared import codes
from services.shared.money import from_proto
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC")


@dataclass
class Stubs:
    running: Running
    returns: pb_grpc.ReturnServiceStub
    shipments: ship_grpc.ShipmentServiceStub

    def events(self, event_type: str) -> list[dict]:
        self.running.context.relay.drain()
        return [e.payload for e in self.running.bus.published if e.event_type == event_type]


@pytest.fixture
def service(any_settings: Settings) -> Iterator[Stubs]:
    with running_service(any_settings, "logistics", pb_grpc.ReturnServiceStub) as running:
        channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        try:
            yield Stubs(running, running.stub, ship_grpc.ShipmentServiceStub(channel))
        finally:
            channel.close()


def rid() -> str:
    return str(uuid.uuid4())


def delivered(stubs: Stubs, country: str = "US", postal_code: str = "10001", *, deliver: bool = True) -> str:
    """A shipment booked to `country` and, when `deliver`, delivered (FedEx DL)."""
    booking = json_format.ParseDict(
        {
            "requestId": rid(),
            "merchantCode": MERCHANT,
            "channelCode": "SAMPLE-EXP-PRIORITY",
            "rateSheetVersion": 1,
            "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
            "destination": {"country": country, "postalCode": postal_code},
        },
        ship_pb.BookShipmentRequest(),
    )
    shipment = stubs.shipments.BookShipment(booking).shipment
    if deliver:
        at = timestamp_pb2.Timestamp()
        at.FromDatetime(datetime(2026, 3, 2, tzinfo=UTC))
        event = ship_pb.CarrierEvent(carrier="fedex", waybill_number=shipment.waybill_number, code="DL", occurred_at=at)
        stubs.shipments.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[event]))
    return str(shipment.code)


def authorise(stubs: Stubs, shipment: str, request_id: str | None = None, **changes: object) -> pb.Return:
    body = {
        "requestId": request_id or rid(),
        "shipmentCode": shipment,
        "orderReference": "ORDER-1001",
        "reason": "the buyer changed their mind",
        "lines": [
            {"sku": "MUG-BLUE", "quantity": 2, "reason": "RETURN_REASON_NO_LONGER_NEEDED"},
            {"sku": "MUG-RED", "quantity": 1, "reason": "RETURN_REASON_DAMAGED"},
        ],
        **changes,
    }
    return stubs.returns.AuthoriseReturn(json_format.ParseDict(body, pb.AuthoriseReturnRequest())).rma


def amount(money: object) -> Decimal:
    return from_proto(money).amount  # type: ignore[arg-type]


def test_authorising_shows_restock_against_return_to_origin(service: Stubs) -> None:
    rma = authorise(service, delivered(service))
    assert codes.parse(rma.code).entity_type == "TH"
    assert rma.status == pb.RETURN_STATUS_AUTHORISED
    assert rma.outbound_waybill and rma.order_reference == "ORDER-1001"
    assert [(line.line_no, line.sku, line.quantity) for line in rma.lines] == [(1, "MUG-BLUE", 2), (2, "MUG-RED", 1)]
    comparison = rma.cost_comparison
    restock, origin = comparison.restock, comparison.return_to_origin
    # Restock at the sample US warehouse: leg 32 + 7.50 x 1.2 kg, receiving 6, inspection 3 x 4.50, restocking 3 x 3.50.
    assert restock.available and restock.warehouse_code == "SAMPLE-WH-US-LAX"
    parts = {item.name: amount(item.amount) for item in restock.breakdown}
    assert parts == {
        "local_return_leg": Decimal("41.00"),
        "receiving": Decimal("6.00"),
        "inspection": Decimal("13.50"),
        "restocking": Decimal("10.50"),
    }
    assert amount(restock.total) == Decimal("71.00") == sum(parts.values())
    # Return to origin on the cheapest reverse-lane channel: postal, 48 + 62 x 1.2.
    assert origin.available and origin.channel_code == "SAMPLE-RETURN-POST"
    assert amount(origin.total) == Decimal("122.40")
    assert sum(amount(i.amount) for i in origin.breakdown) == amount(origin.total)
    assert comparison.recommended == pb.RETURN_ROUTE_RESTOCK
    assert "51.40 CNY less" in comparison.reason
    [event] = service.events("return_status_changed")
    assert (event["return_code"], event["status"], event.get("previous_status", "")) == (rma.code, "authorised", "")


def test_a_missing_figure_is_said_not_failed(service: Stubs) -> None:
    # No sample warehouse takes returns in JP; no reverse channel collects from AE.
    japan = authorise(service, delivered(service, "JP", "100-0001")).cost_comparison
    assert not japan.restock.available and japan.restock.missing == "no overseas warehouse takes returns in JP"
    assert japan.return_to_origin.available and japan.recommended == pb.RETURN_ROUTE_RETURN_TO_ORIGIN
    gulf = authorise(service, delivered(service, "AE", "")).cost_comparison
    assert not gulf.return_to_origin.available
    assert gulf.return_to_origin.missing.startswith("no channel of the catalogue carries returns from AE to CN")
    assert not gulf.restock.available and gulf.recommended == pb.RETURN_ROUTE_UNSPECIFIED
    assert gulf.reason.startswith("neither option can be priced")


def test_the_whole_lifecycle_to_a_refund_emits_each_change(service: Stubs) -> None:
    s = service.returns
    rma = authorise(service, delivered(service))
    code = rma.code
    labelled = s.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code)).rma
    assert labelled.route == pb.RETURN_ROUTE_RESTOCK  # the recommendation
    assert labelled.return_waybill.endswith("US") and labelled.label_reference == f"labels/{code}.pdf"
    s.RecordReturnInTransit(pb.RecordReturnInTransitRequest(request_id=rid(), code=code))
    s.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code))
    conditions = [
        pb.LineCondition(line_no=1, condition=pb.ITEM_CONDITION_RESALEABLE),
        pb.LineCondition(line_no=2, condition=pb.ITEM_CONDITION_DAMAGED),
    ]
    inspected = s.InspectReturn(pb.InspectReturnRequest(request_id=rid(), code=code, lines=conditions)).rma
    assert [line.condition for line in inspected.lines] == [pb.ITEM_CONDITION_RESALEABLE, pb.ITEM_CONDITION_DAMAGED]
    decided = s.DecideReturnDisposition(
        pb.DecideReturnDispositionRequest(request_id=rid(), code=code, disposition=pb.RETURN_DISPOSITION_RESTOCK)
    ).rma
    assert (decided.disposition, decided.warehouse_code) == (pb.RETURN_DISPOSITION_RESTOCK, "SAMPLE-WH-US-LAX")
    collection = codes.generate("PY")
    refund = pb.RequestReturnRefundRequest(
        request_id="refund-1",
        code=code,
        collection_code=collection,
        amount={"currency_code": "USD", "units": 25, "nanos": 500_000_000},
    )
    first = s.RequestReturnRefund(refund)
    assert first.rma.status == pb.RETURN_STATUS_REFUND_REQUESTED
    assert s.RequestReturnRefund(refund) == first  # a retry replays, nothing more happens
    statuses = [e["status"] for e in service.events("return_status_changed") if e["return_code"] == code]
    assert statuses == [
        "authorised",
        "label_issued",
        "in_transit",
        "received",
        "inspected",
        "disposition_decided",
        "refund_requested",
    ]
    [asked] = service.events("return_refund_requested")
    assert (asked["return_code"], asked["collection_code"], asked["amount"]["units"]) == (code, collection, "25")
    with pytest.raises(grpc.RpcError) as again:
        s.RequestReturnRefund(pb.RequestReturnRefundRequest(**{**_fields(refund), "request_id": "refund-2"}))
    assert rejected(again.value)[0] is grpc.StatusCode.INVALID_ARGUMENT
    assert "refund_requested" in rejected(again.value)[2]["status"]
    assert len(service.events("return_refund_requested")) == 1
    assert s.GetReturn(pb.GetReturnRequest(code=code)).rma == first.rma


def _fields(message: pb.RequestReturnRefundRequest) -> dict:
    return {f.name: v for f, v in message.ListFields()}


def test_illegal_moves_name_the_field_and_change_nothing(service: Stubs) -> None:
    s = service.returns
    code = authorise(service, delivered(service)).code
    with pytest.raises(grpc.RpcError) as early:
        s.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code))
    status, _, fields = rejected(early.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert fields["status"].startswith(f"return {code} is authorised; it cannot become received")
    s.CancelReturn(pb.CancelReturnRequest(request_id=rid(), code=code, reason="buyer kept it"))
    with pytest.raises(grpc.RpcError) as final:
        s.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code))
    assert "none: it is final" in rejected(final.value)[2]["status"]
    got = s.GetReturn(pb.GetReturnRequest(code=code)).rma
    assert (got.status, got.note, got.return_waybill) == (pb.RETURN_STATUS_CANCELLED, "buyer kept it", "")


def test_a_restock_after_a_return_to_origin_is_refused(service: Stubs) -> None:
    s = service.returns
    code = authorise(service, delivered(service)).code
    s.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code, route=pb.RETURN_ROUTE_RETURN_TO_ORIGIN))
    s.RecordReturnInTransit(pb.RecordReturnInTransitRequest(request_id=rid(), code=code))
    s.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code))
    lines = [pb.LineCondition(line_no=n, condition=pb.ITEM_CONDITION_RESALEABLE) for n in (1, 2)]
    s.InspectReturn(pb.InspectReturnRequest(request_id=rid(), code=code, lines=lines))
    with pytest.raises(grpc.RpcError) as refused:
        s.DecideReturnDisposition(
            pb.DecideReturnDispositionRequest(request_id=rid(), code=code, disposition=pb.RETURN_DISPOSITION_RESTOCK)
        )
    assert "cannot be restocked" in rejected(refused.value)[2]["disposition"]
    rejected_return = s.RejectReturn(pb.RejectReturnRequest(request_id=rid(), code=code, reason="worn")).rma
    assert rejected_return.status == pb.RETURN_STATUS_REJECTED


def test_bad_requests_name_their_fields(service: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as malformed:
        authorise(
            service,
            "YD123",
            lines=[
                {"sku": "", "quantity": 0},
                {"sku": "A", "quantity": 1, "reason": "RETURN_REASON_OTHER"},
                {"sku": "A", "quantity": 20000, "reason": "RETURN_REASON_OTHER"},
            ],
            originCountry="CHN",
        )
    status, _, fields = rejected(malformed.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert {
        "shipment_code",
        "lines[0].sku",
        "lines[0].quantity",
        "lines[0].reason",
        "lines[2].sku",
        "lines[2].quantity",
        "origin_country",
    } <= set(fields)
    with pytest.raises(grpc.RpcError) as unknown:
        authorise(service, codes.generate("YD"))
    assert rejected(unknown.value)[0] is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as undelivered:
        authorise(service, delivered(service, deliver=False))
    assert "only a delivered shipment" in rejected(undelivered.value)[2]["shipment_code"]
    with pytest.raises(grpc.RpcError) as missing:
        service.returns.GetReturn(pb.GetReturnRequest(code=codes.generate("TH")))
    assert rejected(missing.value)[0] is grpc.StatusCode.NOT_FOUND
    code = authorise(service, delivered(service)).code
    service.returns.IssueReturnLabel(pb.IssueReturnLabelRequest(request_id=rid(), code=code))
    service.returns.RecordReturnInTransit(pb.RecordReturnInTransitRequest(request_id=rid(), code=code))
    service.returns.ReceiveReturn(pb.ReceiveReturnRequest(request_id=rid(), code=code))
    with pytest.raises(grpc.RpcError) as partial:
        service.returns.InspectReturn(
            pb.InspectReturnRequest(
                request_id=rid(),
                code=code,
                lines=[
                    pb.LineCondition(line_no=1, condition=pb.ITEM_CONDITION_RESALEABLE),
                    pb.LineCondition(line_no=7),
                ],
            )
        )
    assert "lines[1].condition" in rejected(partial.value)[2]
    with pytest.raises(grpc.RpcError) as unknown_line:
        service.returns.InspectReturn(
            pb.InspectReturnRequest(
                request_id=rid(), code=code, lines=[pb.LineCondition(line_no=7, condition=pb.ITEM_CONDITION_DAMAGED)]
            )
        )
    detail = rejected(unknown_line.value)[2]["lines"]
    assert "line 7 is not a line" in detail and "line 1 has no condition" in detail


def test_a_retry_replays_and_another_payload_under_the_key_conflicts(service: Stubs) -> None:
    shipment = delivered(service)
    first = authorise(service, shipment, "rma-1")
    assert authorise(service, shipment, "rma-1") == first
    with pytest.raises(grpc.RpcError) as conflict:
        authorise(service, shipment, "rma-1", reason="another text")
    assert rejected(conflict.value)[1] == "IDEMPOTENCY_CONFLICT"
    assert len([e for e in service.events("return_status_changed") if e["status"] == "authorised"]) == 1
