"""customer_service declares the events it consumes in its own module, the same ones the platform wires."""

from __future__ import annotations

from services.customer_service.subscriptions import SUBSCRIPTIONS
from services.shared.topology import SUBSCRIPTIONS as PLATFORM


def test_the_declared_subscriptions_are_the_ones_the_platform_wires() -> None:
    assert set(SUBSCRIPTIONS) == {s for s in PLATFORM if s.consumer_service == "customer_service"}
