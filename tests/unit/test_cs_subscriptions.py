"""customer_service's nameko handlers are exactly the events its subscriptions.py declares."""

from __future__ import annotations

from services.customer_service.entrypoints.events import CustomerServiceEvents
from services.customer_service.subscriptions import SUBSCRIPTIONS
from services.registry import subscriptions
from services.worker.runner import check_topology, declared_subscriptions


def test_the_worker_handles_what_the_service_declares() -> None:
    check_topology(CustomerServiceEvents)  # raises, naming the queues, on any difference
    assert declared_subscriptions(CustomerServiceEvents) == set(SUBSCRIPTIONS)
    assert set(SUBSCRIPTIONS) <= set(subscriptions())
