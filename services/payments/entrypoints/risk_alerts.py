"""Compliance's `risk_alert_raised` as payments consumes it: the typed RiskAlertRaised, then the hold handler.

The embedded bus and the nameko worker hand consumers the event's JSON payload; parsing it here keeps the
service layer on the message compliance publishes (xborder.compliance.v1.RiskAlertRaised).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from xborder.compliance.v1 import events_pb2

from services.payments.payouts import service_layer as payout_handlers
from services.shared.events import parse_payload
from services.shared.logs import get_logger

log = get_logger(__name__)


def hold_on_risk_alert(uow_factory: Any, clock: Callable[[], datetime]) -> Callable[[dict[str, Any]], None]:
    def consume(payload: dict[str, Any]) -> None:
        try:
            alert = parse_payload(payload, events_pb2.RiskAlertRaised)
        except json_format.ParseError as error:
            # Redelivery cannot repair a malformed event, and raising would hold back the producer's later ones.
            log.error("risk_alert_unreadable", consumer=payout_handlers.HOLD_ON_RISK_ALERT, error=str(error))
            return
        payout_handlers.on_risk_alert_raised(uow_factory, alert, clock())

    return consume
