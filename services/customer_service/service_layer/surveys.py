"""Rating a solved ticket's satisfaction survey (offered by tickets.offer_survey when it is first solved)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from xborder.customer_service.v1 import events_pb2

from services.customer_service.domain.sla import SlaBook
from services.customer_service.domain.surveys import GOOD_FROM
from services.customer_service.service_layer.tickets import M, Render, UowFactory, _load, _once, view
from services.customer_service.service_layer.unit_of_work import CustomerServiceUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import ValidationError
from services.shared.idempotency import Request


@dataclass(frozen=True)
class Rate:
    request: Request
    code: str
    score: int
    comment: str


def rate_ticket(
    uow_factory: UowFactory,
    book: SlaBook,
    command: Rate,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Record the rating once: the same request again replays the answer, another rating is ALREADY_EXISTS.
    A ticket not yet solved has no survey to rate (a reopened one keeps the survey it was offered)."""

    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = _load(uow, command.code)
        survey = uow.surveys.get(ticket.code, for_update=True)
        if survey is None:
            raise ValidationError.single(
                "code", f"ticket {ticket.code} is {ticket.status.value}: a survey is offered when it is solved"
            )
        rated = survey.rate(command.score, command.comment, at)
        uow.surveys.save_rating(rated)
        event = events_pb2.TicketRated(
            ticket_code=ticket.code,
            merchant_code=ticket.merchant_code,
            score=command.score,
            good=command.score >= GOOD_FROM,
        )
        event.occurred_at.FromDatetime(at)
        uow.emit(event)
        return render(view(uow, book, ticket, at))

    return _once(uow_factory, command.request, response_type, work)
