"""The services that exist, and how to boot each. Adding a service is one entry here."""

from __future__ import annotations

import importlib
from types import ModuleType

SERVICES = ("compliance", "payments", "logistics", "customer_service")


def bootstrap_module(name: str) -> ModuleType:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.bootstrap")
