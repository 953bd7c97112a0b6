"""The events that ask payments for a refund, as payments consumes them: customer service's
`odr_refund_requested` (source: the ticket) and logistics' `return_refund_requested` (source: the return).
Each is read into one `RefundAsked` and refunded by the one settlement use case
(services/payments/settlement/service_layer.py: on_refund_requested), once per source."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from xborder.customer_service.v1 import events_pb2 as customer_service_events
from xborder.logistics.v1 import return_events_pb2

from services.payments.settlement import service_layer as settlement_handlers
from services.shared.events import parse_payload
from services.shared.logs import get_logger

log = get_logger(__name__)

SOURCES: dict[str, tuple[type[Message], str]] = {
    "odr_refund_requested": (customer_service_events.OdrRefundRequested, "ticket_code"),
    "return_refund_requested": (return_events_pb2.ReturnRefundRequested, "return_code"),
}
"""Event type -> (its message, the field naming the source record the refund is keyed on)."""


def refund_on_request(
    event_type: str, uow_factory: Any, clock: Callable[[], datetime]
) -> Callable[[dict[str, Any]], None]:
    message_type, reference_field = SOURCES[event_type]

    def consume(payload: dict[str, Any]) -> None:
        try:
            event: Any = parse_payload(payload, message_type)
        except json_format.ParseError as error:
            # Redelivery cannot repair a malformed event, and raising would hold back the producer's later ones.
            log.error("requested_refund_unreadable", event_type=event_type, error=str(error))
            return
        asked = settlement_handlers.RefundAsked(
            event_type, getattr(event, reference_field), event.event_id, event.collection_code, event.amount
        )
        settlement_handlers.on_refund_requested(uow_factory, asked, clock())

    return consume
