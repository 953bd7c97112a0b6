"""Ticket use cases. Each mutating one runs once per request id (services/shared/idempotency.py) and
commits the ticket's rows and its events together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, cast

from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.customer_service.v1 import events_pb2

from services.customer_service.adapters.blobs import BlobStore
from services.customer_service.domain import tickets as domain
from services.customer_service.domain.sla import Clock, SlaBook, TargetMetrics, aggregate
from services.customer_service.domain.surveys import Satisfaction, Survey, satisfaction
from services.customer_service.domain.tickets import (
    Attachment,
    AuthorKind,
    Link,
    Message,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
    Visibility,
)
from services.customer_service.service_layer.linked_records import LinkedRecords, check_links, needs_check
from services.customer_service.service_layer.unit_of_work import CustomerServiceUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, ValidationError
from services.shared.idempotency import Request, replayed, run_idempotent

UowFactory = Callable[[], CustomerServiceUnitOfWork]
M = TypeVar("M", bound=ProtoMessage)


@dataclass(frozen=True)
class TicketView:
    """A ticket with its SLA clocks as of `at`: what every response shows."""

    ticket: Ticket
    clocks: list[Clock]
    survey: Survey | None = None


Render = Callable[[TicketView], M]


@dataclass(frozen=True)
class TicketSpec:
    """What a new ticket is made of."""

    merchant_code: str
    type: TicketType
    subject: str
    description: str
    priority: Priority
    tags: frozenset[str]
    links: tuple[Link, ...]
    source: str = "api"


@dataclass(frozen=True)
class OpenTicket:
    request: Request
    spec: TicketSpec


@dataclass(frozen=True)
class ChangeStatus:
    request: Request
    code: str
    status: Status
    effective_at: datetime | None
    reason: str
    merged_into: str = ""


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class AddMessage:
    request: Request
    code: str
    author_kind: AuthorKind
    author: str
    visibility: Visibility
    body: str
    attachments: tuple[NewAttachment, ...] = ()


@dataclass(frozen=True)
class UpdateTicket:
    request: Request
    code: str
    priority: Priority | None
    add_tags: frozenset[str]
    remove_tags: frozenset[str]
    group: str | None
    agent: str | None


def _zone(merchant_code: str) -> str:
    # The ticket lives where its merchant's master record lives (third character of the unified code).
    return merchant_code[2]


def _once(
    uow_factory: UowFactory, request: Request, response_type: type[M], work: Callable[[CustomerServiceUnitOfWork], M]
) -> M:
    # run_idempotent's structural type for a unit of work declares `__exit__(*exc: object)`, which no
    # UnitOfWork subclass matches under mypy; the runtime contract is the same.
    return run_idempotent(cast(Any, uow_factory), request, response_type, work)


def new_ticket(command: TicketSpec, now: datetime) -> Ticket:
    messages: tuple[Message, ...] = ()
    if command.description:
        messages = (
            Message(1, AuthorKind.CUSTOMER, command.merchant_code, Visibility.PUBLIC, command.description, now),
        )
    return Ticket(
        code=codes.generate("TK", _zone(command.merchant_code), at=now),
        merchant_code=command.merchant_code,
        type=command.type,
        subject=command.subject,
        priority=command.priority,
        created_at=now,
        history=(StatusChange(Status.NEW, now, now, 1, "opened"),),
        tags=command.tags,
        links=command.links,
        messages=messages,
        source=command.source,
    )


def opened_event(ticket: Ticket) -> events_pb2.TicketOpened:
    event = events_pb2.TicketOpened(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        type=ticket.type.value,
        priority=ticket.priority.name,
        linked_codes=[link.code for link in ticket.links],
    )
    event.occurred_at.FromDatetime(ticket.created_at)
    return event


def status_event(ticket: Ticket, before: Status, change: StatusChange) -> events_pb2.TicketStatusChanged:
    event = events_pb2.TicketStatusChanged(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        from_status=before.value,
        to_status=change.status.value,
        effective_at=_timestamp(change.effective_at),
    )
    event.occurred_at.FromDatetime(change.recorded_at)
    return event


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def open_ticket(
    uow_factory: UowFactory,
    book: SlaBook,
    command: OpenTicket,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
    *,
    records: LinkedRecords,
) -> M:
    """Check the links with the services that own them (outside any transaction: a slow service holds no
    lock), then open the ticket. A retry gets the first answer without asking them again."""
    if needs_check(command.spec.links):
        earlier = replayed(cast(Any, uow_factory), command.request, response_type)
        if earlier is not None:
            return earlier
        check_links(records, command.spec.merchant_code, command.spec.links)

    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = new_ticket(command.spec, at)
        uow.tickets.add(ticket)
        uow.emit(opened_event(ticket))
        return render(view(uow, book, ticket, at))

    return _once(uow_factory, command.request, response_type, work)


def view(uow: CustomerServiceUnitOfWork, book: SlaBook, ticket: Ticket, at: datetime) -> TicketView:
    return TicketView(ticket, book.clocks(ticket, at), uow.surveys.get(ticket.code))


def _load(uow: CustomerServiceUnitOfWork, code: str, field: str = "code") -> Ticket:
    ticket = uow.tickets.get(code, for_update=True)
    if ticket is None:
        raise NotFound(f"no ticket {code}", field=field)
    return ticket


def record_change(
    uow: CustomerServiceUnitOfWork,
    ticket: Ticket,
    status: Status,
    effective_at: datetime,
    recorded_at: datetime,
    reason: str,
    merged_into: str = "",
) -> Ticket:
    """Insert a change into the history (at its effective time), store it and emit ticket_status_changed."""
    change = StatusChange(status, effective_at, recorded_at, max(c.sequence for c in ticket.history) + 1, reason)
    changed = domain.with_change(ticket, change, merged_into)
    # The status just before the new entry by effective time: the current one unless inserted in the past.
    before = changed.history[changed.history.index(change) - 1].status
    uow.tickets.add_change(ticket.code, change)
    uow.tickets.save_attributes(changed)
    uow.emit(status_event(changed, before, change))
    if changed.status is Status.SOLVED:
        offer_survey(uow, changed, recorded_at)
    return changed


def offer_survey(uow: CustomerServiceUnitOfWork, ticket: Ticket, at: datetime) -> None:
    """The first time a ticket is solved it is offered a satisfaction survey (once per ticket)."""
    if uow.surveys.get(ticket.code) is not None:
        return
    uow.surveys.add(Survey(ticket.code, ticket.merchant_code, at))
    event = events_pb2.SatisfactionSurveyOffered(ticket_code=ticket.code, merchant_code=ticket.merchant_code)
    event.occurred_at.FromDatetime(at)
    uow.emit(event)


def change_status(
    uow_factory: UowFactory,
    book: SlaBook,
    command: ChangeStatus,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = _load(uow, command.code)
        ticket.require_changeable()
        effective = command.effective_at or at
        if effective < ticket.created_at:
            raise ValidationError.single(
                "effective_at", f"is before the ticket was opened ({ticket.created_at.isoformat()})"
            )
        if effective > at:
            raise ValidationError.single("effective_at", "is in the future")
        merged_into = ""
        if command.status is Status.MERGED:
            if command.merged_into == ticket.code:
                raise ValidationError.single("merged_into", "a ticket cannot be merged into itself")
            target = uow.tickets.get(command.merged_into, messages=False)
            if target is None:
                raise NotFound(f"no ticket {command.merged_into}", field="merged_into")
            if target.status in domain.FINAL:
                raise ValidationError.single("merged_into", f"ticket {target.code} is {target.status.value}")
            merged_into = target.code
        changed = record_change(uow, ticket, command.status, effective, at, command.reason, merged_into)
        return render(view(uow, book, changed, at))

    return _once(uow_factory, command.request, response_type, work)


def append_message(
    uow: CustomerServiceUnitOfWork,
    blobs: BlobStore,
    ticket: Ticket,
    author_kind: AuthorKind,
    author: str,
    visibility: Visibility,
    body: str,
    attachments: tuple[NewAttachment, ...],
    at: datetime,
) -> Ticket:
    """Store a message (its attachments in the blob store) and the status move it implies."""
    ticket.require_changeable()
    stored = []
    for attachment in attachments:
        sha256, size = blobs.put(attachment.content)
        stored.append(Attachment(attachment.filename, attachment.content_type, sha256, size))
    sequence = max((m.sequence for m in ticket.messages), default=0) + 1
    message = Message(sequence, author_kind, author, visibility, body, at, tuple(stored))
    uow.tickets.add_message(ticket.code, message)
    follow = domain.automatic_status(ticket, message)
    ticket = replace(ticket, messages=(*ticket.messages, message))
    if follow is not None:
        reason = "agent replied" if message.is_response else "customer replied"
        ticket = record_change(uow, ticket, follow, at, at, reason)
    return ticket


def add_message(
    uow_factory: UowFactory,
    book: SlaBook,
    blobs: BlobStore,
    command: AddMessage,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = append_message(
            uow,
            blobs,
            _load(uow, command.code),
            command.author_kind,
            command.author,
            command.visibility,
            command.body,
            command.attachments,
            at,
        )
        return render(view(uow, book, ticket, at))

    return _once(uow_factory, command.request, response_type, work)


def apply_update(
    uow: CustomerServiceUnitOfWork,
    ticket: Ticket,
    priority: Priority | None,
    add_tags: frozenset[str],
    remove_tags: frozenset[str],
    group: str | None = None,
    agent: str | None = None,
) -> Ticket:
    ticket.require_changeable()
    ticket = replace(
        ticket,
        priority=priority or ticket.priority,
        tags=(ticket.tags | add_tags) - remove_tags,
        group=ticket.group if group is None else group,
        agent=ticket.agent if agent is None else agent,
    )
    uow.tickets.save_attributes(ticket)
    return ticket


def update_ticket(
    uow_factory: UowFactory,
    book: SlaBook,
    command: UpdateTicket,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = apply_update(
            uow,
            _load(uow, command.code),
            command.priority,
            command.add_tags,
            command.remove_tags,
            command.group,
            command.agent,
        )
        return render(view(uow, book, ticket, at))

    return _once(uow_factory, command.request, response_type, work)


def get_ticket(uow_factory: UowFactory, book: SlaBook, code: str, now: Callable[[], datetime] = utcnow) -> TicketView:
    with uow_factory() as uow:
        ticket = uow.tickets.get(code)
        if ticket is None:
            raise NotFound(f"no ticket {code}", field="code")
        return view(uow, book, ticket, now())


def list_tickets(
    uow_factory: UowFactory,
    book: SlaBook,
    merchant_code: str,
    status: Status | None,
    offset: int,
    size: int,
    now: Callable[[], datetime] = utcnow,
) -> tuple[list[TicketView], bool]:
    """One page (newest first) and whether more follow."""
    with uow_factory() as uow:
        found = uow.tickets.page(merchant_code, status, offset, size + 1)
    at = now()
    return [TicketView(t, book.clocks(t, at)) for t in found[:size]], len(found) > size


def sla_metrics(
    uow_factory: UowFactory, book: SlaBook, merchant_code: str, now: Callable[[], datetime] = utcnow
) -> tuple[int, list[TargetMetrics], Satisfaction]:
    with uow_factory() as uow:
        found = uow.tickets.for_merchant(merchant_code)
        surveys = uow.surveys.for_merchant(merchant_code)
    at = now()
    return len(found), aggregate([book.clocks(t, at) for t in found]), satisfaction(surveys)
