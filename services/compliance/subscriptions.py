"""The events compliance consumes. Each names the nameko method of entrypoints/events.py that handles it
and the key of bootstrap.event_handlers(); the worker refuses to start when they disagree."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("payments", "reference_data_imported", "compliance", "on_payments_reference_data_imported"),
    Subscription("logistics", "reference_data_imported", "compliance", "on_logistics_reference_data_imported"),
    Subscription("compliance", "rules_published", "compliance", "on_rules_published"),
    Subscription("compliance", "list_updated", "compliance", "on_list_updated"),
)
