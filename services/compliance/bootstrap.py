"""Wiring for the compliance service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from xborder.compliance.v1 import (
    compliance_service_pb2,
    compliance_service_pb2_grpc,
    product_compliance_service_pb2,
    product_compliance_service_pb2_grpc,
    risk_alert_service_pb2,
    risk_alert_service_pb2_grpc,
    screening_service_pb2,
    screening_service_pb2_grpc,
)

from services.compliance.adapters.datasets import DATASETS
from services.compliance.adapters.reference_views import check_views
from services.compliance.adapters.sanctions_index import SanctionsIndex
from services.compliance.adapters.sanctions_store import SCREENING_DATASETS
from services.compliance.adapters.screening_config import CONFIG_DATASETS
from services.compliance.adapters.tables import metadata
from services.compliance.adapters.unit_of_work import ComplianceUnitOfWork
from services.compliance.entrypoints.grpc_api import ComplianceServicer
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.entrypoints.risk_alerts_api import RiskAlertServicer
from services.compliance.entrypoints.screening_api import ScreeningServicer
from services.compliance.service_layer import reference_data, risk_alerts, rule_library
from services.compliance.settings import ScreeningSettings
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings

NAME = "compliance"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (
    compliance_service_pb2.DESCRIPTOR.services_by_name["ComplianceService"].full_name,
    product_compliance_service_pb2.DESCRIPTOR.services_by_name["ProductComplianceService"].full_name,
    screening_service_pb2.DESCRIPTOR.services_by_name["ScreeningService"].full_name,
    risk_alert_service_pb2.DESCRIPTOR.services_by_name["RiskAlertService"].full_name,
)
SCREENING_SERVICE = screening_service_pb2.DESCRIPTOR.services_by_name["ScreeningService"].full_name


Context = ServiceContext[ComplianceUnitOfWork]


def bootstrap(settings: Settings, bus: EventBus) -> Context:
    ScreeningSettings.from_env()  # a wrong threshold stops the service before anything starts
    datasets = (*DATASETS, *SCREENING_DATASETS, *CONFIG_DATASETS)
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, datasets, uow_class=ComplianceUnitOfWork)


def screening_index(context: Context) -> SanctionsIndex:
    """The one sanctions index of a context (built lazily, shared by its servers and the gateway)."""
    index: SanctionsIndex | None = getattr(context, "_screening_index", None)
    if index is None:
        index = SanctionsIndex(context.engine, override=ScreeningSettings.from_env().apply)
        context._screening_index = index  # type: ignore[attr-defined]  # dies with its context
    return index


def registrations(context: Context) -> list:
    servicer = ComplianceServicer(context.uow)

    def add(server: grpc.Server) -> None:
        compliance_service_pb2_grpc.add_ComplianceServiceServicer_to_server(servicer, server)

    product_checks = ProductComplianceServicer(context.uow, check_views(context))

    def add_product_checks(server: grpc.Server) -> None:
        product_compliance_service_pb2_grpc.add_ProductComplianceServiceServicer_to_server(product_checks, server)

    index = screening_index(context)
    screening = ScreeningServicer(context.uow, index)

    def add_screening(server: grpc.Server) -> None:
        screening_service_pb2_grpc.add_ScreeningServiceServicer_to_server(screening, server)

    # Health of ScreeningService follows the lists' readiness (services/shared/grpc_server.py, ADR 0011).
    add_screening.bind_health = lambda health: index.watch_health(health, SCREENING_SERVICE)  # type: ignore[attr-defined]
    alerts = RiskAlertServicer(context.uow)

    def add_risk_alerts(server: grpc.Server) -> None:
        risk_alert_service_pb2_grpc.add_RiskAlertServiceServicer_to_server(alerts, server)

    return [add, add_product_checks, add_screening, add_risk_alerts]


def seed(context: Context) -> None:
    """After the reference data: publish the shipped rule packs as library version 1 if none exists."""
    rule_library.seed_rule_library(context.uow, context.settings.data_dir)


def event_handlers(context: Context) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Handler method name in subscriptions.py -> the callable a transport hands each payload to.

    The embedded bus and the nameko worker both subscribe through this map, from the same subscriptions.
    """

    def record_upstream_dataset(payload: dict[str, Any]) -> None:
        reference_data.record_upstream_dataset(context.uow, payload)

    views = check_views(context)

    def recheck_on_rules(payload: dict[str, Any]) -> None:
        risk_alerts.on_rules_published(context.uow, views, payload)

    def rescreen_on_list(payload: dict[str, Any]) -> None:
        risk_alerts.on_list_updated(context.uow, screening_index(context), payload)

    return {
        "on_payments_reference_data_imported": record_upstream_dataset,
        "on_logistics_reference_data_imported": record_upstream_dataset,
        "on_rules_published": recheck_on_rules,
        "on_list_updated": rescreen_on_list,
    }
