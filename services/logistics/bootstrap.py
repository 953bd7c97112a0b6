"""Wiring for the logistics service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from xborder.logistics.v1 import (
    logistics_service_pb2,
    logistics_service_pb2_grpc,
    plans_service_pb2,
    plans_service_pb2_grpc,
    returns_service_pb2,
    returns_service_pb2_grpc,
    shipments_service_pb2,
    shipments_service_pb2_grpc,
    warehouses_service_pb2,
    warehouses_service_pb2_grpc,
)

from services.logistics.adapters import (  # noqa: F401  (register the tables)
    catalogue_tables,
    lane_tables,
    return_tables,
    shipment_tables,
    warehouse_tables,
)
from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.adapters.channel_datasets import DATASETS as CATALOGUE_DATASETS
from services.logistics.adapters.compliance_reports import GrpcComplianceReports
from services.logistics.adapters.datasets import DATASETS
from services.logistics.adapters.payments_rates import GrpcReferenceRates
from services.logistics.adapters.postal_formats import PostalFormats
from services.logistics.adapters.return_fees import load_warehouse_fees
from services.logistics.adapters.tables import metadata
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.adapters.warehouse_datasets import DATASETS as WAREHOUSE_DATASETS
from services.logistics.domain.lane_history import DEFAULT_MINIMUM
from services.logistics.entrypoints.grpc_api import LogisticsServicer
from services.logistics.entrypoints.plans_api import LogisticsPlanServicer
from services.logistics.entrypoints.returns_api import ReturnServicer
from services.logistics.entrypoints.shipments_api import ShipmentServicer
from services.logistics.entrypoints.warehouses_api import WarehouseServicer
from services.logistics.service_layer import stock
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.logistics.service_layer.returns import IntoWarehouseStock, RestockedUnits, catalogue_in
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings, env_setting, seconds_setting

NAME = "logistics"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (
    logistics_service_pb2.DESCRIPTOR.services_by_name["LogisticsService"].full_name,
    plans_service_pb2.DESCRIPTOR.services_by_name["LogisticsPlanService"].full_name,
    shipments_service_pb2.DESCRIPTOR.services_by_name["ShipmentService"].full_name,
    returns_service_pb2.DESCRIPTOR.services_by_name["ReturnService"].full_name,
    warehouses_service_pb2.DESCRIPTOR.services_by_name["WarehouseService"].full_name,
)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext[LogisticsUnitOfWork]:
    # The channel catalogue loads after the countries: its loader checks zone countries against them.
    return build_context(
        settings,
        NAME,
        metadata,
        MIGRATIONS,
        bus,
        (*DATASETS, *CATALOGUE_DATASETS, *WAREHOUSE_DATASETS),
        uow_class=LogisticsUnitOfWork,
    )


def restocked_units() -> RestockedUnits:
    """Where a return's restocked units go: into the warehouse's stock."""
    return IntoWarehouseStock()


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
        compliance=GrpcComplianceReports(lambda: context.settings),  # compliance's address is read per call
    )

    def add_plans(server: grpc.Server) -> None:
        plans_service_pb2_grpc.add_LogisticsPlanServiceServicer_to_server(plan_servicer, server)

    shipment_servicer = ShipmentServicer(context.uow, PostalFormats(), load_tables())  # type: ignore[arg-type]

    def add_shipments(server: grpc.Server) -> None:
        shipments_service_pb2_grpc.add_ShipmentServiceServicer_to_server(shipment_servicer, server)

    return_servicer = ReturnServicer(
        context.uow,  # type: ignore[arg-type]
        catalogue_in(CatalogueCache()),
        load_warehouse_fees(),
        PostalFormats(),
        restocked_units(),
    )

    def add_returns(server: grpc.Server) -> None:
        returns_service_pb2_grpc.add_ReturnServiceServicer_to_server(return_servicer, server)

    warehouse_servicer = WarehouseServicer(context.uow)  # type: ignore[arg-type]

    def add_warehouses(server: grpc.Server) -> None:
        warehouses_service_pb2_grpc.add_WarehouseServiceServicer_to_server(warehouse_servicer, server)

    return [add, add_plans, add_shipments, add_returns, add_warehouses]


def periodic_tasks(context: ServiceContext[LogisticsUnitOfWork]) -> list[tuple[str, float, Callable[[], object]]]:
    """(name, interval seconds, task) the embedded runtime runs on a timer, as the nameko worker's @timer does."""
    interval = seconds_setting(None, "LOGISTICS_RESERVATION_SWEEP_S") or 30.0
    return [("reservation_expiry", interval, lambda: stock.expire_due(context.uow))]  # type: ignore[arg-type]
