"""The events logistics consumes: none yet (its reference-data events are consumed by compliance)."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = ()
