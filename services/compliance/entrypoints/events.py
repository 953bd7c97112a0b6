"""The compliance nameko service: other services' events, handled by the same handlers the in-process bus calls.

Run it with `python -m services.worker compliance` (its own process: a grpcio server cannot share an
eventlet-patched process). Queue names follow from the method names, which must match
services/compliance/subscriptions.py: the worker checks at start, and a test checks that they do.

The worker only consumes (services/worker/dependencies.py).
"""

from __future__ import annotations

from typing import Any

from nameko.events import SERVICE_POOL, event_handler

from services.compliance import bootstrap
from services.worker.dependencies import Handlers, ServiceEventHandlers, handle


class ComplianceEvents:
    name = "compliance"

    handlers: Handlers = ServiceEventHandlers(bootstrap)  # type: ignore[assignment]

    @event_handler(
        "payments", "reference_data_imported", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_payments_reference_data_imported(self, payload: dict[str, Any]) -> None:
        self._handle("on_payments_reference_data_imported", payload)

    @event_handler(
        "logistics", "reference_data_imported", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_logistics_reference_data_imported(self, payload: dict[str, Any]) -> None:
        self._handle("on_logistics_reference_data_imported", payload)

    @event_handler(
        "compliance", "rules_published", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_rules_published(self, payload: dict[str, Any]) -> None:
        self._handle("on_rules_published", payload)

    @event_handler(
        "compliance", "list_updated", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True
    )
    def on_list_updated(self, payload: dict[str, Any]) -> None:
        self._handle("on_list_updated", payload)

    def _handle(self, consumer: str, payload: dict[str, Any]) -> None:
        handle(self.handlers, consumer, payload)
