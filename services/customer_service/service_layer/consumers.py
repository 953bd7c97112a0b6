"""Events from other services that open or update tickets. Each is handled once per consumer and event id
(`uow.claim_event` in the same transaction as the ticket's rows)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from xborder.compliance.v1 import events_pb2 as compliance_events

from services.customer_service.domain.tickets import AuthorKind, Message, Priority, TicketType, Visibility
from services.customer_service.service_layer.tickets import TicketSpec, UowFactory, new_ticket, opened_event
from services.shared.errors import Violations
from services.shared.events import parse_payload
from services.shared.logs import get_logger
from services.shared.request_fields import merchant_code

log = get_logger(__name__)

OPEN_ON_RISK_ALERT = "customer_service.open_ticket_on_risk_alert"
RISK_ALERT_TAG = "risk-alert"


def on_risk_alert_raised(uow_factory: UowFactory, payload: dict[str, Any], now: datetime) -> str | None:
    """compliance's `risk_alert_raised`: a note on the merchant's unresolved risk-alert ticket, or a new
    HIGH-priority ticket with that note. The ticket's code, or None for a duplicate or unreadable event.

    An unreadable payload is logged and dropped: retrying cannot repair it, and raising would hold back the
    producer's later events.
    """
    try:
        alert = parse_payload(payload, compliance_events.RiskAlertRaised)
    except (json_format.ParseError, ValueError) as error:
        log.error("event_unreadable", consumer=OPEN_ON_RISK_ALERT, error=str(error))
        return None
    assert isinstance(alert, compliance_events.RiskAlertRaised)
    violations = Violations()
    merchant = merchant_code(alert.merchant_code, violations)
    if not alert.event_id or violations:
        log.error("event_unreadable", consumer=OPEN_ON_RISK_ALERT, event_id=alert.event_id, merchant=merchant)
        return None
    note = (
        f"Risk alert {alert.alert_code} ({alert.subject_kind} {alert.subject_code}): "
        f"{alert.old_verdict} -> {alert.new_verdict}. {alert.reason}".strip()
    )
    with uow_factory() as uow:
        uow.lock_for_write()
        if not uow.claim_event(OPEN_ON_RISK_ALERT, alert.event_id):
            return None
        ticket = uow.tickets.unresolved_with_tag(merchant, RISK_ALERT_TAG)
        if ticket is None:
            spec = TicketSpec(
                merchant_code=merchant,
                type=TicketType.CONSULTATION,
                subject=f"Risk alert {alert.alert_code}: {alert.new_verdict}"[:200],
                description="",
                priority=Priority.HIGH,
                tags=frozenset({RISK_ALERT_TAG}),
                links=(),
                source="compliance",
            )
            ticket = new_ticket(spec, now)
            ticket = replace(ticket, messages=(_note(1, note, now),))
            uow.tickets.add(ticket)
            uow.emit(opened_event(ticket))
        else:
            uow.tickets.add_message(
                ticket.code, _note(max((m.sequence for m in ticket.messages), default=0) + 1, note, now)
            )
        uow.commit()
    return ticket.code


def _note(sequence: int, body: str, at: datetime) -> Message:
    return Message(sequence, AuthorKind.SYSTEM, "compliance", Visibility.INTERNAL, body, at)
