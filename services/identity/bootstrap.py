"""Wiring for the identity service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from pathlib import Path

import grpc
from xborder.identity.v1 import identity_service_pb2, identity_service_pb2_grpc

from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.screening import GrpcScreener
from services.identity.adapters.tables import metadata
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings

NAME = "identity"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (identity_service_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name,)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext:
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, uow_class=IdentityUnitOfWork)


def servicer(context: ServiceContext) -> IdentityServicer:
    """The servicer with its adapters; the CLI calls it in-process. Compliance's address is read per call."""
    screener = GrpcScreener(lambda: context.settings)
    return IdentityServicer(context.uow, screener, Argon2Hasher())  # type: ignore[arg-type]


def registrations(context: ServiceContext) -> list:
    identity = servicer(context)

    def add(server: grpc.Server) -> None:
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(identity, server)

    return [add]
