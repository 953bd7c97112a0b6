"""Wiring for the customer-service service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
from xborder.customer_service.v1 import customer_service_pb2, customer_service_pb2_grpc

from services.customer_service.adapters import knowledge_base_file, sla_config
from services.customer_service.adapters.blobs import BlobStore
from services.customer_service.adapters.intent_matcher import TfidfIntentMatcher
from services.customer_service.adapters.odr_providers import FileDropProvider, HttpProvider, OdrProvider
from services.customer_service.adapters.platform_context import GrpcCollectionLookup, GrpcTrackingLookup
from services.customer_service.adapters.platform_records import GrpcLinkedRecords
from services.customer_service.adapters.tables import metadata
from services.customer_service.domain.sla import SlaBook
from services.customer_service.entrypoints.grpc_api import CustomerServicer
from services.customer_service.service_layer import breaches, consumers, odr
from services.customer_service.service_layer.bot import Bot
from services.customer_service.service_layer.linked_records import LinkedRecords
from services.customer_service.service_layer.unit_of_work import CustomerServiceUnitOfWork
from services.customer_service.settings import CustomerServiceSettings
from services.shared.bus import EventBus
from services.shared.clock import utcnow
from services.shared.context import ServiceContext, build_context
from services.shared.settings import Settings

NAME = "customer_service"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (customer_service_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext:
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, uow_class=CustomerServiceUnitOfWork)


def uow_factory(context: ServiceContext) -> Callable[[], CustomerServiceUnitOfWork]:
    return context.uow  # type: ignore[return-value]  # build_context was given CustomerServiceUnitOfWork


def sla_book(context: ServiceContext) -> SlaBook:
    """The calendar and policies from data/customer_service/ (read once per context)."""
    book: SlaBook | None = getattr(context, "_sla_book", None)
    if book is None:
        book = SlaBook(*sla_config.load(context.settings.data_dir))
        context._sla_book = book  # type: ignore[attr-defined]  # dies with its context
    return book


def blob_store(settings: Settings) -> BlobStore:
    return BlobStore(settings.var_dir / NAME / "attachments")


def odr_policy(own: CustomerServiceSettings) -> odr.OdrPolicy:
    return odr.OdrPolicy(
        provider=own.odr_provider,
        negotiation_days=own.odr_negotiation_days,
        consent_version=own.odr_consent_version,
        retry_base=timedelta(seconds=own.odr_retry_base_s),
        retry_ceiling=timedelta(seconds=own.odr_retry_max_s),
    )


def odr_providers(settings: Settings, own: CustomerServiceSettings) -> dict[str, OdrProvider]:
    """Every provider adapter that is configured, by name (a case keeps going to the one it was escalated to)."""
    providers: dict[str, OdrProvider] = {"file": FileDropProvider(settings.var_dir / NAME / "odr_cases")}
    if own.odr_http_url:
        providers["http"] = HttpProvider(own.odr_http_url, own.odr_http_timeout_s)
    return providers


def bot(context: ServiceContext, own: CustomerServiceSettings) -> Bot:
    """The knowledge base from data/customer_service/knowledge_base/, its matcher, and the live-context
    lookups over gRPC (logistics, payments)."""
    kb = knowledge_base_file.load(context.settings.data_dir)
    return Bot(
        kb=kb,
        matcher=TfidfIntentMatcher(kb),
        tracking=GrpcTrackingLookup(lambda: context.settings, own.bot_context_timeout_s),
        collections=GrpcCollectionLookup(lambda: context.settings, own.bot_context_timeout_s),
        threshold=own.bot_confidence_threshold,
    )


def linked_records(context: ServiceContext) -> LinkedRecords:
    """Logistics and payments over gRPC (one adapter per context, closed with it)."""
    records: GrpcLinkedRecords | None = getattr(context, "_linked_records", None)
    if records is None:
        records = GrpcLinkedRecords(lambda: context.settings)
        context._linked_records = records  # type: ignore[attr-defined]  # dies with its context
    return records


def registrations(context: ServiceContext) -> list:
    own = CustomerServiceSettings.from_env()
    servicer = CustomerServicer(
        uow_factory(context),
        sla_book(context),
        blob_store(context.settings),
        own.ticket_attachment_max_bytes,
        odr_policy(own),
        linked_records(context),
        odr_providers(context.settings, own),
        bot(context, own),
    )

    def add(server: grpc.Server) -> None:
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(servicer, server)

    return [add]


def periodic_tasks(context: ServiceContext) -> list[tuple[str, float, Callable[[], object]]]:
    """(name, interval seconds, task) the embedded runtime runs on a timer, as the nameko worker's @timer does."""
    book = sla_book(context)
    own = CustomerServiceSettings.from_env()
    policy = odr_policy(own)
    providers = odr_providers(context.settings, own)
    records = linked_records(context)
    return [
        ("sla_breaches", own.sla_sweep_s, lambda: breaches.sweep(uow_factory(context), book)),
        ("odr_escalations", own.odr_sweep_s, lambda: odr.escalate_due(uow_factory(context), policy, records)),
        ("odr_deliveries", own.odr_sweep_s, lambda: odr.deliver_due(uow_factory(context), providers, policy)),
    ]


def event_handlers(context: ServiceContext) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Handler method name in subscriptions.py -> callable (embedded bus and nameko worker alike)."""

    def open_on_risk_alert(payload: dict[str, Any]) -> None:
        consumers.on_risk_alert_raised(uow_factory(context), payload, utcnow())

    def open_on_shipment_problem(payload: dict[str, Any]) -> None:
        consumers.on_shipment_status_changed(uow_factory(context), payload, utcnow())

    return {"on_risk_alert_raised": open_on_risk_alert, "on_shipment_status_changed": open_on_shipment_problem}
