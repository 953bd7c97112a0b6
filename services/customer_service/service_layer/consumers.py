"""Events from other services that open or update tickets. Each is handled once per consumer and event id
(`uow.claim_event` in the same transaction as the ticket's rows)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from xborder.compliance.v1 import events_pb2 as compliance_events
from xborder.logistics.v1 import events_pb2 as logistics_events

from services.customer_service.domain.tickets import (
    AuthorKind,
    Link,
    LinkKind,
    Message,
    Priority,
    TicketType,
    Visibility,
)
from services.customer_service.service_layer.tickets import TicketSpec, UowFactory, new_ticket, opened_event
from services.shared.errors import Violations
from services.shared.events import parse_payload
from services.shared.logs import get_logger
from services.shared.request_fields import merchant_code, unified_code

log = get_logger(__name__)

OPEN_ON_RISK_ALERT = "customer_service.open_ticket_on_risk_alert"
RISK_ALERT_TAG = "risk-alert"
OPEN_ON_SHIPMENT_PROBLEM = "customer_service.open_ticket_on_shipment_problem"
SHIPMENT_PROBLEMS = {"EXCEPTION": TicketType.NOT_RECEIVED, "RETURNED": TicketType.RETURN}
"""Shipment statuses (logistics' main status names) that open an after-sales ticket, and its type."""


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
    return _open_or_note(uow_factory, OPEN_ON_RISK_ALERT, alert.event_id, spec, RISK_ALERT_TAG, note, now)


def on_shipment_status_changed(uow_factory: UowFactory, payload: dict[str, Any], now: datetime) -> str | None:
    """logistics' `shipment_status_changed`: a shipment that turned EXCEPTION or RETURNED opens an after-sales
    ticket linked to it (NOT_RECEIVED for an exception, RETURN for a return), or adds a note to the one
    still unresolved. Other statuses change nothing. The ticket's code, or None.
    """
    try:
        change = parse_payload(payload, logistics_events.ShipmentStatusChanged)
    except (json_format.ParseError, ValueError) as error:
        log.error("event_unreadable", consumer=OPEN_ON_SHIPMENT_PROBLEM, error=str(error))
        return None
    kind = SHIPMENT_PROBLEMS.get(change.status)
    if kind is None:
        return None
    violations = Violations()
    merchant = merchant_code(change.merchant_code, violations)
    shipment = unified_code(change.shipment_code, "shipment_code", violations, "YD")
    if not change.event_id or violations:
        log.error("event_unreadable", consumer=OPEN_ON_SHIPMENT_PROBLEM, event_id=change.event_id, merchant=merchant)
        return None
    detail = f" ({change.sub_status})" if change.sub_status else ""
    note = (
        f"Shipment {shipment} (waybill {change.waybill_number}) is {change.status}{detail}, "
        f"was {change.previous_status or 'new'}; carrier code {change.raw_code or '-'}."
    )
    spec = TicketSpec(
        merchant_code=merchant,
        type=kind,
        subject=f"Shipment {shipment}: {change.status}"[:200],
        description="",
        priority=Priority.NORMAL,
        tags=frozenset({f"shipment:{shipment}"}),
        links=(Link(LinkKind.SHIPMENT, shipment),),
        source="logistics",
    )
    return _open_or_note(
        uow_factory, OPEN_ON_SHIPMENT_PROBLEM, change.event_id, spec, f"shipment:{shipment}", note, now
    )


def _open_or_note(
    uow_factory: UowFactory, consumer: str, event_id: str, spec: TicketSpec, tag: str, note: str, now: datetime
) -> str | None:
    """Once per event: a note on the merchant's unresolved ticket with `tag`, or a new ticket from `spec`
    holding that note."""
    with uow_factory() as uow:
        uow.lock_for_write()
        if not uow.claim_event(consumer, event_id):
            return None
        ticket = uow.tickets.unresolved_with_tag(spec.merchant_code, tag)
        if ticket is None:
            ticket = new_ticket(spec, now)
            ticket = replace(ticket, messages=(_note(1, note, now, spec.source),))
            uow.tickets.add(ticket)
            uow.emit(opened_event(ticket))
        else:
            sequence = max((m.sequence for m in ticket.messages), default=0) + 1
            uow.tickets.add_message(ticket.code, _note(sequence, note, now, spec.source))
        uow.commit()
    return ticket.code


def _note(sequence: int, body: str, at: datetime, author: str) -> Message:
    return Message(sequence, AuthorKind.SYSTEM, author, Visibility.INTERNAL, body, at)
