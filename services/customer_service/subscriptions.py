"""The events customer_service consumes; its nameko @event_handler methods (entrypoints/events.py) match these."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("compliance", "risk_alert_raised", "customer_service", "on_risk_alert_raised"),
    Subscription("logistics", "shipment_status_changed", "customer_service", "on_shipment_status_changed"),
)
