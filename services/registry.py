"""The services that exist, how to boot each, and the events each consumes. Adding a service is one entry here."""

from __future__ import annotations

import importlib
from types import ModuleType

from services.shared.topology import Subscription

SERVICES = ("compliance", "payments", "logistics")


def bootstrap_module(name: str) -> ModuleType:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.bootstrap")


def subscriptions() -> tuple[Subscription, ...]:
    """Every event subscription on the platform: each consuming service's `subscriptions.SUBSCRIPTIONS`."""
    found: list[Subscription] = []
    for name in SERVICES:
        module_name = f"services.{name}.subscriptions"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue  # a service that consumes nothing
        found.extend(module.SUBSCRIPTIONS)
    return tuple(found)
