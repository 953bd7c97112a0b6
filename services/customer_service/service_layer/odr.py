"""ODR use cases: escalate a complaint (by an operator, or when its negotiation window passes), deliver the
case file to its provider with retry and backoff, and record the provider's statuses, which drive the ticket.

Escalation stores the case, case file version 1 and a pending delivery row in the same transaction as
`odr_case_escalated`: the delivery row is the case file's outbox. The delivery task reads due rows, calls
the provider outside any transaction (a slow provider holds no lock) and records the attempt: delivered, or
failed with the next try after a doubling wait. Nothing is lost while a provider is down; a provider may
see the same version twice if two workers race (the HTTP adapter sends an Idempotency-Key for that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from xborder.customer_service.v1 import events_pb2

from services.customer_service.adapters.odr_providers import OdrProvider, ProviderUnavailable
from services.customer_service.adapters.odr_repository import Delivery, canonical
from services.customer_service.domain import odr as domain
from services.customer_service.domain.odr import (
    Claim,
    OdrCase,
    OdrStatus,
    OdrStatusChange,
    Outcome,
    Party,
    Remedy,
)
from services.customer_service.domain.tickets import (
    FINAL,
    TRANSITIONS,
    AuthorKind,
    LinkKind,
    Message,
    Status,
    Ticket,
    Visibility,
)
from services.customer_service.service_layer.linked_records import LinkedRecords, TrackingFound, gather_tracking
from services.customer_service.service_layer.tickets import M, UowFactory, _load, _once, record_change
from services.customer_service.service_layer.unit_of_work import CustomerServiceUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import AlreadyExists, NotFound, ValidationError
from services.shared.idempotency import Request, replayed
from services.shared.logs import get_logger
from services.shared.money import Money, to_proto

log = get_logger(__name__)

WINDOW_PASSED = "negotiation window passed"


@dataclass(frozen=True)
class OdrPolicy:
    provider: str
    negotiation_days: int
    consent_version: str
    retry_base: timedelta
    retry_ceiling: timedelta

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.negotiation_days)


@dataclass(frozen=True)
class OdrView:
    case: OdrCase
    delivery: Delivery | None
    case_file_json: str
    case_file_sha256: str


Render = Callable[[OdrView], M]


@dataclass(frozen=True)
class Escalate:
    request: Request
    ticket_code: str
    reason: str
    claimant: Party | None
    remedy: Remedy | None
    amount: Money | None
    statement: str


@dataclass(frozen=True)
class RecordStatus:
    request: Request
    ticket_code: str
    status: OdrStatus
    note: str
    provider_reference: str
    outcome: Outcome | None


# -- escalation --


def _view(uow: CustomerServiceUnitOfWork, case: OdrCase) -> OdrView:
    stored = uow.odr.case_file(case.ticket_code, case.version)
    body, sha = stored if stored is not None else ({}, "")
    return OdrView(case, uow.odr.delivery(case.ticket_code, case.version), canonical(body), sha)


def _note(uow: CustomerServiceUnitOfWork, ticket: Ticket, body: str, at: datetime) -> Ticket:
    """An internal SYSTEM note: part of the negotiation record, never a response for the SLA clocks."""
    sequence = max((m.sequence for m in ticket.messages), default=0) + 1
    message = Message(sequence, AuthorKind.SYSTEM, "odr", Visibility.INTERNAL, body, at)
    uow.tickets.add_message(ticket.code, message)
    return replace(ticket, messages=(*ticket.messages, message))


def _move(uow: CustomerServiceUnitOfWork, ticket: Ticket, status: Status, at: datetime, reason: str) -> Ticket:
    """Move the ticket when the move is legal and needed; a ticket someone already moved on is left alone."""
    if ticket.status in FINAL or ticket.status is status or status not in TRANSITIONS[ticket.status]:
        return ticket
    return record_change(uow, ticket, status, at, at, reason)


def _escalate(
    uow: CustomerServiceUnitOfWork,
    ticket: Ticket,
    policy: OdrPolicy,
    at: datetime,
    *,
    reason: str,
    claimant: Party | None = None,
    claim: Claim | None = None,
    tracking: Mapping[str, TrackingFound] | None = None,
) -> OdrCase:
    why = domain.escalatable(ticket)
    if why is not None:
        raise ValidationError.single("ticket_code", why)
    if uow.odr.get(ticket.code) is not None:
        raise AlreadyExists(f"ticket {ticket.code} is already at ODR", field="ticket_code")
    respondent = Party("RESPONDENT", "", "", "", ticket.merchant_code)
    parties = (respondent,) if claimant is None else (claimant, respondent)
    claim = claim or Claim(domain.DEFAULT_REMEDY[ticket.type])
    case = OdrCase(
        ticket.code,
        ticket.merchant_code,
        policy.provider,
        1,
        at,
        reason,
        (OdrStatusChange(OdrStatus.SUBMITTED, at, 1, reason),),
    )
    body = domain.case_file(
        ticket,
        version=1,
        provider=policy.provider,
        parties=parties,
        claim=claim,
        consent_version=policy.consent_version,
        negotiation_days=policy.negotiation_days,
        created_at=at,
        tracking=tracking,
    )
    uow.odr.add(case, body, at)
    ticket = _note(uow, ticket, f"escalated to ODR provider {policy.provider}: {reason}", at)
    _move(uow, ticket, Status.ON_HOLD, at, f"at ODR ({policy.provider})")
    event = events_pb2.OdrCaseEscalated(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        provider=policy.provider,
        version=1,
        case_file_sha256=hashlib.sha256(canonical(body).encode()).hexdigest(),
        reason=reason,
    )
    event.occurred_at.FromDatetime(at)
    uow.emit(event)
    return case


def _tracking_for(uow_factory: UowFactory, records: LinkedRecords, code: str) -> dict[str, TrackingFound]:
    """The linked shipments' tracking, asked of logistics before the escalation's transaction."""
    with uow_factory() as uow:
        ticket = uow.tickets.get(code, messages=False)
    return {} if ticket is None else gather_tracking(records, ticket.merchant_code, ticket.links)


def escalate(
    uow_factory: UowFactory,
    policy: OdrPolicy,
    command: Escalate,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
    *,
    records: LinkedRecords,
) -> M:
    earlier = replayed(cast(Any, uow_factory), command.request, response_type)
    if earlier is not None:
        return earlier
    tracking = _tracking_for(uow_factory, records, command.ticket_code)

    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = _load(uow, command.ticket_code, "ticket_code")
        remedy = command.remedy or domain.DEFAULT_REMEDY.get(ticket.type, Remedy.OTHER)
        claim = Claim(
            remedy,
            None if command.amount is None else command.amount.amount,
            "" if command.amount is None else command.amount.currency,
            command.statement,
        )
        case = _escalate(
            uow,
            ticket,
            policy,
            at,
            reason=command.reason or "escalated by an operator",
            claimant=command.claimant,
            claim=claim,
            tracking=tracking,
        )
        return render(_view(uow, case))

    return _once(uow_factory, command.request, response_type, work)


def escalate_due(
    uow_factory: UowFactory, policy: OdrPolicy, records: LinkedRecords, now: Callable[[], datetime] = utcnow
) -> list[str]:
    """Escalate every complaint whose negotiation window has passed unsettled; the codes escalated."""
    with uow_factory() as uow:
        candidates = uow.odr.escalation_candidates(
            [t.value for t in domain.ESCALATABLE],
            [s.value for s in domain.NEGOTIATING],
            now() - policy.window,
        )
    escalated = []
    for code in candidates:
        tracking = _tracking_for(uow_factory, records, code)
        with uow_factory() as uow:
            uow.lock_for_write()
            ticket = uow.tickets.get(code, for_update=True)
            at = now()
            if ticket is None or not domain.due_for_escalation(ticket, at, policy.window):
                continue
            if uow.odr.get(code, for_update=True) is not None:
                continue
            reason = f"{WINDOW_PASSED} ({policy.negotiation_days} days)"
            _escalate(uow, ticket, policy, at, reason=reason, tracking=tracking)
            uow.commit()
        escalated.append(code)
    if escalated:
        log.info("odr_escalated", count=len(escalated))
    return escalated


# -- delivery --


def deliver_due(
    uow_factory: UowFactory,
    providers: Mapping[str, OdrProvider],
    policy: OdrPolicy,
    now: Callable[[], datetime] = utcnow,
) -> list[tuple[str, int, bool]]:
    """Try every due delivery once: (ticket code, version, delivered) for each attempt."""
    with uow_factory() as uow:
        due = uow.odr.due_deliveries(now())
    results = []
    for code, version in due:
        delivered = _attempt(uow_factory, providers, policy, code, version, now)
        if delivered is not None:
            results.append((code, version, delivered))
    return results


def _attempt(
    uow_factory: UowFactory,
    providers: Mapping[str, OdrProvider],
    policy: OdrPolicy,
    code: str,
    version: int,
    now: Callable[[], datetime],
) -> bool | None:
    """One delivery attempt of a case file version: delivered or not; None when there was nothing to do."""
    with uow_factory() as uow:
        delivery = uow.odr.delivery(code, version)
        stored = uow.odr.case_file(code, version)
    if delivery is None or stored is None or delivery.delivered_at is not None:
        return None
    reference, error = "", ""
    provider = providers.get(delivery.provider)
    try:
        if provider is None:
            raise ProviderUnavailable(f"provider {delivery.provider!r} is not configured")
        reference = provider.submit(stored[0])
    except ProviderUnavailable as failure:
        error = str(failure) or type(failure).__name__
    at = now()
    wait = domain.backoff(delivery.attempts + 1, policy.retry_base, policy.retry_ceiling)
    with uow_factory() as uow:
        uow.lock_for_write()
        current = uow.odr.delivery(code, version, for_update=True)
        if current is None or current.delivered_at is not None:
            return None  # another worker delivered it meanwhile
        uow.odr.record_attempt(
            code, version, at=at, next_attempt_at=at + wait if error else at, reference=reference, error=error
        )
        uow.commit()
    if error:
        log.warning("odr_delivery_failed", ticket=code, version=version, attempt=delivery.attempts + 1, error=error)
    return not error


@dataclass(frozen=True)
class RetryDelivery:
    request: Request
    ticket_code: str


def retry_delivery(
    uow_factory: UowFactory,
    providers: Mapping[str, OdrProvider],
    policy: OdrPolicy,
    command: RetryDelivery,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Try the case's current case file now, whatever its backoff; the answer shows the attempt. The provider
    is called outside any transaction; the answer is then stored under the request id, so a retry of the
    request replays it rather than calling the provider again."""
    earlier = replayed(cast(Any, uow_factory), command.request, response_type)
    if earlier is not None:
        return earlier
    with uow_factory() as uow:
        case = uow.odr.get(command.ticket_code)
    if case is None:
        raise NotFound(f"ticket {command.ticket_code} has no ODR case", field="ticket_code")
    _attempt(uow_factory, providers, policy, case.ticket_code, case.version, now)

    def work(uow: CustomerServiceUnitOfWork) -> M:
        current = uow.odr.get(command.ticket_code)
        assert current is not None  # cases are never deleted
        return render(_view(uow, current))

    return _once(uow_factory, command.request, response_type, work)


def list_cases(
    uow_factory: UowFactory,
    status: OdrStatus | None,
    merchant_code: str,
    undelivered_only: bool,
    offset: int,
    size: int,
) -> tuple[list[OdrView], bool]:
    """One page of cases, newest escalation first, and whether more follow."""
    with uow_factory() as uow:
        codes = uow.odr.page(
            None if status is None else status.value, merchant_code, undelivered_only, offset, size + 1
        )
        views = []
        for code in codes[:size]:
            case = uow.odr.get(code)
            if case is not None:
                views.append(_view(uow, case))
    return views, len(codes) > size


# -- provider statuses --

_TICKET_FOLLOWS = {
    OdrStatus.SETTLED: Status.SOLVED,
    OdrStatus.DECIDED: Status.SOLVED,
    OdrStatus.REJECTED: Status.OPEN,  # the platform owns the complaint again
    OdrStatus.WITHDRAWN: Status.OPEN,
}


def _refund_event(ticket: Ticket, status: OdrStatus, outcome: Outcome, at: datetime) -> events_pb2.OdrRefundRequested:
    assert outcome.refund_amount is not None
    amount = Money.of(outcome.refund_amount, outcome.refund_currency, field="outcome.refund")
    event = events_pb2.OdrRefundRequested(
        ticket_code=ticket.code,
        merchant_code=ticket.merchant_code,
        collection_code=outcome.refund_collection,
        outcome_status=status.value,
    )
    event.amount.CopyFrom(to_proto(amount))
    event.occurred_at.FromDatetime(at)
    return event


def _check_outcome(ticket: Ticket, status: OdrStatus, outcome: Outcome | None) -> None:
    if status in domain.WITH_OUTCOME and outcome is None:
        raise ValidationError.single("outcome", f"is required with {status.value}")
    if status not in domain.WITH_OUTCOME and outcome is not None:
        raise ValidationError.single("outcome", f"only with SETTLED or DECIDED, not {status.value}")
    if outcome is not None and outcome.refunds:
        collections = {link.code for link in ticket.links if link.kind is LinkKind.COLLECTION}
        if outcome.refund_collection not in collections:
            raise ValidationError.single(
                "outcome.refund_collection_code",
                f"{outcome.refund_collection or '(empty)'} is not a collection linked to ticket {ticket.code}",
            )


def record_status(
    uow_factory: UowFactory,
    command: RecordStatus,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        case = uow.odr.get(command.ticket_code, for_update=True)
        if case is None:
            raise NotFound(f"ticket {command.ticket_code} has no ODR case", field="ticket_code")
        status = case.next(command.status)
        if status is None:
            return render(_view(uow, case))  # the same report again: nothing changes
        ticket = _load(uow, command.ticket_code, "ticket_code")
        _check_outcome(ticket, status, command.outcome)
        change = OdrStatusChange(status, at, case.history[-1].sequence + 1, command.note, command.provider_reference)
        uow.odr.add_status(case.ticket_code, change)
        case = replace(case, history=(*case.history, change))
        text = f"ODR {status.value}" + (f": {command.note}" if command.note else "")
        if command.outcome is not None:
            uow.odr.set_outcome(case.ticket_code, command.outcome)
            case = replace(case, outcome=command.outcome)
            text = f"ODR {status.value}: {command.outcome.summary}"
            if command.outcome.refunds:
                uow.emit(_refund_event(ticket, status, command.outcome, at))
        if ticket.status not in FINAL:
            ticket = _note(uow, ticket, text, at)
            _move(uow, ticket, _TICKET_FOLLOWS.get(status, Status.ON_HOLD), at, text[:200])
        return render(_view(uow, case))

    return _once(uow_factory, command.request, response_type, work)


def get_case(uow_factory: UowFactory, code: str) -> OdrView:
    with uow_factory() as uow:
        case = uow.odr.get(code)
        if case is None:
            raise NotFound(f"ticket {code} has no ODR case", field="ticket_code")
        return _view(uow, case)
