"""Satisfaction surveys and macros over real gRPC (port 0), on SQLite and on PostgreSQL: a survey is offered
when a ticket is first solved and rated once; CSAT joins the SLA metrics; macros (a merchant's hiding the
platform's of the same name) apply priority, tags, a reply from a template and a status in one call."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from services.shared import codes
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC", "G")


@pytest.fixture
def service(any_settings: Settings, linked_records: FakeLinkedRecords) -> Iterator[Running]:
    with running_service(any_settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        yield running


def rid() -> str:
    return str(uuid.uuid4())


def open_ticket(service: Running, merchant: str = MERCHANT) -> str:
    request = pb.OpenTicketRequest(
        request_id=rid(), merchant_code=merchant, type=pb.TICKET_TYPE_DAMAGED, subject="Vase arrived broken"
    )
    return str(service.stub.OpenTicket(request).ticket.code)


def solve(service: Running, code: str) -> pb.Ticket:
    return service.stub.ChangeTicketStatus(
        pb.ChangeTicketStatusRequest(request_id=rid(), code=code, status=pb.TICKET_STATUS_SOLVED)
    ).ticket


def events(service: Running) -> list[str]:
    service.context.relay.drain()
    return [event.event_type for event in service.bus.published]


def rate(service: Running, code: str, score: int, comment: str = "", request_id: str = "") -> pb.Ticket:
    request = pb.RateTicketRequest(request_id=request_id or rid(), code=code, score=score, comment=comment)
    return service.stub.RateTicket(request).ticket


def failure(call: object) -> tuple[grpc.StatusCode, str | None, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as error:
        call()  # type: ignore[operator]
    return rejected(error.value)


def test_a_survey_is_offered_on_the_first_solve_and_rated_once(service: Running) -> None:
    code = open_ticket(service)
    assert not service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket.HasField("survey")
    status, _, violations = failure(lambda: rate(service, code, 5))
    assert status == grpc.StatusCode.INVALID_ARGUMENT and "solved" in violations["code"]

    solved = solve(service, code)
    assert solved.survey.HasField("offered_at") and not solved.survey.rated
    service.stub.AddTicketMessage(  # the customer reopens it; solving again offers nothing new
        pb.AddTicketMessageRequest(
            request_id=rid(), code=code, author_kind=pb.AUTHOR_KIND_CUSTOMER, author="buyer", body="Still broken"
        )
    )
    again = solve(service, code)
    assert again.survey.offered_at == solved.survey.offered_at
    assert events(service).count("satisfaction_survey_offered") == 1

    first = rate(service, code, 4, "Quick refund, thanks", request_id="rate-1")
    assert (first.survey.rated, first.survey.score, first.survey.comment) == (True, 4, "Quick refund, thanks")
    assert rate(service, code, 4, "Quick refund, thanks", request_id="rate-1") == first  # replayed
    status, reason, violations = failure(lambda: rate(service, code, 1, "changed my mind"))
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS") and "score" in violations
    status, reason, _ = failure(lambda: rate(service, code, 2, request_id="rate-1"))
    assert reason == "IDEMPOTENCY_CONFLICT"
    assert events(service).count("ticket_rated") == 1
    closed = service.stub.ChangeTicketStatus(
        pb.ChangeTicketStatusRequest(request_id=rid(), code=code, status=pb.TICKET_STATUS_CLOSED)
    ).ticket
    assert closed.survey.score == 4


def test_bad_ratings_name_the_field(service: Running) -> None:
    code = open_ticket(service)
    solve(service, code)
    for score in (0, 6, -1):
        status, _, violations = failure(lambda score=score: rate(service, code, score))  # type: ignore[misc]
        assert status == grpc.StatusCode.INVALID_ARGUMENT and "score" in violations
    status, _, violations = failure(lambda: rate(service, code, 3, "x" * 2001))
    assert "comment" in violations
    status, _, _ = failure(lambda: rate(service, codes.generate("TK"), 3))
    assert status == grpc.StatusCode.NOT_FOUND


def test_csat_joins_the_sla_metrics(service: Running) -> None:
    before = service.stub.GetSlaMetrics(pb.GetSlaMetricsRequest(merchant_code=MERCHANT)).satisfaction
    assert (before.offered, before.rated, before.csat_percent, before.response_rate_percent) == (0, 0, "", "")
    tickets = [open_ticket(service) for _ in range(4)]
    for code in tickets:
        solve(service, code)
    for code, score in zip(tickets, (5, 4, 2), strict=False):
        rate(service, code, score)
    csat = service.stub.GetSlaMetrics(pb.GetSlaMetricsRequest(merchant_code=MERCHANT)).satisfaction
    assert (csat.offered, csat.rated, csat.good, csat.bad) == (4, 3, 2, 1)
    assert (csat.csat_percent, csat.response_rate_percent) == ("66.67", "75.00")
    other = service.stub.GetSlaMetrics(pb.GetSlaMetricsRequest(merchant_code=codes.generate("MC", "G")))
    assert other.satisfaction.offered == 0


def save(service: Running, **fields: Any) -> pb.Macro:
    return service.stub.SaveMacro(pb.SaveMacroRequest(request_id=rid(), macro=pb.Macro(**fields))).macro


def apply(service: Running, code: str, name: str, request_id: str = "") -> pb.Ticket:
    request = pb.ApplyMacroRequest(request_id=request_id or rid(), code=code, macro_name=name, agent="ann")
    return service.stub.ApplyMacro(request).ticket


def test_a_macro_replies_tags_prioritises_and_solves_in_one_call(service: Running) -> None:
    save(
        service,
        name="refund-sent",
        title="Refund sent",
        reply="Hello, {{ticket.code}} ({{ ticket.subject }}): the refund is on its way. {{agent}}",
        status=pb.TICKET_STATUS_SOLVED,
        priority=pb.TICKET_PRIORITY_LOW,
        add_tags=["Refunded"],
        remove_tags=["waiting"],
    )  # a platform macro (no merchant code)
    mine = save(service, merchant_code=MERCHANT, name="refund-sent", reply="Refund for {{merchant.code}} sent.")
    assert (mine.merchant_code, mine.version) == (MERCHANT, 1)
    assert save(service, merchant_code=MERCHANT, name="refund-sent", reply="Refund sent.").version == 2
    save(service, name="escalate", priority=pb.TICKET_PRIORITY_URGENT, add_tags=["escalated"])
    listed = service.stub.ListMacros(pb.ListMacrosRequest(merchant_code=MERCHANT)).macros
    assert [(m.name, m.merchant_code) for m in listed] == [("escalate", ""), ("refund-sent", MERCHANT)]

    other = codes.generate("MC", "G")
    code = open_ticket(service, other)  # another merchant sees only the platform's refund-sent
    service.stub.UpdateTicket(pb.UpdateTicketRequest(request_id=rid(), code=code, add_tags=["waiting"]))
    applied = apply(service, code, "refund-sent", request_id="apply-1")
    assert applied.status == pb.TICKET_STATUS_SOLVED and applied.priority == pb.TICKET_PRIORITY_LOW
    assert list(applied.tags) == ["refunded"]
    assert applied.messages[-1].body == f"Hello, {code} (Vase arrived broken): the refund is on its way. ann"
    assert applied.messages[-1].author_kind == pb.AUTHOR_KIND_AGENT
    assert [h.reason for h in applied.history][-2:] == ["agent replied", "macro refund-sent"]
    assert applied.survey.HasField("offered_at")  # solved through the macro: the survey is offered
    assert apply(service, code, "refund-sent", request_id="apply-1") == applied  # replayed, not re-applied

    own = open_ticket(service)
    assert apply(service, own, "refund-sent").messages[-1].body == "Refund sent."  # the merchant's own wins


def test_a_refused_macro_changes_nothing_and_names_the_field(service: Running) -> None:
    save(service, name="close", status=pb.TICKET_STATUS_CLOSED, reply="Closing.", add_tags=["done"])
    code = open_ticket(service)
    status, reason, violations = failure(lambda: apply(service, code, "close"))
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")
    assert "to CLOSED" in violations["macro_name"]  # after the reply opened it: nothing of it is kept
    ticket = service.stub.GetTicket(pb.GetTicketRequest(code=code)).ticket
    assert list(ticket.tags) == [] and len(ticket.messages) == 0 and ticket.status == pb.TICKET_STATUS_NEW
    status, _, violations = failure(lambda: apply(service, code, "no-such-macro"))
    assert status == grpc.StatusCode.NOT_FOUND and "macro_name" in violations

    status, _, violations = failure(
        lambda: save(service, name="Bad Name", reply="Hi {{customer.name}}", status=pb.TICKET_STATUS_MERGED)
    )
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert {"macro.name", "macro.reply", "macro.status"} <= set(violations)
    assert "customer.name" in violations["macro.reply"]
    status, _, violations = failure(lambda: save(service, name="empty"))
    assert "macro" in violations
