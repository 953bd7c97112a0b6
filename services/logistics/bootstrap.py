"""Wiring for the logistics service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from pathlib import Path

import grpc
from xborder.logistics.v1 import (
    logistics_service_pb2,
    logistics_service_pb2_grpc,
    plans_service_pb2,
    plans_service_pb2_grpc,
    shipments_service_pb2,
    shipments_service_pb2_grpc,
)

from services.logistics.adapters import catalogue_tables, lane_tables, shipment_tables  # noqa: F401  (register the tables)
from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.adapters.channel_datasets import DATASETS as CATALOGUE_DATASETS
from services.logistics.adapters.datasets import DATASETS
from services.logistics.adapters.payments_rates import GrpcReferenceRates
from services.logistics.adapters.postal_formats import PostalFormats
from services.logistics.adapters.tables import metadata
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.lane_history import DEFAULT_MINIMUM
from services.logistics.entrypoints.grpc_api import LogisticsServicer
from services.logistics.entrypoints.plans_api import LogisticsPlanServicer
from services.logistics.entrypoints.shipments_api import ShipmentServicer
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings, env_setting

NAME = "logistics"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (
    logistics_service_pb2.DESCRIPTOR.services_by_name["LogisticsService"].full_name,
    plans_service_pb2.DESCRIPTOR.services_by_name["LogisticsPlanService"].full_name,
    shipments_service_pb2.DESCRIPTOR.services_by_name["ShipmentService"].full_name,
)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext[LogisticsUnitOfWork]:
    # The channel catalogue loads after the countries: its loader checks zone countries against them.
    return build_context(
        settings, NAME, metadata, MIGRATIONS, bus, (*DATASETS, *CATALOGUE_DATASETS), uow_class=LogisticsUnitOfWork
    )


def registrations(context: ServiceContext[LogisticsUnitOfWork]) -> list:
    servicer = LogisticsServicer(context.uow)

    def add(server: grpc.Server) -> None:
        logistics_service_pb2_grpc.add_LogisticsServiceServicer_to_server(servicer, server)

    # context.uow builds a LogisticsUnitOfWork (uow_class above); ServiceContext types it as the kernel's base.
    rates = GrpcReferenceRates(lambda: context.settings)  # payments' address is read per call
    # XB_LOGISTICS_LEARN_MIN_DELIVERED: delivered shipments a lane needs before its figures are learned.
    minimum = env_setting(None, "logistics_learn_min_delivered", int, "a whole number >= 1", lambda v: v >= 1)
    plan_servicer = LogisticsPlanServicer(
        context.uow,  # type: ignore[arg-type]
        CatalogueCache(minimum=minimum or DEFAULT_MINIMUM),
        PostalFormats(),
        rates=rates,
    )

    def add_plans(server: grpc.Server) -> None:
        plans_service_pb2_grpc.add_LogisticsPlanServiceServicer_to_server(plan_servicer, server)

    shipment_servicer = ShipmentServicer(context.uow, PostalFormats(), load_tables())  # type: ignore[arg-type]

    def add_shipments(server: grpc.Server) -> None:
        shipments_service_pb2_grpc.add_ShipmentServiceServicer_to_server(shipment_servicer, server)

    return [add, add_plans, add_shipments]
