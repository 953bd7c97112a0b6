"""Wiring for the logistics service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from pathlib import Path

import grpc
from xborder.logistics.v1 import logistics_service_pb2, logistics_service_pb2_grpc

from services.logistics.adapters.datasets import DATASETS
from services.logistics.adapters.tables import metadata
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.entrypoints.grpc_api import LogisticsServicer
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings

NAME = "logistics"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (logistics_service_pb2.DESCRIPTOR.services_by_name["LogisticsService"].full_name,)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext[LogisticsUnitOfWork]:
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, DATASETS, uow_class=LogisticsUnitOfWork)


def registrations(context: ServiceContext[LogisticsUnitOfWork]) -> list:
    servicer = LogisticsServicer(context.uow)

    def add(server: grpc.Server) -> None:
        logistics_service_pb2_grpc.add_LogisticsServiceServicer_to_server(servicer, server)

    return [add]
