"""The events payments consumes. Each names the nameko method of entrypoints/events.py that handles it
and the key of bootstrap.event_handlers(); the worker refuses to start when they disagree."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("compliance", "risk_alert_raised", "payments", "on_risk_alert_raised"),
)
