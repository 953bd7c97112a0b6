"""Wiring for the payments service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from pathlib import Path

import grpc
from xborder.payments.v1 import payments_service_pb2, payments_service_pb2_grpc

from services.payments.adapters.catalog import load_currency_table, load_rate_calendar
from services.payments.adapters.datasets import DATASETS
from services.payments.adapters.tables import metadata
from services.payments.entrypoints.grpc_api import PaymentsServicer
from services.payments.service_layer.handlers import ReferenceData
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings

NAME = "payments"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (payments_service_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name,)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext:
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, DATASETS)


def reference_data(context: ServiceContext) -> ReferenceData:
    return ReferenceData(
        context.uow,
        context.cache("iso4217_currencies", load_currency_table).get,
        context.cache("ecb_reference_rates", load_rate_calendar).get,
    )


def registrations(context: ServiceContext) -> list:
    servicer = PaymentsServicer(reference_data(context))

    def add(server: grpc.Server) -> None:
        payments_service_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, server)

    return [add]
