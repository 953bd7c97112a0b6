"""The events identity consumes: none."""

from __future__ import annotations

from services.shared.topology import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = ()
