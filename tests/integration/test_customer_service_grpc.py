"""CustomerService over real gRPC (port 0), on SQLite and on PostgreSQL: tickets, messages with attachments,
the state machine, late changes, idempotent retries, the SLA breach sweep and the risk-alert consumer."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from services.customer_service import bootstrap
from services.customer_service.domain.tickets import LinkKind
from services.customer_service.service_layer import breaches, consumers
from services.customer_service.settings import CustomerServiceSettings
from services.shared import codes
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC", "G")


@pytest.fixture
def service(any_settings: Settings, linked_records: FakeLinkedRecords) -> Iterator[Running]:
    with running_service(any_settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        yield running


def open_ticket(service: Running, **fields: object) -> pb.Ticket:
    request = pb.OpenTicketRequest(
        request_id=str(uuid.uuid4()),
        merchant_code=MERCHANT,
        type=pb.TICKET_TYPE_NOT_RECEIVED,
        subject="Parcel never arrived",
        description="Ordered three weeks ago.",
    )
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(request, name).extend(value)
        else:
            setattr(request, name, value)
    return service.stub.OpenTicket(request).ticket


def change(service: Running, code: str, status: pb.TicketStatus, **fields: Any) -> pb.Ticket:
    request = pb.ChangeTicketStatusRequest(request_id=str(uuid.uuid4()), code=code, status=status, **fields)
    return service.stub.ChangeTicketStatus(request).ticket


def outbox_types(service: Running) -> list[str]:
    service.context.relay.drain()
    return [event.event_type for event in service.bus.published]


def test_a_ticket_is_opened_linked_listed_and_read_back(service: Running, linked_records: FakeLinkedRecords) -> None:
    order = codes.generate("DD")
    shipment = linked_records.add(LinkKind.SHIPMENT, codes.generate("YD"), MERCHANT)
    links = [
        pb.LinkedCode(kind=pb.LINK_KIND_ORDER, code=order),
        pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=shipment),
    ]
    opened = open_ticket(service, links=links, tags=["VIP", "late"], priority=pb.TICKET_PRIORITY_HIGH)
    assert opened.code.startswith("TK") and codes.problems(opened.code) is None
    assert (opened.status, opened.priority, list(opened.tags)) == (
        pb.TICKET_STATUS_NEW,
        pb.TICKET_PRIORITY_HIGH,
        ["late", "vip"],
    )
    assert {(link.kind, link.code) for link in opened.links} == {(link.kind, link.code) for link in links}
    assert [m.body for m in opened.messages] == ["Ordered three weeks ago."]
    assert [c.target for c in opened.sla] == [pb.SLA_TARGET_FIRST_RESPONSE, pb.SLA_TARGET_RESOLUTION]
    assert all(c.state == pb.SLA_STATE_ACTIVE and c.HasField("due_at") for c in opened.sla)

    fetched = service.stub.GetTicket(pb.GetTicketRequest(code=opened.code)).ticket
    assert fetched.code == opened.code and fetched.links == opened.links
    listed = service.stub.ListTickets(pb.ListTicketsRequest(merchant_code=MERCHANT)).tickets
    assert [t.code for t in listed] == [opened.code]
    assert outbox_types(service) == ["ticket_opened"]


def test_a_retry_replays_the_first_answer_and_a_changed_payload_is_refused(service: Running) -> None:
    request = pb.OpenTicketRequest(
        request_id="retry-1", merchant_code=MERCHANT, type=pb.TICKET_TYPE_CONSULTATION, subject="Customs duty?"
    )
    first = service.stub.OpenTicket(request)
    again = service.stub.OpenTicket(request)
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    assert len(service.stub.ListTickets(pb.ListTicketsRequest(merchant_code=MERCHANT)).tickets) == 1
    request.subject = "Something else"
    with pytest.raises(grpc.RpcError) as error:
        service.stub.OpenTicket(request)
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT") and "request_id" in violations


def test_bad_requests_name_every_bad_field(service: Running) -> None:
    good_order = codes.generate("DD")
    broken = good_order[:-1] + ("0" if good_order[-1] != "0" else "1")
    request = pb.OpenTicketRequest(
        request_id="r",
        merchant_code="MC123",
        subject="",
        links=[
            pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=good_order),
            pb.LinkedCode(kind=pb.LINK_KIND_ORDER, code=broken),
        ],
    )
    with pytest.raises(grpc.RpcError) as error:
        service.stub.OpenTicket(request)
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert {"merchant_code", "type", "subject", "links[0].code", "links[1].code"} <= set(violations)
    assert "shipment" in violations["links[0].code"]


def test_only_legal_transitions_and_nothing_after_close(service: Running) -> None:
    code = open_ticket(service).code
    with pytest.raises(grpc.RpcError) as error:
        change(service, code, pb.TICKET_STATUS_CLOSED)
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")
    assert violations["status"] == "a ticket cannot go from NEW to CLOSED"

    change(service, code, pb.TICKET_STATUS_SOLVED)
    closed = change(service, code, pb.TICKET_STATUS_CLOSED)
    assert [h.to_status for h in closed.history] == [
        pb.TICKET_STATUS_NEW,
        pb.TICKET_STATUS_SOLVED,
        pb.TICKET_STATUS_CLOSED,
    ]
    with pytest.raises(grpc.RpcError) as error:
        service.stub.AddTicketMessage(
            pb.AddTicketMessageRequest(
                request_id="m", code=code, author_kind=pb.AUTHOR_KIND_CUSTOMER, author="b", body="hi"
            )
        )
    status, reason, _ = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TICKET_CLOSED")
    assert outbox_types(service).count("ticket_status_changed") == 2


def test_a_ticket_merges_into_another(service: Running) -> None:
    keep, duplicate = open_ticket(service).code, open_ticket(service).code
    merged = change(service, duplicate, pb.TICKET_STATUS_MERGED, merged_into=keep)
    assert (merged.status, merged.merged_into, list(merged.sla)) == (pb.TICKET_STATUS_MERGED, keep, [])
    with pytest.raises(grpc.RpcError) as error:
        change(service, keep, pb.TICKET_STATUS_MERGED, merged_into=keep)
    assert rejected(error.value)[2]["merged_into"] == "a ticket cannot be merged into itself"


def test_replies_open_the_ticket_stop_the_first_response_clock_and_attachments_are_stored(
    service: Running,
) -> None:
    code = open_ticket(service).code
    content = b"%PDF-1.7 proof of delivery"
    request = pb.AddTicketMessageRequest(
        request_id="reply-1",
        code=code,
        author_kind=pb.AUTHOR_KIND_AGENT,
        author="agent ann",
        body="We are asking the carrier.",
        attachments=[pb.Attachment(filename="pod.pdf", content_type="application/pdf", content=content)],
    )
    ticket = service.stub.AddTicketMessage(request).ticket
    assert ticket.status == pb.TICKET_STATUS_OPEN
    [attachment] = ticket.messages[-1].attachments
    digest = hashlib.sha256(content).hexdigest()
    assert (attachment.sha256, attachment.size_bytes, attachment.content) == (digest, len(content), b"")
    assert bootstrap.blob_store(service.settings).get(digest) == content
    first = next(c for c in ticket.sla if c.target == pb.SLA_TARGET_FIRST_RESPONSE)
    assert first.state in (pb.SLA_STATE_HIT, pb.SLA_STATE_MISSED) and first.HasField("met_at")

    note = service.stub.AddTicketMessage(
        pb.AddTicketMessageRequest(
            request_id="note-1",
            code=code,
            author_kind=pb.AUTHOR_KIND_AGENT,
            author="ann",
            body="internal",
            visibility=pb.VISIBILITY_INTERNAL,
        )
    ).ticket
    assert note.messages[-1].visibility == pb.VISIBILITY_INTERNAL


def test_an_attachment_over_the_limit_is_refused_naming_it(service: Running) -> None:
    code = open_ticket(service).code
    limit = CustomerServiceSettings().ticket_attachment_max_bytes
    request = pb.AddTicketMessageRequest(
        request_id="big",
        code=code,
        author_kind=pb.AUTHOR_KIND_CUSTOMER,
        author="buyer",
        body="photos",
        attachments=[
            pb.Attachment(filename="ok.jpg", content_type="image/jpeg", content=b"x"),
            pb.Attachment(filename="big.jpg", content_type="image/jpeg", content=b"x" * (limit + 1)),
        ],
    )
    with pytest.raises(grpc.RpcError) as error:
        service.stub.AddTicketMessage(request)
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "PAYLOAD_TOO_LARGE")
    assert list(violations) == ["attachments[1].content"] and str(limit) in violations["attachments[1].content"]
    assert len(service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket.messages) == 1


def test_a_late_pending_is_inserted_in_the_history_and_recomputes_the_due_time(service: Running) -> None:
    opened = open_ticket(service)
    due_before = next(c for c in opened.sla if c.target == pb.SLA_TARGET_RESOLUTION).due_at.ToDatetime(tzinfo=UTC)
    created = opened.created_at.ToDatetime(tzinfo=UTC)
    change(service, opened.code, pb.TICKET_STATUS_OPEN)
    late = Timestamp()
    late.FromDatetime(created + timedelta(microseconds=1))
    ticket = change(service, opened.code, pb.TICKET_STATUS_PENDING, effective_at=late, reason="recorded late")
    # NEW -> PENDING (late, first by effective time) -> OPEN (recorded earlier): both transitions are legal.
    assert [h.to_status for h in ticket.history] == [
        pb.TICKET_STATUS_NEW,
        pb.TICKET_STATUS_PENDING,
        pb.TICKET_STATUS_OPEN,
    ]
    assert ticket.history[1].recorded_at.ToDatetime(tzinfo=UTC) > ticket.history[1].effective_at.ToDatetime(tzinfo=UTC)
    due_after = next(c for c in ticket.sla if c.target == pb.SLA_TARGET_RESOLUTION).due_at.ToDatetime(tzinfo=UTC)
    assert due_after >= due_before

    future = Timestamp()
    future.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(grpc.RpcError) as error:
        change(service, opened.code, pb.TICKET_STATUS_PENDING, effective_at=future)
    assert rejected(error.value)[2]["effective_at"] == "is in the future"


def test_update_sets_priority_tags_and_assignment(service: Running) -> None:
    code = open_ticket(service, tags=["late"]).code
    request = pb.UpdateTicketRequest(
        request_id="u1",
        code=code,
        priority=pb.TICKET_PRIORITY_URGENT,
        add_tags=["carrier"],
        remove_tags=["late"],
        group="after-sales",
        agent="ann",
    )
    ticket = service.stub.UpdateTicket(request).ticket
    assert (ticket.priority, list(ticket.tags), ticket.group, ticket.agent) == (
        pb.TICKET_PRIORITY_URGENT,
        ["carrier"],
        "after-sales",
        "ann",
    )
    unchanged = service.stub.UpdateTicket(pb.UpdateTicketRequest(request_id="u2", code=code)).ticket
    assert (unchanged.priority, unchanged.group) == (pb.TICKET_PRIORITY_URGENT, "after-sales")


def test_the_breach_sweep_announces_each_target_once_and_escalates(service: Running) -> None:
    code = open_ticket(service).code
    uow, book = bootstrap.uow_factory(service.context), bootstrap.sla_book(service.context)
    assert breaches.sweep(uow, book) == []
    much_later = datetime.now(UTC) + timedelta(days=60)
    assert sorted(breaches.sweep(uow, book, now=lambda: much_later)) == [
        (code, "FIRST_RESPONSE"),
        (code, "RESOLUTION"),
    ]
    assert breaches.sweep(uow, book, now=lambda: much_later) == []
    ticket = service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket
    assert ticket.priority == pb.TICKET_PRIORITY_URGENT  # NORMAL, escalated twice
    service.context.relay.drain()
    breached = [e.payload for e in service.bus.published if e.event_type == "sla_breached"]
    assert [(e["target"], e["priority_before"], e["priority_after"]) for e in breached] == [
        ("FIRST_RESPONSE", "NORMAL", "HIGH"),
        ("RESOLUTION", "HIGH", "URGENT"),
    ]


def test_a_risk_alert_opens_a_ticket_once_and_later_alerts_add_notes(service: Running) -> None:
    uow = bootstrap.uow_factory(service.context)
    payload = {
        "event_id": str(uuid.uuid4()),
        "alert_code": codes.generate("FX"),
        "merchant_code": MERCHANT,
        "subject_kind": "SCREENING",
        "subject_code": codes.generate("HC"),
        "old_verdict": "CLEAR",
        "new_verdict": "BLOCK",
        "reason": "listed by bis_dpl",
        "future_field": "ignored",
    }
    code = consumers.on_risk_alert_raised(uow, payload, datetime.now(UTC))
    assert code is not None
    assert consumers.on_risk_alert_raised(uow, payload, datetime.now(UTC)) is None  # the same event again
    second = {**payload, "event_id": str(uuid.uuid4()), "new_verdict": "REVIEW"}
    assert consumers.on_risk_alert_raised(uow, second, datetime.now(UTC)) == code
    ticket = service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket
    assert (ticket.source, ticket.priority, list(ticket.tags)) == (
        "compliance",
        pb.TICKET_PRIORITY_HIGH,
        ["risk-alert"],
    )
    assert [(m.author_kind, m.visibility) for m in ticket.messages] == [
        (pb.AUTHOR_KIND_SYSTEM, pb.VISIBILITY_INTERNAL)
    ] * 2
    assert "CLEAR -> BLOCK" in ticket.messages[0].body
    assert consumers.on_risk_alert_raised(uow, {"event_id": "x", "merchant_code": "bad"}, datetime.now(UTC)) is None


def test_a_shipment_exception_opens_an_after_sales_ticket_linked_to_it_once(service: Running) -> None:
    uow = bootstrap.uow_factory(service.context)
    shipment = codes.generate("YD")
    change = {
        "event_id": str(uuid.uuid4()),
        "shipment_code": shipment,
        "merchant_code": MERCHANT,
        "waybill_number": "LX12345678CN",
        "previous_status": "IN_TRANSIT",
        "status": "EXCEPTION",
        "sub_status": "ADDRESS_PROBLEM",
        "raw_code": "DE",
    }
    code = consumers.on_shipment_status_changed(uow, change, datetime.now(UTC))
    assert code is not None
    assert consumers.on_shipment_status_changed(uow, change, datetime.now(UTC)) is None  # redelivered
    returned = {**change, "event_id": str(uuid.uuid4()), "previous_status": "RETURNING", "status": "RETURNED"}
    assert consumers.on_shipment_status_changed(uow, returned, datetime.now(UTC)) == code  # still unresolved
    moving = {**change, "event_id": str(uuid.uuid4()), "status": "IN_TRANSIT"}
    assert consumers.on_shipment_status_changed(uow, moving, datetime.now(UTC)) is None  # not a problem
    ticket = service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket
    assert (ticket.type, ticket.source) == (pb.TICKET_TYPE_NOT_RECEIVED, "logistics")
    assert [(link.kind, link.code) for link in ticket.links] == [(pb.LINK_KIND_SHIPMENT, shipment)]
    assert len(ticket.messages) == 2 and "is EXCEPTION (ADDRESS_PROBLEM)" in ticket.messages[0].body
    other = {**change, "event_id": str(uuid.uuid4()), "shipment_code": codes.generate("YD")}
    assert consumers.on_shipment_status_changed(uow, other, datetime.now(UTC)) not in (None, code)


def test_sla_metrics_aggregate_a_merchants_tickets(service: Running) -> None:
    code = open_ticket(service).code
    open_ticket(service)
    service.stub.AddTicketMessage(
        pb.AddTicketMessageRequest(request_id="r", code=code, author_kind=pb.AUTHOR_KIND_AGENT, author="a", body="ok")
    )
    metrics = service.stub.GetSlaMetrics(pb.GetSlaMetricsRequest(merchant_code=MERCHANT))
    first = next(t for t in metrics.targets if t.target == pb.SLA_TARGET_FIRST_RESPONSE)
    assert metrics.tickets == 2 and (first.hit, first.missed, first.attainment_percent) == (1, 0, "100.00")


def test_links_must_exist_in_the_owning_service_and_belong_to_the_merchant(
    service: Running, linked_records: FakeLinkedRecords
) -> None:
    mine = linked_records.add(LinkKind.SHIPMENT, codes.generate("YD"), MERCHANT)
    theirs = linked_records.add(LinkKind.PAYOUT, codes.generate("PY"), codes.generate("MC", "G"))
    collection = linked_records.add(LinkKind.COLLECTION, codes.generate("PY"), MERCHANT)
    cases = [
        (
            [
                pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=mine),
                pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=codes.generate("YD")),
            ],
            "links[1].code",
        ),
        ([pb.LinkedCode(kind=pb.LINK_KIND_PAYOUT, code=theirs)], "links[0].code"),  # another merchant's: not found
        ([pb.LinkedCode(kind=pb.LINK_KIND_PAYOUT, code=collection)], "links[0].code"),  # a collection is no payout
    ]
    for links, field in cases:
        with pytest.raises(grpc.RpcError) as error:
            open_ticket(service, links=links)
        status, reason, violations = rejected(error.value)
        assert (status, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND") and list(violations) == [field]
    assert service.stub.ListTickets(pb.ListTicketsRequest(merchant_code=MERCHANT)).tickets == []
    opened = open_ticket(
        service,
        links=[
            pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=mine),
            pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=collection),
            pb.LinkedCode(kind=pb.LINK_KIND_ORDER, code=codes.generate("DD")),  # orders have no owning service
        ],
    )
    assert len(opened.links) == 3
    assert {service_name for service_name, _ in linked_records.asked} == {"logistics", "payments"}


def test_an_unreachable_owning_service_refuses_the_ticket_and_a_retry_later_opens_it(
    service: Running, linked_records: FakeLinkedRecords
) -> None:
    shipment = linked_records.add(LinkKind.SHIPMENT, codes.generate("YD"), MERCHANT)
    linked_records.down.add("logistics")
    request = pb.OpenTicketRequest(
        request_id="with-a-shipment",
        merchant_code=MERCHANT,
        type=pb.TICKET_TYPE_NOT_RECEIVED,
        subject="Where is it?",
        links=[pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=shipment)],
    )
    with pytest.raises(grpc.RpcError) as error:
        service.stub.OpenTicket(request)
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE") and list(violations) == ["links[0].code"]
    assert "logistics" in violations["links[0].code"]
    assert service.stub.ListTickets(pb.ListTicketsRequest(merchant_code=MERCHANT)).tickets == []
    assert outbox_types(service) == []

    linked_records.down.clear()
    first = service.stub.OpenTicket(request)
    asked = len(linked_records.asked)
    linked_records.down.add("logistics")  # a retry replays the stored answer without asking again
    assert service.stub.OpenTicket(request) == first and len(linked_records.asked) == asked
