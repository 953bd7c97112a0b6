"""The events payments consumes; its nameko @event_handler methods (entrypoints/events.py) match these."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("compliance", "risk_alert_raised", "payments", "on_risk_alert_raised"),
    Subscription("customer_service", "odr_refund_requested", "payments", "on_odr_refund_requested"),
    Subscription("logistics", "return_refund_requested", "payments", "on_return_refund_requested"),
)
