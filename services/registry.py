"""The services that exist, their gRPC ports, the events they consume, and how to boot each.

The one list of services: settings (default ports), the gateway (which backend serves a proto package),
the embedded platform, the nameko worker, `xborder status` and scripts/validate_deploy.py all read it.
Adding a service is one entry in SERVICE_TABLE and a `services/<name>/subscriptions.py`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings import this module: it stays free of the kernel's AMQP and SQL imports
    from services.shared.topology import Subscription


@dataclass(frozen=True)
class ServiceEntry:
    """One service: `name` is its package (services.<name>), its proto package (xborder.<name>.v1) and the
    XB_<NAME>_PORT / XB_<NAME>_HOST prefix; `grpc_port` is where its gRPC server listens by default."""

    name: str
    grpc_port: int

    @property
    def deploy_name(self) -> str:
        """Its name in deploy/ (compose service, Kubernetes objects): DNS labels take no underscore."""
        return self.name.replace("_", "-")


SERVICE_TABLE: tuple[ServiceEntry, ...] = (
    ServiceEntry("compliance", 50051),
    ServiceEntry("payments", 50052),
    ServiceEntry("logistics", 50053),
    ServiceEntry("customer_service", 50054),
    ServiceEntry("identity", 50056),
)
GATEWAY_GRPC_PORT = 50050
GATEWAY_HTTP_PORT = 8080

SERVICES: tuple[str, ...] = tuple(entry.name for entry in SERVICE_TABLE)
SERVICE_PORTS: dict[str, int] = {entry.name: entry.grpc_port for entry in SERVICE_TABLE}


def bootstrap_module(name: str) -> ModuleType:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.bootstrap")


def subscriptions() -> tuple[Subscription, ...]:
    """Every event subscription on the platform: what each service's subscriptions.py declares it consumes.

    Those modules hold only the declarations (no handlers), so a publisher learns every queue to declare
    without importing another service's code.
    """
    found: list[Subscription] = []
    for name in SERVICES:
        declared = importlib.import_module(f"services.{name}.subscriptions").SUBSCRIPTIONS
        wrong = [s for s in declared if s.consumer_service != name]
        if wrong:
            raise ValueError(f"services/{name}/subscriptions.py declares another consumer's subscription: {wrong[0]}")
        found.extend(declared)
    return tuple(found)
