"""Partners end to end: onboarded over REST by an operator (screened by the real compliance service), then
calling the gRPC front door's partner port with real TLS and client certificates made for the test.

A partner acts only on what is its own: another carrier's events, channels, rate sheets, tracking files and
returns, another warehouse's inventory and returns, another provider's ODR case and another partner's
registration are 404s; RPCs not open to its kind are 403s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from xborder.customer_service.v1 import customer_service_pb2 as cs_pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as cs_grpc
from xborder.identity.v1 import partner_service_pb2 as pb
from xborder.identity.v1 import partner_service_pb2_grpc as pb_grpc
from xborder.logistics.v1 import plans_service_pb2 as plans_pb
from xborder.logistics.v1 import plans_service_pb2_grpc as plans_grpc
from xborder.logistics.v1 import returns_service_pb2 as ret_pb
from xborder.logistics.v1 import returns_service_pb2_grpc as ret_grpc
from xborder.logistics.v1 import shipments_service_pb2 as ship_pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as ship_grpc
from xborder.logistics.v1 import warehouses_service_pb2 as wh_pb
from xborder.logistics.v1 import warehouses_service_pb2_grpc as wh_grpc

from services.shared import codes
from services.shared.grpc_server import RunningServer
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, partner_port
from tests.logistics_support import sample_channels
from tests.partner_certs import Issued, TestCa
from tests.servers import rejected


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    door: RunningServer
    ca: TestCa
    merchant: Tenant
    waybill: str  # booked on a channel of the carrier partner's (hermes)
    other_waybill: str  # booked on another carrier's channel (fedex)
    complaint: str
    other_odr_cert: Issued
    carrier: str
    carrier_screening: str
    warehouse: str
    odr: str
    carrier_cert: Issued
    warehouse_cert: Issued
    odr_cert: Issued

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.operator_key()}"}

    def channel(self, issued: Issued | None, ca: TestCa | None = None) -> grpc.Channel:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(ca or self.ca).cert_pem,
            private_key=issued.key_pem if issued else None,
            certificate_chain=issued.cert_pem if issued else None,
        )
        return grpc.secure_channel(f"127.0.0.1:{self.door.secure_port}", credentials)


def onboard(rest: AsgiClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = rest.post("/v1/partners", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 200, answer.text
    return answer.json()["partner"]  # type: ignore[no-any-return]


def register(rest: AsgiClient, headers: dict[str, str], code: str, issued: Issued) -> None:
    answer = rest.post(
        f"/v1/partners/{code}/certificates",
        json={"certificatePem": issued.cert_pem.decode(), "label": "e2e"},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["certificate"]["fingerprint"] == issued.fingerprint


@pytest.fixture(scope="module")
def world(module_any_settings: Settings) -> Iterator[World]:
    """On SQLite and on PostgreSQL (module_any_settings), each with its own CA and certificates."""
    with partner_port(module_any_settings) as (stack, rest, door, ca, ops):
        carrier = onboard(
            rest,
            ops,
            legalName="Rhine Parcel GmbH",
            kind="PARTNER_KIND_LOGISTICS",
            country="DE",
            owns=["dhl_express", "hermes"],
        )
        warehouse = onboard(
            rest,
            ops,
            legalName="Harbour Fulfilment Ltd",
            kind="PARTNER_KIND_WAREHOUSE",
            country="GB",
            owns=["SAMPLE-WH-GB-BHX"],
        )
        other_odr = onboard(
            rest, ops, legalName="Other Resolve SA", kind="PARTNER_KIND_ODR", country="FR", owns=["other-odr"]
        )
        odr = onboard(rest, ops, legalName="Fair Resolve BV", kind="PARTNER_KIND_ODR", country="NL", owns=["file"])
        certs = {name: ca.issue(name) for name in ("carrier", "warehouse", "odr", "other_odr")}
        for partner, name in ((carrier, "carrier"), (warehouse, "warehouse"), (odr, "odr"), (other_odr, "other_odr")):
            assert partner["status"] == "PARTNER_STATUS_ACTIVE", partner
            register(rest, ops, partner["partnerCode"], certs[name])
        merchant = stack.onboard("Partner Test Merchant GmbH", "DE")
        waybill, other_waybill, complaint = _merchant_records(rest, merchant, ops)
        yield World(
            stack,
            rest,
            door,
            ca,
            merchant,
            waybill,
            other_waybill,
            complaint,
            certs["other_odr"],
            carrier["partnerCode"],
            carrier["screeningCode"],
            warehouse["partnerCode"],
            odr["partnerCode"],
            certs["carrier"],
            certs["warehouse"],
            certs["odr"],
        )


def post(rest: AsgiClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = rest.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def booked(rest: AsgiClient, merchant: Tenant, channel: str, country: str = "US", postal: str = "10001") -> Any:
    """A shipment the merchant booked on the channel (as the REST answer has it)."""
    booking = {
        "channelCode": channel,
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": country, "postalCode": postal},
    }
    return post(rest, "/v1/logistics/shipments", booking, merchant.headers)["shipment"]


def book(rest: AsgiClient, merchant: Tenant, channel: str, country: str = "US", postal: str = "10001") -> str:
    """A booked shipment's waybill number."""
    return str(booked(rest, merchant, channel, country, postal)["waybillNumber"])


def _merchant_records(rest: AsgiClient, merchant: Tenant, ops: dict[str, str]) -> tuple[str, str, str]:
    """Waybills booked with the carrier partner's hermes and with fedex, and a complaint escalated to ODR
    (the default "file" provider)."""
    own, other = book(rest, merchant, "SAMPLE-POST-EMS"), book(rest, merchant, "SAMPLE-EXP-PRIORITY")
    complaint = {"type": "TICKET_TYPE_COMPLAINT", "subject": "Parcel never arrived"}
    ticket = post(rest, "/v1/customer-service/tickets", complaint, merchant.headers)["ticket"]["code"]
    post(rest, f"/v1/customer-service/tickets/{ticket}:escalateToOdr", {"reason": "not settled"}, ops)
    return own, other, ticket


def failure(call: Any, request: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failed:
        call(request, timeout=10)
    return failed.value.code()  # type: ignore[no-any-return]


def event(carrier: str, waybill: str = "RX000000001DE") -> ship_pb.CarrierEvent:
    return ship_pb.CarrierEvent(
        carrier=carrier, waybill_number=waybill, code="PU", occurred_at={"seconds": 1_790_000_000}
    )


def test_a_carrier_pushes_events_for_its_own_carrier_only(world: World) -> None:
    with world.channel(world.carrier_cert) as channel:
        stub = ship_grpc.ShipmentServiceStub(channel)
        pickup = ship_pb.CarrierEvent(
            carrier="hermes", waybill_number=world.waybill, code="3500", occurred_at={"seconds": 1_790_000_000}
        )
        answer = stub.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[pickup]), timeout=10)
        assert answer.results[0].outcome == ship_pb.TRACKING_OUTCOME_APPLIED, answer
        # Knowing the waybill of a parcel booked with another carrier moves nothing and tells nothing.
        foreign = ship_pb.CarrierEvent()
        foreign.CopyFrom(pickup)
        foreign.waybill_number = world.other_waybill
        answer = stub.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[foreign]), timeout=10)
        assert answer.results[0].outcome == ship_pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL, answer
        assert answer.results[0].detail == f"no shipment booked with hermes has waybill {world.other_waybill}"
        unknown = stub.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[event("dhl_express")]), timeout=10)
        assert unknown.results[0].outcome == ship_pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL
        # One event under a carrier the partner does not own refuses the whole batch, as if nothing existed.
        mixed = ship_pb.PushTrackingEventsRequest(events=[event("dhl_express"), event("fedex", world.waybill)])
        assert failure(stub.PushTrackingEvents, mixed) == grpc.StatusCode.NOT_FOUND
        # Not a carrier's RPC: a warehouse push is refused outright.
        push = wh_pb.PushInventoryRequest(
            push_id="p", warehouse_code="SAMPLE-WH-GB-BHX", merchant_code=world.merchant.merchant_code
        )
        assert failure(wh_grpc.WarehouseServiceStub(channel).PushInventory, push) == grpc.StatusCode.PERMISSION_DENIED


def test_a_warehouse_pushes_inventory_for_its_own_warehouses_only(world: World) -> None:
    with world.channel(world.warehouse_cert) as channel:
        stub = wh_grpc.WarehouseServiceStub(channel)
        own = wh_pb.PushInventoryRequest(
            push_id=str(uuid.uuid4()),
            warehouse_code="SAMPLE-WH-GB-BHX",
            merchant_code=world.merchant.merchant_code,
            kind=wh_pb.INVENTORY_PUSH_KIND_SNAPSHOT,
            lines=[wh_pb.InventoryLine(sku="LAMP-1", on_hand=12)],
        )
        stub.PushInventory(own, timeout=10)
        other = wh_pb.PushInventoryRequest()
        other.CopyFrom(own)
        other.warehouse_code, other.push_id = "SAMPLE-WH-DE-HAM", str(uuid.uuid4())
        assert failure(stub.PushInventory, other) == grpc.StatusCode.NOT_FOUND
        # Inbound shipments: the warehouse reports the status of those coming to its own warehouses only.
        for warehouse, expected in (
            ("SAMPLE-WH-GB-BHX", grpc.StatusCode.OK),
            ("SAMPLE-WH-US-LAX", grpc.StatusCode.NOT_FOUND),
        ):
            inbound = world.rest.post(
                "/v1/logistics/inbound-shipments",
                json={"warehouseCode": warehouse, "lines": [{"sku": "LAMP-1", "expected": "3"}]},
                headers={**world.merchant.headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert inbound.status_code == 200, inbound.text
            update = wh_pb.UpdateInboundShipmentRequest(
                request_id=str(uuid.uuid4()),
                code=inbound.json()["inboundShipment"]["code"],
                status=wh_pb.INBOUND_STATUS_IN_TRANSIT,
            )
            if expected == grpc.StatusCode.OK:
                assert (
                    stub.UpdateInboundShipment(update, timeout=10).inbound_shipment.status
                    == wh_pb.INBOUND_STATUS_IN_TRANSIT
                )
            else:
                assert failure(stub.UpdateInboundShipment, update) == expected
        events = ship_pb.PushTrackingEventsRequest(events=[event("dhl_express")])
        assert (
            failure(ship_grpc.ShipmentServiceStub(channel).PushTrackingEvents, events)
            == grpc.StatusCode.PERMISSION_DENIED
        )


def test_an_odr_provider_records_statuses_only_on_its_own_cases(world: World) -> None:
    received = cs_pb.RecordOdrStatusRequest(
        request_id=str(uuid.uuid4()), ticket_code=world.complaint, status=cs_pb.ODR_STATUS_RECEIVED
    )
    with world.channel(world.other_odr_cert) as channel:
        assert failure(cs_grpc.CustomerServiceStub(channel).RecordOdrStatus, received) == grpc.StatusCode.NOT_FOUND
    with world.channel(world.odr_cert) as channel:
        stub = cs_grpc.CustomerServiceStub(channel)
        case = stub.RecordOdrStatus(received, timeout=10).case
        assert case.status == cs_pb.ODR_STATUS_RECEIVED and case.provider == "file"
        no_case = cs_pb.RecordOdrStatusRequest(request_id="r", ticket_code=codes.generate("TK"))
        assert failure(stub.RecordOdrStatus, no_case) == grpc.StatusCode.NOT_FOUND


def test_a_partner_reads_its_own_registration_and_no_other(world: World) -> None:
    with world.channel(world.carrier_cert) as channel:
        stub = pb_grpc.PartnerServiceStub(channel)
        assert stub.GetPartner(pb.GetPartnerRequest(), timeout=10).partner.partner_code == world.carrier
        assert failure(stub.GetPartner, pb.GetPartnerRequest(partner_code=world.warehouse)) == grpc.StatusCode.NOT_FOUND
        onboarding = pb.OnboardPartnerRequest(request_id="x", legal_name="Me Too", kind=pb.PARTNER_KIND_LOGISTICS)
        assert failure(stub.OnboardPartner, onboarding) == grpc.StatusCode.PERMISSION_DENIED


def test_unregistered_and_revoked_certificates_are_unauthenticated(world: World) -> None:
    stranger = world.ca.issue("never-registered")
    with world.channel(stranger) as channel:
        assert (
            failure(pb_grpc.PartnerServiceStub(channel).GetPartner, pb.GetPartnerRequest())
            == grpc.StatusCode.UNAUTHENTICATED
        )
    retired = world.ca.issue("retired")
    ops = {"Authorization": f"Bearer {world.stack.operator_key()}"}
    register(world.rest, ops, world.carrier, retired)
    revoked = world.rest.post(
        f"/v1/partners/{world.carrier}/certificates/{retired.fingerprint}:revoke",
        json={},
        headers={**ops, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert revoked.status_code == 200, revoked.text
    with world.channel(retired) as channel:
        assert (
            failure(pb_grpc.PartnerServiceStub(channel).GetPartner, pb.GetPartnerRequest())
            == grpc.StatusCode.UNAUTHENTICATED
        )


def test_the_handshake_refuses_another_ca_and_no_certificate(world: World) -> None:
    outsider = TestCa("some other CA").issue("rhine-parcel-01")
    with world.channel(outsider) as channel:
        assert (
            failure(pb_grpc.PartnerServiceStub(channel).GetPartner, pb.GetPartnerRequest())
            == grpc.StatusCode.UNAVAILABLE
        )
    with world.channel(None) as channel:
        assert (
            failure(pb_grpc.PartnerServiceStub(channel).GetPartner, pb.GetPartnerRequest())
            == grpc.StatusCode.UNAVAILABLE
        )


def test_partner_administration_is_for_operators(world: World) -> None:
    merchant = world.merchant.headers
    listed = world.rest.get(f"/v1/partners/{world.carrier}", headers=merchant)
    assert listed.status_code == 403
    onboarding = world.rest.post(
        "/v1/partners",
        json={"legalName": "Sneaky", "kind": "PARTNER_KIND_LOGISTICS", "country": "DE", "owns": ["fedex"]},
        headers={**merchant, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert onboarding.status_code == 403
    bad = world.rest.post(
        "/v1/partners",
        json={"legalName": "No Owns", "kind": "PARTNER_KIND_WAREHOUSE", "country": "DE"},
        headers={"Authorization": f"Bearer {world.stack.operator_key()}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad.status_code == 400 and "owns" in bad.text


def test_the_plaintext_door_knows_no_partner(world: World) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{world.door.port}") as channel:
        code = failure(pb_grpc.PartnerServiceStub(channel).GetPartner, pb.GetPartnerRequest(partner_code=world.carrier))
        assert code == grpc.StatusCode.UNAUTHENTICATED


def test_the_partners_screening_is_kept_under_its_own_code(world: World) -> None:
    ops = {"Authorization": f"Bearer {world.stack.operator_key()}"}
    screening = world.rest.get(f"/v1/compliance/screenings/{world.carrier_screening}", headers=ops)
    assert screening.status_code == 200, screening.text
    assert screening.json()["merchantCode"] == world.carrier
    # A merchant's screening request names the merchant (filled by the gateway), never a partner.
    mixed = world.rest.post(
        "/v1/compliance/screenings",
        json={"name": "Some Party", "partnerCode": world.carrier},
        headers={**world.merchant.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert mixed.status_code == 400 and "partner" in mixed.text
    assert (
        world.rest.get(
            f"/v1/compliance/screenings/{world.carrier_screening}", headers=world.merchant.headers
        ).status_code
        == 404
    )


def test_a_held_partners_certificate_is_refused(world: World) -> None:
    ops = {"Authorization": f"Bearer {world.stack.operator_key()}"}
    held = onboard(
        world.rest, ops, legalName="Banco Nacional de Cuba", kind="PARTNER_KIND_PAYMENT", country="CU", owns=["BNC"]
    )
    assert held["status"] == "PARTNER_STATUS_BLOCKED"
    issued = world.ca.issue("held-01")
    register(world.rest, ops, held["partnerCode"], issued)
    with world.channel(issued) as channel:
        stub = pb_grpc.PartnerServiceStub(channel)
        assert failure(stub.GetPartner, pb.GetPartnerRequest()) == grpc.StatusCode.PERMISSION_DENIED


def refusal(call: Any, request: Any) -> tuple[grpc.StatusCode, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as failed:
        call(request, timeout=10)
    status, _, fields = rejected(failed.value)
    return status, fields


HERMES_CHANNELS = {code for code, channel in sample_channels().items() if channel.carrier_id == "hermes"}
REG_ZONES = sorted(sample_channels()["SAMPLE-POST-REG"].zone_names())


def reg_sheet(*extra: str) -> str:
    """A complete sheet for SAMPLE-POST-REG (a hermes channel: 0-2 kg in every zone), and `extra` rows."""
    rows = [f"SAMPLE-POST-REG,{zone},0,2,10.00,50.00" for zone in REG_ZONES]
    return "\n".join(["channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg", *rows, *extra]) + "\n"


def rate_sheet(csv: str, carrier: str = "") -> plans_pb.ImportRateSheetRequest:
    request = plans_pb.ImportRateSheetRequest(request_id=str(uuid.uuid4()), csv=csv, carrier=carrier, source="e2e")
    request.valid_from.FromJsonString("2099-01-01T00:00:00Z")
    return request


def test_a_carrier_lists_its_own_channels_only(world: World) -> None:
    with world.channel(world.carrier_cert) as channel:
        stub = plans_grpc.LogisticsPlanServiceStub(channel)
        own = stub.ListChannels(plans_pb.ListChannelsRequest(carrier="hermes"), timeout=10).channels
        assert {c.code for c in own} == HERMES_CHANNELS and {c.carrier_id for c in own} == {"hermes"}
        fedex = plans_pb.ListChannelsRequest(carrier="fedex")
        assert failure(stub.ListChannels, fedex) == grpc.StatusCode.NOT_FOUND
        # The whole catalogue is not a carrier's to list: it names one of its own.
        status, fields = refusal(stub.ListChannels, plans_pb.ListChannelsRequest())
        assert status == grpc.StatusCode.INVALID_ARGUMENT and "carrier" in fields
    with world.channel(world.warehouse_cert) as channel:
        request = plans_pb.ListChannelsRequest(carrier="hermes")
        assert failure(plans_grpc.LogisticsPlanServiceStub(channel).ListChannels, request) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    # Merchants and operators still list the whole catalogue.
    for headers in (world.merchant.headers, world.operator):
        listed = world.rest.get("/v1/logistics/channels", headers=headers)
        assert listed.status_code == 200, listed.text
        assert {c["code"] for c in listed.json()["channels"]} > HERMES_CHANNELS


LINE_EU = sample_channels()["SAMPLE-LINE-EU"]  # the consolidator's (dhl_express) line, its last mile hermes


def test_a_last_mile_carrier_moves_the_parcels_of_a_channel_naming_it_and_owns_none_of_it(world: World) -> None:
    assert (LINE_EU.carrier_id, LINE_EU.tracking_carriers) == ("dhl_express", frozenset({"hermes"}))
    last_mile = onboard(
        world.rest,
        world.operator,
        legalName="Paket Letzte Meile GmbH",
        kind="PARTNER_KIND_LOGISTICS",
        country="DE",
        owns=["hermes"],
    )
    issued = world.ca.issue("last_mile")
    register(world.rest, world.operator, last_mile["partnerCode"], issued)
    shipment = booked(world.rest, world.merchant, LINE_EU.code, "DE", "10115")
    with world.channel(issued) as channel:
        stub = ship_grpc.ShipmentServiceStub(channel)
        delivery = ship_pb.CarrierEvent(
            carrier="hermes",
            waybill_number=shipment["waybillNumber"],
            code="3500",
            occurred_at={"seconds": 1_790_000_000},
        )
        answer = stub.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[delivery]), timeout=10)
        assert answer.results[0].outcome == ship_pb.TRACKING_OUTCOME_APPLIED, answer
        assert answer.results[0].status_changed and answer.results[0].status == ship_pb.TRACKING_STATUS_DELIVERED
        # Naming hermes on that channel opens no other channel's parcels to it (a fedex parcel stays unknown).
        delivery.waybill_number = world.other_waybill
        answer = stub.PushTrackingEvents(ship_pb.PushTrackingEventsRequest(events=[delivery]), timeout=10)
        assert answer.results[0].outcome == ship_pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL, answer
        # The channel stays its owner's: not in the last mile's listing, nor its rate sheets to import.
        plans = plans_grpc.LogisticsPlanServiceStub(channel)
        own = plans.ListChannels(plans_pb.ListChannelsRequest(carrier="hermes"), timeout=10).channels
        assert LINE_EU.code not in {c.code for c in own}
        assert failure(plans.ListChannels, plans_pb.ListChannelsRequest(carrier="dhl_express")) == (
            grpc.StatusCode.NOT_FOUND
        )
        sheet = "channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg\nSAMPLE-LINE-EU,EU-1,0,2,1,1\n"
        status, fields = refusal(plans.ImportRateSheet, rate_sheet(sheet, "hermes"))
        assert status == grpc.StatusCode.INVALID_ARGUMENT
        assert fields == {"csv": "row 2, column channel: carrier hermes has no channel 'SAMPLE-LINE-EU'"}
    with world.channel(world.carrier_cert) as channel:  # the owner (dhl_express) lists it, naming its last mile
        listed = plans_grpc.LogisticsPlanServiceStub(channel).ListChannels(
            plans_pb.ListChannelsRequest(carrier="dhl_express"), timeout=10
        )
        assert {c.code: list(c.tracking_carriers) for c in listed.channels}[LINE_EU.code] == ["hermes"]
    tracking = world.rest.get(f"/v1/shipments/{shipment['code']}/tracking", headers=world.merchant.headers)
    assert tracking.status_code == 200, tracking.text
    assert tracking.json()["status"] == "TRACKING_STATUS_DELIVERED"
    assert [(e["carrier"], e["rawCode"]) for e in tracking.json()["events"]] == [("hermes", "3500")]


def test_a_carrier_imports_rate_sheets_for_its_own_channels_only(world: World) -> None:
    with world.channel(world.carrier_cert) as channel:
        stub = plans_grpc.LogisticsPlanServiceStub(channel)
        imported = stub.ImportRateSheet(rate_sheet(reg_sheet(), "hermes"), timeout=30)
        assert [(v.channel_code, v.row_count) for v in imported.versions] == [("SAMPLE-POST-REG", len(REG_ZONES))]
        # Another carrier's id: as if it did not exist.
        assert failure(stub.ImportRateSheet, rate_sheet(reg_sheet(), "fedex")) == grpc.StatusCode.NOT_FOUND
        # One row of another carrier's channel refuses the sheet, naming the row, as a channel that does not exist.
        foreign = rate_sheet(reg_sheet("SAMPLE-EXP-PRIORITY,US,0,70,1,1"), "hermes")
        status, fields = refusal(stub.ImportRateSheet, foreign)
        assert status == grpc.StatusCode.INVALID_ARGUMENT
        row = len(REG_ZONES) + 2
        assert fields == {"csv": f"row {row}, column channel: carrier hermes has no channel 'SAMPLE-EXP-PRIORITY'"}
        status, fields = refusal(stub.ImportRateSheet, rate_sheet(reg_sheet()))
        assert status == grpc.StatusCode.INVALID_ARGUMENT and "carrier" in fields
    with world.channel(world.warehouse_cert) as channel:
        request = rate_sheet(reg_sheet(), "hermes")
        assert failure(plans_grpc.LogisticsPlanServiceStub(channel).ImportRateSheet, request) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    # Operators import any channel's sheet, with or without a carrier; merchants none.
    body = {"csv": reg_sheet(), "validFrom": "2099-06-01T00:00:00Z", "source": "ops"}
    merchant = world.rest.post(
        "/v1/logistics/rate-sheets", json=body, headers={**world.merchant.headers, "Idempotency-Key": "m"}
    )
    assert merchant.status_code == 403
    answer = post(world.rest, "/v1/logistics/rate-sheets", body, world.operator)
    assert [v["channelCode"] for v in answer["versions"]] == ["SAMPLE-POST-REG"]


def test_a_carrier_imports_tracking_files_for_its_own_parcels_only(world: World) -> None:
    waybill = book(world.rest, world.merchant, "SAMPLE-POST-EMS", "DE", "10115")
    content = (
        f"waybill,code,time\n{waybill},1510,2026-03-04T08:00:00Z\n{world.other_waybill},3500,2026-03-06T10:00:00Z\n"
    )
    with world.channel(world.carrier_cert) as channel:
        stub = ship_grpc.ShipmentServiceStub(channel)
        answer = stub.ImportTrackingFile(
            ship_pb.ImportTrackingFileRequest(carrier="hermes", content=content), timeout=10
        )
        assert [(r.row, r.outcome) for r in answer.rows] == [
            (2, ship_pb.TRACKING_OUTCOME_APPLIED),
            (3, ship_pb.TRACKING_OUTCOME_UNKNOWN_WAYBILL),  # the fedex parcel: not this carrier's to move
        ]
        fedex = ship_pb.ImportTrackingFileRequest(carrier="fedex", content=content)
        assert failure(stub.ImportTrackingFile, fedex) == grpc.StatusCode.NOT_FOUND
    with world.channel(world.warehouse_cert) as channel:
        request = ship_pb.ImportTrackingFileRequest(carrier="hermes", content=content)
        assert failure(ship_grpc.ShipmentServiceStub(channel).ImportTrackingFile, request) == (
            grpc.StatusCode.PERMISSION_DENIED
        )


def labelled_return(world: World, route: str) -> dict[str, Any]:
    """A delivered GB shipment on the express channel, its return authorised and labelled on `route`: a
    restock goes to SAMPLE-WH-GB-BHX (the warehouse partner's), a return to origin on SAMPLE-RETURN-POST
    (a hermes channel: the carrier partner's)."""
    shipment = booked(world.rest, world.merchant, "SAMPLE-EXP-PRIORITY", "GB", "EC1Y 8SY")
    delivered = {"carrier": "fedex", "waybillNumber": shipment["waybillNumber"], "code": "DL"}
    events = {"events": [{**delivered, "occurredAt": "2026-03-06T10:00:00Z"}]}
    pushed = world.rest.post("/v1/logistics/tracking-events", json=events, headers=world.operator)
    assert pushed.json()["results"][0]["outcome"] == "TRACKING_OUTCOME_APPLIED", pushed.text
    lines = [{"sku": "SCARF-GREEN", "quantity": 1, "reason": "RETURN_REASON_DAMAGED"}]
    body = {"shipmentCode": shipment["code"], "lines": lines}
    rma = post(world.rest, "/v1/returns", body, world.merchant.headers)["rma"]
    labelled = post(world.rest, f"/v1/returns/{rma['code']}:issueLabel", {"route": route}, world.merchant.headers)
    return labelled["rma"]  # type: ignore[no-any-return]


def step(rma: dict[str, Any], kind: type[Any]) -> Any:
    request = kind(request_id=str(uuid.uuid4()), code=rma["code"])
    if kind is ret_pb.InspectReturnRequest:
        request.lines.add(line_no=1, condition=ret_pb.ITEM_CONDITION_RESALEABLE)
    return request


def test_a_return_to_origin_is_moved_by_the_reverse_channels_carrier(world: World) -> None:
    rma = labelled_return(world, "RETURN_ROUTE_RETURN_TO_ORIGIN")
    assert (rma["carrier"], rma.get("receivingWarehouse", "")) == ("hermes", "")
    with world.channel(world.warehouse_cert) as channel:
        stub = ret_grpc.ReturnServiceStub(channel)
        # Not coming to its warehouse: as if the return did not exist.
        assert failure(stub.RecordReturnInTransit, step(rma, ret_pb.RecordReturnInTransitRequest)) == (
            grpc.StatusCode.NOT_FOUND
        )
        assert failure(stub.ReceiveReturn, step(rma, ret_pb.ReceiveReturnRequest)) == grpc.StatusCode.NOT_FOUND
    with world.channel(world.carrier_cert) as channel:
        stub = ret_grpc.ReturnServiceStub(channel)
        moving = stub.RecordReturnInTransit(step(rma, ret_pb.RecordReturnInTransitRequest), timeout=10).rma
        assert moving.status == ret_pb.RETURN_STATUS_IN_TRANSIT
        arrived = stub.ReceiveReturn(step(rma, ret_pb.ReceiveReturnRequest), timeout=10).rma
        assert arrived.status == ret_pb.RETURN_STATUS_RECEIVED
        # A carrier hands the parcel over; inspecting the goods is not its step.
        assert failure(stub.InspectReturn, step(rma, ret_pb.InspectReturnRequest)) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    # Operators still record any step; merchants none.
    inspection = {"lines": [{"lineNo": 1, "condition": "ITEM_CONDITION_RESALEABLE"}]}
    path = f"/v1/returns/{rma['code']}:inspect"
    refused = world.rest.post(path, json=inspection, headers={**world.merchant.headers, "Idempotency-Key": "i"})
    assert refused.status_code == 403
    assert post(world.rest, path, inspection, world.operator)["rma"]["status"] == "RETURN_STATUS_INSPECTED"


def test_a_restock_is_moved_by_the_receiving_warehouse(world: World) -> None:
    rma = labelled_return(world, "RETURN_ROUTE_RESTOCK")
    assert (rma.get("carrier", ""), rma["receivingWarehouse"]) == ("", "SAMPLE-WH-GB-BHX")
    with world.channel(world.carrier_cert) as channel:
        stub = ret_grpc.ReturnServiceStub(channel)
        for call, kind in (
            (stub.RecordReturnInTransit, ret_pb.RecordReturnInTransitRequest),
            (stub.ReceiveReturn, ret_pb.ReceiveReturnRequest),
        ):
            assert failure(call, step(rma, kind)) == grpc.StatusCode.NOT_FOUND  # not carried by its channels
        missing = ret_pb.RecordReturnInTransitRequest(request_id="r", code=codes.generate("TH"))
        assert failure(stub.RecordReturnInTransit, missing) == grpc.StatusCode.NOT_FOUND
    with world.channel(world.warehouse_cert) as channel:
        stub = ret_grpc.ReturnServiceStub(channel)
        stub.RecordReturnInTransit(step(rma, ret_pb.RecordReturnInTransitRequest), timeout=10)
        stub.ReceiveReturn(step(rma, ret_pb.ReceiveReturnRequest), timeout=10)
        inspected = stub.InspectReturn(step(rma, ret_pb.InspectReturnRequest), timeout=10).rma
        assert inspected.status == ret_pb.RETURN_STATUS_INSPECTED
        assert inspected.lines[0].condition == ret_pb.ITEM_CONDITION_RESALEABLE
    with world.channel(world.odr_cert) as channel:
        request = step(rma, ret_pb.ReceiveReturnRequest)
        assert failure(ret_grpc.ReturnServiceStub(channel).ReceiveReturn, request) == grpc.StatusCode.PERMISSION_DENIED


def test_another_warehouses_restock_is_not_found(world: World) -> None:
    ops = world.operator
    other = onboard(
        world.rest,
        ops,
        legalName="Elbe Lager GmbH",
        kind="PARTNER_KIND_WAREHOUSE",
        country="DE",
        owns=["SAMPLE-WH-DE-HAM"],
    )
    issued = world.ca.issue("elbe-lager")
    register(world.rest, ops, other["partnerCode"], issued)
    rma = labelled_return(world, "RETURN_ROUTE_RESTOCK")
    with world.channel(issued) as channel:
        stub = ret_grpc.ReturnServiceStub(channel)
        for call, kind in (
            (stub.RecordReturnInTransit, ret_pb.RecordReturnInTransitRequest),
            (stub.ReceiveReturn, ret_pb.ReceiveReturnRequest),
            (stub.InspectReturn, ret_pb.InspectReturnRequest),
        ):
            assert failure(call, step(rma, kind)) == grpc.StatusCode.NOT_FOUND
