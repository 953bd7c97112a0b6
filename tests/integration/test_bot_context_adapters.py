"""The bot's live-context adapters against the real logistics ShipmentService and payments LedgerService over
gRPC: a known code answers its status, another merchant's or an unknown code is UNKNOWN, an unreachable
service is UNAVAILABLE; none of them raises."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from google.protobuf import json_format
from google.type import money_pb2
from xborder.logistics.v1 import shipments_service_pb2 as logistics_pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as logistics_grpc
from xborder.payments.v1 import ledger_service_pb2 as payments_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as payments_grpc

from services.customer_service.adapters.platform_context import GrpcCollectionLookup, GrpcTrackingLookup
from services.customer_service.domain.knowledge_base import ContextState
from services.shared import codes
from services.shared.settings import Settings
from tests.e2e.stack import unused_port
from tests.servers import running_service

MERCHANT, OTHER = codes.generate("MC"), codes.generate("MC")


def _pointing(settings: Settings, service: str, port: int) -> Settings:
    return replace(settings, service_ports={**settings.service_ports, service: port})


def test_tracking_from_the_logistics_service(any_settings: Settings) -> None:
    with running_service(any_settings, "logistics", logistics_grpc.ShipmentServiceStub) as logistics:
        booking = {
            "requestId": "book-1",
            "merchantCode": MERCHANT,
            "channelCode": "SAMPLE-EXP-PRIORITY",
            "rateSheetVersion": 1,
            "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
            "destination": {"country": "US", "postalCode": "10001"},
        }
        shipment = logistics.stub.BookShipment(json_format.ParseDict(booking, logistics_pb.BookShipmentRequest()))
        waybill = shipment.shipment.waybill_number
        event = logistics_pb.CarrierEvent(carrier="fedex", waybill_number=waybill, code="PU", location="Shenzhen CN")
        event.occurred_at.FromDatetime(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
        logistics.stub.PushTrackingEvents(logistics_pb.PushTrackingEventsRequest(events=[event]))
        settings = _pointing(any_settings, "logistics", logistics.port)
        lookup = GrpcTrackingLookup(lambda: settings, 5.0)
        code = shipment.shipment.code

        live = lookup.tracking(code, MERCHANT)
        assert live.state is ContextState.LIVE and live.status not in ("", "UNSPECIFIED")
        assert "Shenzhen CN" in live.detail and live.updated_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
        assert lookup.tracking(code, OTHER).state is ContextState.UNKNOWN
        assert lookup.tracking(codes.generate("YD"), MERCHANT).state is ContextState.UNKNOWN
        lookup.close()

    gone = _pointing(any_settings, "logistics", unused_port())
    assert GrpcTrackingLookup(lambda: gone, 1.0).tracking(code, MERCHANT).state is ContextState.UNAVAILABLE


def test_collection_state_from_the_payments_service(any_settings: Settings) -> None:
    with running_service(any_settings, "payments", payments_grpc.LedgerServiceStub) as payments:
        collected = payments.stub.RecordCollection(
            payments_pb.RecordCollectionRequest(
                request_id=str(uuid.uuid4()),
                merchant_code=MERCHANT,
                partner="ADYEN",
                partner_ref="psp-bot-1",
                method=payments_pb.COLLECTION_METHOD_CARD,
                gross=money_pb2.Money(currency_code="USD", units=120),
                partner_fee=money_pb2.Money(currency_code="USD", units=1),
            )
        ).collection
        settings = _pointing(any_settings, "payments", payments.port)
        lookup = GrpcCollectionLookup(lambda: settings, 5.0)

        live = lookup.collection(collected.code, MERCHANT)
        assert (live.state, live.status) == (ContextState.LIVE, "PENDING")
        assert "120" in live.detail and "USD collected" in live.detail
        assert lookup.collection(collected.code, OTHER).state is ContextState.UNKNOWN
        assert lookup.collection(codes.generate("PY"), MERCHANT).state is ContextState.UNKNOWN
        lookup.close()

    gone = _pointing(any_settings, "payments", unused_port())
    assert (
        GrpcCollectionLookup(lambda: gone, 1.0).collection(collected.code, MERCHANT).state is ContextState.UNAVAILABLE
    )
