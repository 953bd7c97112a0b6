"""The ODR hand-off over real gRPC (port 0), on SQLite and on PostgreSQL: a complaint unsettled after its
negotiation window escalates with a case file, the case file reaches a file-drop or HTTP provider (later,
when the provider is down), and the provider's statuses drive the ticket."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from services.customer_service import bootstrap
from services.customer_service.adapters.odr_providers import FileDropProvider, HttpProvider
from services.customer_service.domain.linked_records import Tracking, TrackingEvent
from services.customer_service.domain.tickets import LinkKind
from services.customer_service.service_layer import odr
from services.customer_service.settings import CustomerServiceSettings
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC", "G")
POLICY = bootstrap.odr_policy(CustomerServiceSettings())


@pytest.fixture
def service(any_settings: Settings, linked_records: FakeLinkedRecords) -> Iterator[Running]:
    with running_service(any_settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        yield running


def open_ticket(
    service: Running, ticket_type: pb.TicketType = pb.TICKET_TYPE_NOT_RECEIVED, *links: pb.LinkedCode
) -> pb.Ticket:
    request = pb.OpenTicketRequest(
        request_id=str(uuid.uuid4()),
        merchant_code=MERCHANT,
        type=ticket_type,
        subject="Parcel never arrived",
        description="Ordered three weeks ago, tracking stopped in Leipzig.",
        links=list(links),
    )
    return service.stub.OpenTicket(request).ticket


def escalate(service: Running, code: str, **fields: Any) -> pb.OdrCase:
    request = pb.EscalateToOdrRequest(request_id=str(uuid.uuid4()), ticket_code=code, **fields)
    return service.stub.EscalateToOdr(request).case


def report(service: Running, code: str, status: pb.OdrStatus, **fields: Any) -> pb.OdrCase:
    request = pb.RecordOdrStatusRequest(request_id=str(uuid.uuid4()), ticket_code=code, status=status, **fields)
    return service.stub.RecordOdrStatus(request).case


def ticket(service: Running, code: str) -> pb.Ticket:
    return service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket


def published(service: Running) -> list[str]:
    service.context.relay.drain()
    return [event.event_type for event in service.bus.published]


def later(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


def delivered(shipment: str) -> Tracking:
    def event(at: str, status: str, raw: str, location: str) -> TrackingEvent:
        return TrackingEvent(
            datetime.fromisoformat(at), status, "", "", location, f"{status} at {location}", "hermes", raw
        )

    return Tracking(
        shipment,
        MERCHANT,
        "EX123456785CN",
        "DELIVERED",
        "",
        (
            event("2026-11-02T08:00:00+00:00", "IN_TRANSIT", "1510", "Shenzhen"),
            event("2026-11-09T15:30:00+00:00", "DELIVERED", "3500", "Leipzig"),
        ),
    )


def test_a_complaint_unsettled_after_ten_days_escalates_once_with_its_case_file(
    service: Running, linked_records: FakeLinkedRecords
) -> None:
    collection = linked_records.add(LinkKind.COLLECTION, codes.generate("PY"), MERCHANT)
    shipment = codes.generate("YD")
    linked_records.add_tracking(delivered(shipment))
    complaint = open_ticket(
        service,
        pb.TICKET_TYPE_NOT_RECEIVED,
        pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=collection),
        pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=shipment),
    )
    consultation = open_ticket(service, pb.TICKET_TYPE_CONSULTATION)
    photo = b"\x89PNG empty box"
    service.stub.AddTicketMessage(
        pb.AddTicketMessageRequest(
            request_id=str(uuid.uuid4()),
            code=complaint.code,
            author_kind=pb.AUTHOR_KIND_AGENT,
            author="agent-7",
            body="We asked the carrier.",
        )
    )
    service.stub.AddTicketMessage(
        pb.AddTicketMessageRequest(
            request_id=str(uuid.uuid4()),
            code=complaint.code,
            author_kind=pb.AUTHOR_KIND_AGENT,
            author="agent-7",
            visibility=pb.VISIBILITY_INTERNAL,
            body="Carrier says lost; do not admit yet.",
        )
    )
    service.stub.AddTicketMessage(
        pb.AddTicketMessageRequest(
            request_id=str(uuid.uuid4()),
            code=complaint.code,
            author_kind=pb.AUTHOR_KIND_CUSTOMER,
            author=MERCHANT,
            body="Still nothing.",
            attachments=[pb.Attachment(filename="box.png", content_type="image/png", content=photo)],
        )
    )
    uow = bootstrap.uow_factory(service.context)

    assert odr.escalate_due(uow, POLICY, linked_records, lambda: later(9.9)) == []
    assert odr.escalate_due(uow, POLICY, linked_records, lambda: later(10)) == [complaint.code]
    assert (
        odr.escalate_due(uow, POLICY, linked_records, lambda: later(11)) == []
    )  # one case per ticket; consultations never

    case = service.stub.GetOdrCase(pb.GetOdrCaseRequest(ticket_code=complaint.code)).case
    assert (case.status, case.provider, case.reason) == (
        pb.ODR_STATUS_SUBMITTED,
        "file",
        odr.WINDOW_PASSED + " (10 days)",
    )
    assert case.delivery.attempts == 0 and not case.delivery.HasField("delivered_at")
    body = json.loads(case.case_file_json)
    assert body["schema"] == "xborder.odr.case_file/1" and body["consent_version"] == POLICY.consent_version
    assert body["parties"] == [
        {"role": "RESPONDENT", "country": "", "language": "", "contact": "", "merchant_code": MERCHANT}
    ]
    assert body["transaction"]["collections"] == [collection]
    assert body["claim"]["remedy_sought"] == "REFUND" and body["claim"]["type"] == "NOT_RECEIVED"
    messages = body["evidence"]["messages"]
    assert [m["body"] for m in messages] == [
        "Ordered three weeks ago, tracking stopped in Leipzig.",
        "We asked the carrier.",
        "Still nothing.",
    ]  # the internal note stays with us
    assert messages[2]["attachments"] == [
        {
            "filename": "box.png",
            "content_type": "image/png",
            "sha256": hashlib.sha256(photo).hexdigest(),
            "size_bytes": len(photo),
        }
    ]
    assert [h["status"] for h in body["evidence"]["state_history"]] == ["NEW", "OPEN"]
    [tracking] = body["evidence"]["tracking"]
    assert (tracking["shipment_code"], tracking["missing"], tracking["status"]) == (shipment, False, "DELIVERED")
    assert [e["raw_code"] for e in tracking["timeline"]] == ["1510", "3500"]
    assert tracking["proof_of_delivery"]["at"] == "2026-11-09T15:30:00+00:00"
    assert tracking["proof_of_delivery"]["location"] == "Leipzig"
    assert body["negotiation"]["window_days"] == 10 and body["negotiation"]["days_elapsed"] == 10
    assert ticket(service, complaint.code).status == pb.TICKET_STATUS_ON_HOLD
    assert ticket(service, consultation.code).status == pb.TICKET_STATUS_NEW
    assert published(service).count("odr_case_escalated") == 1


def test_the_file_drop_provider_receives_the_stored_case_file(service: Running, tmp_path: Path) -> None:
    code = open_ticket(service).code
    escalate(service, code, reason="customer asked for ODR")
    uow = bootstrap.uow_factory(service.context)
    drop = tmp_path / "drop"

    assert odr.deliver_due(uow, {"file": FileDropProvider(drop)}, POLICY) == [(code, 1, True)]
    assert odr.deliver_due(uow, {"file": FileDropProvider(drop)}, POLICY) == []  # delivered once

    case = service.stub.GetOdrCase(pb.GetOdrCaseRequest(ticket_code=code)).case
    written = (drop / f"{code}-v1.json").read_text(encoding="utf-8")
    assert json.loads(written) == json.loads(case.case_file_json)
    assert case.delivery.attempts == 1 and case.delivery.HasField("delivered_at")
    assert case.delivery.provider_reference == f"{code}-v1.json"


def test_a_provider_that_is_down_gets_the_case_later_with_backoff(service: Running) -> None:
    code = open_ticket(service).code
    escalate(service, code, claimant=pb.OdrParty(country="de", language="de-DE", contact="buyer@example.org"))
    answers: list[httpx.Response | Exception] = [
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.Response(201, json={"reference": "ODR-42"}),
    ]
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = HttpProvider("http://odr.test/cases", 5.0, transport=httpx.MockTransport(provider))
    providers = {"file": http}  # the case was escalated to the configured "file" provider; here it answers over HTTP
    uow = bootstrap.uow_factory(service.context)
    start = utcnow()

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    assert odr.deliver_due(uow, providers, POLICY, lambda: at(1)) == [(code, 1, False)]
    assert odr.deliver_due(uow, providers, POLICY, lambda: at(30)) == []  # waiting out the first backoff (60 s)
    assert odr.deliver_due(uow, providers, POLICY, lambda: at(62)) == [(code, 1, False)]
    case = service.stub.GetOdrCase(pb.GetOdrCaseRequest(ticket_code=code)).case
    assert case.delivery.attempts == 2 and "ConnectError" in case.delivery.last_error
    assert case.delivery.next_attempt_at.ToDatetime().replace(tzinfo=start.tzinfo) == at(62 + 120)
    assert odr.deliver_due(uow, providers, POLICY, lambda: at(62 + 119)) == []
    assert odr.deliver_due(uow, providers, POLICY, lambda: at(62 + 120)) == [(code, 1, True)]

    case = service.stub.GetOdrCase(pb.GetOdrCaseRequest(ticket_code=code)).case
    assert (case.delivery.attempts, case.delivery.provider_reference, case.delivery.last_error) == (3, "ODR-42", "")
    assert len(seen) == 3 and len({r.content for r in seen}) == 1  # the same case file each time
    assert {r.headers["Idempotency-Key"] for r in seen} == {f"{code}-v1"}
    sent = json.loads(seen[0].content)
    assert sent["parties"][0] == {
        "role": "CLAIMANT",
        "country": "DE",
        "language": "de-DE",
        "contact": "buyer@example.org",
    }


def test_when_logistics_is_down_the_case_file_says_the_tracking_evidence_is_missing(
    service: Running, linked_records: FakeLinkedRecords
) -> None:
    shipment = linked_records.add(LinkKind.SHIPMENT, codes.generate("YD"), MERCHANT)
    code = open_ticket(
        service, pb.TICKET_TYPE_NOT_RECEIVED, pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=shipment)
    ).code
    linked_records.down.add("logistics")
    case = escalate(service, code)
    [tracking] = json.loads(case.case_file_json)["evidence"]["tracking"]
    assert (tracking["shipment_code"], tracking["missing"]) == (shipment, True)
    assert "logistics could not be asked" in tracking["reason"]
    assert case.status == pb.ODR_STATUS_SUBMITTED and ticket(service, code).status == pb.TICKET_STATUS_ON_HOLD


def test_provider_statuses_drive_the_ticket_and_a_refund_outcome_is_announced_once(
    service: Running, linked_records: FakeLinkedRecords
) -> None:
    collection = linked_records.add(LinkKind.COLLECTION, codes.generate("PY"), MERCHANT)
    code = open_ticket(
        service, pb.TICKET_TYPE_NOT_RECEIVED, pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=collection)
    ).code
    escalate(service, code)
    for status in (pb.ODR_STATUS_RECEIVED, pb.ODR_STATUS_ACCEPTED, pb.ODR_STATUS_NEGOTIATION):
        case = report(service, code, status, provider_reference="ODR-7")
    again = report(service, code, pb.ODR_STATUS_NEGOTIATION, note="resent by the provider")
    assert again == case  # the same status twice changes nothing

    with pytest.raises(grpc.RpcError) as backwards:
        report(service, code, pb.ODR_STATUS_RECEIVED)
    assert backwards.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "from NEGOTIATION to RECEIVED" in (backwards.value.details() or "")
    with pytest.raises(grpc.RpcError) as skipped:
        report(service, code, pb.ODR_STATUS_DECIDED, outcome=pb.OdrOutcome(summary="x"))
    assert skipped.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # a decision needs the final stage

    with pytest.raises(grpc.RpcError) as unlinked:
        report(
            service,
            code,
            pb.ODR_STATUS_SETTLED,
            outcome=pb.OdrOutcome(
                summary="full refund",
                refund={"currency_code": "USD", "units": 40},
                refund_collection_code=codes.generate("PY"),
            ),
        )
    assert rejected(unlinked.value)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert "outcome.refund_collection_code" in rejected(unlinked.value)[2]
    with pytest.raises(grpc.RpcError) as bare:
        report(service, code, pb.ODR_STATUS_SETTLED)
    assert "outcome" in rejected(bare.value)[2]

    settle = pb.RecordOdrStatusRequest(
        request_id=str(uuid.uuid4()),
        ticket_code=code,
        status=pb.ODR_STATUS_SETTLED,
        outcome=pb.OdrOutcome(
            summary="merchant refunds 40.00 USD",
            refund={"currency_code": "USD", "units": 40},
            refund_collection_code=collection,
        ),
    )
    first = service.stub.RecordOdrStatus(settle)
    assert service.stub.RecordOdrStatus(settle) == first  # a retried request is answered the same
    report(service, code, pb.ODR_STATUS_SETTLED, outcome=settle.outcome)  # the provider reports it again

    settled = first.case
    assert [e.status for e in settled.history] == [
        pb.ODR_STATUS_SUBMITTED,
        pb.ODR_STATUS_RECEIVED,
        pb.ODR_STATUS_ACCEPTED,
        pb.ODR_STATUS_NEGOTIATION,
        pb.ODR_STATUS_SETTLED,
    ]
    assert settled.outcome.refund.units == 40 and settled.outcome.refund_collection_code == collection
    solved = ticket(service, code)
    assert solved.status == pb.TICKET_STATUS_SOLVED
    assert solved.messages[-1].body == "ODR SETTLED: merchant refunds 40.00 USD"
    assert solved.messages[-1].visibility == pb.VISIBILITY_INTERNAL
    assert published(service).count("odr_refund_requested") == 1
    with pytest.raises(grpc.RpcError) as ended:
        report(service, code, pb.ODR_STATUS_WITHDRAWN)
    assert ended.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_rejected_case_hands_the_complaint_back(service: Running) -> None:
    code = open_ticket(service).code
    escalate(service, code)
    report(service, code, pb.ODR_STATUS_REJECTED, note="outside our remit")
    assert ticket(service, code).status == pb.TICKET_STATUS_OPEN
    assert published(service).count("odr_refund_requested") == 0


def test_bad_escalations_are_refused_naming_the_field(service: Running) -> None:
    code = open_ticket(service).code
    question = open_ticket(service, pb.TICKET_TYPE_CONSULTATION).code
    with pytest.raises(grpc.RpcError) as consultation:
        escalate(service, question)
    assert rejected(consultation.value)[0] == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as unknown:
        escalate(service, codes.generate("TK", "G"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as party:
        escalate(service, code, claimant=pb.OdrParty(country="Germany", language="de DE"))
    assert set(rejected(party.value)[2]) == {"claimant.country", "claimant.language"}
    with pytest.raises(grpc.RpcError) as no_case:
        report(service, code, pb.ODR_STATUS_RECEIVED)
    assert no_case.value.code() == grpc.StatusCode.NOT_FOUND
    escalate(service, code)
    with pytest.raises(grpc.RpcError) as twice:
        escalate(service, code)
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as submitted:
        report(service, code, pb.ODR_STATUS_SUBMITTED)
    assert "status" in rejected(submitted.value)[2]


def test_the_worker_and_the_embedded_runtime_run_the_odr_sweeps(service: Running) -> None:
    tasks = {name: (interval, task) for name, interval, task in bootstrap.periodic_tasks(service.context)}
    assert {"odr_escalations", "odr_deliveries"} <= set(tasks)
    assert tasks["odr_escalations"][0] == tasks["odr_deliveries"][0] == CustomerServiceSettings().odr_sweep_s
    code = open_ticket(service).code
    escalate(service, code)
    assert tasks["odr_deliveries"][1]() == [(code, 1, True)]  # the configured file drop under var/
    dropped = service.settings.var_dir / "customer_service" / "odr_cases" / f"{code}-v1.json"
    assert json.loads(dropped.read_text(encoding="utf-8"))["case"]["ticket_code"] == code


def test_operators_list_cases_and_a_retry_tries_the_delivery_now_once_per_request(service: Running) -> None:
    first, second = open_ticket(service).code, open_ticket(service, pb.TICKET_TYPE_DAMAGED).code
    escalate(service, first)
    escalate(service, second)
    report(service, second, pb.ODR_STATUS_ACCEPTED)
    listed = service.stub.ListOdrCases(pb.ListOdrCasesRequest())
    assert [c.ticket_code for c in listed.cases] == [second, first]  # newest escalation first
    assert all(c.case_file_json == "" and c.case_file_sha256 for c in listed.cases)
    accepted = service.stub.ListOdrCases(pb.ListOdrCasesRequest(status=pb.ODR_STATUS_ACCEPTED)).cases
    assert [c.ticket_code for c in accepted] == [second]
    paged = service.stub.ListOdrCases(pb.ListOdrCasesRequest(page_size=1))
    assert len(paged.cases) == 1 and paged.next_page_token == "1"
    other = codes.generate("MC", "G")
    assert service.stub.ListOdrCases(pb.ListOdrCasesRequest(merchant_code=other)).cases == []

    drop = service.settings.var_dir / "customer_service" / "odr_cases"
    drop.parent.mkdir(parents=True, exist_ok=True)
    drop.write_text("not a directory")
    retry = pb.RetryOdrDeliveryRequest(request_id="retry-now", ticket_code=first)
    failed = service.stub.RetryOdrDelivery(retry).case.delivery
    assert failed.attempts == 1 and "cannot write" in failed.last_error and not failed.HasField("delivered_at")
    drop.unlink()
    again = service.stub.RetryOdrDelivery(retry).case.delivery  # the same request: replayed, not retried
    assert again == failed
    delivered = service.stub.RetryOdrDelivery(pb.RetryOdrDeliveryRequest(request_id="retry-2", ticket_code=first))
    assert delivered.case.delivery.HasField("delivered_at") and delivered.case.delivery.attempts == 2
    undelivered = service.stub.ListOdrCases(pb.ListOdrCasesRequest(undelivered_only=True)).cases
    assert [c.ticket_code for c in undelivered] == [second]

    with pytest.raises(grpc.RpcError) as none:
        service.stub.RetryOdrDelivery(pb.RetryOdrDeliveryRequest(request_id="r3", ticket_code=codes.generate("TK")))
    assert none.value.code() == grpc.StatusCode.NOT_FOUND and "ticket_code" in rejected(none.value)[2]
