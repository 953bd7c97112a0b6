"""Customer service's `odr_refund_requested` as payments consumes it: the typed OdrRefundRequested, then the
settlement refund handler (services/payments/settlement/service_layer.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from xborder.customer_service.v1 import events_pb2

from services.payments.settlement import service_layer as settlement_handlers
from services.shared.events import parse_payload
from services.shared.logs import get_logger

log = get_logger(__name__)


def refund_on_odr_outcome(uow_factory: Any, clock: Callable[[], datetime]) -> Callable[[dict[str, Any]], None]:
    def consume(payload: dict[str, Any]) -> None:
        try:
            event = parse_payload(payload, events_pb2.OdrRefundRequested)
        except json_format.ParseError as error:
            # Redelivery cannot repair a malformed event, and raising would hold back the producer's later ones.
            log.error("odr_refund_unreadable", consumer=settlement_handlers.ODR_REFUND, error=str(error))
            return
        settlement_handlers.on_odr_refund_requested(uow_factory, event, clock())

    return consume
