"""Wiring for the payments service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import grpc
from xborder.payments.v1 import (
    bank_accounts_service_pb2,
    bank_accounts_service_pb2_grpc,
    fx_service_pb2,
    fx_service_pb2_grpc,
    ledger_service_pb2,
    ledger_service_pb2_grpc,
    payments_service_pb2,
    payments_service_pb2_grpc,
    reconciliation_service_pb2,
    reconciliation_service_pb2_grpc,
)

from services.payments.bank_accounts.adapters.vault import BankAccountVault
from services.payments.bank_accounts.entrypoints import BankAccountServicer
from services.payments.bank_accounts.service_layer import BankAccountDeps
from services.payments.entrypoints.ledger_service import LedgerServicer
from services.payments.fx.adapters.ledger import LedgerConversions
from services.payments.fx.adapters.rate_providers import (
    CurrencyRatesLike,
    EcbRateProvider,
    LiveRateProvider,
    OpsRateProvider,
    RateChain,
    RateProvider,
    forex_python_client,
)
from services.payments.fx.domain.rates import Rate, RateMissing
from services.payments.fx.entrypoints import FxServicer
from services.payments.fx.service_layer import desk as fx_handlers
from services.payments.fx.service_layer.desk import ConversionLedger, FxDesk
from services.payments.fx.settings import FxSettings
from services.payments.ledger.entrypoints.expiry_timer import expiry_sweep
from services.payments.ledger.operations import LedgerOperations
from services.payments.ledger.settings import LedgerSettings
from services.payments.payouts.adapters.payees import VaultPayeeDirectory
from services.payments.payouts.adapters.screening_grpc import GrpcScreeningGate
from services.payments.payouts.domain import PayeeDirectory, ScreeningGate
from services.payments.payouts.operations import PayoutOperations
from services.payments.reconciliation.entrypoints import ReconciliationServicer
from services.payments.reconciliation.service_layer import ReconciliationDeps
from services.payments.reference_data import service_layer as handlers
from services.payments.reference_data.adapters.catalog import load_currency_table, load_rate_calendar
from services.payments.reference_data.adapters.datasets import DATASETS
from services.payments.reference_data.entrypoints import PaymentsServicer
from services.payments.reference_data.service_layer import ReferenceData
from services.payments.settlement.operations import SettlementOperations
from services.payments.tables import metadata
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.payments.vas import service_layer as offers
from services.payments.vas.adapters.datasets import COUNTRY_REGIONS
from services.shared.bus import EventBus
from services.shared.clock import utcnow
from services.shared.context import ServiceContext, build_context
from services.shared.errors import RateUnavailable, ReferenceDataMissing, UnknownCurrency
from services.shared.settings import Settings

NAME = "payments"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (
    payments_service_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name,
    ledger_service_pb2.DESCRIPTOR.services_by_name["LedgerService"].full_name,
    bank_accounts_service_pb2.DESCRIPTOR.services_by_name["BankAccountService"].full_name,
    reconciliation_service_pb2.DESCRIPTOR.services_by_name["ReconciliationService"].full_name,
    fx_service_pb2.DESCRIPTOR.services_by_name["FxService"].full_name,
)


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext:
    return build_context(
        settings, NAME, metadata, MIGRATIONS, bus, (*DATASETS, COUNTRY_REGIONS), uow_class=PaymentsUnitOfWork
    )


def unit_of_work(context: ServiceContext) -> Callable[[], PaymentsUnitOfWork]:
    """The context's unit-of-work factory, typed as the payments unit of work it builds."""
    return cast(Callable[[], PaymentsUnitOfWork], context.uow)


def reference_data(context: ServiceContext) -> ReferenceData:
    return ReferenceData(
        unit_of_work(context),
        context.cache("iso4217_currencies", load_currency_table).get,
        context.cache("ecb_reference_rates", load_rate_calendar).get,
    )


def payee_directory(context: ServiceContext) -> PayeeDirectory:
    """Payouts learn the bank account's holder and currency from the encrypted vault."""
    return VaultPayeeDirectory(unit_of_work(context), bank_account_vault(context))


def ledger_operations(context: ServiceContext) -> LedgerOperations:
    """The ledger's operations; an expiring reservation of a payout expires the payout with it."""
    return LedgerOperations(unit_of_work(context))


def payout_operations(
    context: ServiceContext, screening: ScreeningGate | None = None, payees: PayeeDirectory | None = None
) -> PayoutOperations:
    """Payouts screened by compliance's ScreenParty, to accounts of the vault (unless given others)."""
    if screening is None:
        compliance = grpc.insecure_channel(context.settings.service_address("compliance"))
        screening = GrpcScreeningGate(compliance, timeout_s=context.settings.screening_timeout_s)
    return PayoutOperations(unit_of_work(context), screening, payees or payee_directory(context))


def ledger_servicer(
    context: ServiceContext, screening: ScreeningGate | None = None, payees: PayeeDirectory | None = None
) -> LedgerServicer:
    return LedgerServicer(
        ledger_operations(context),
        SettlementOperations(unit_of_work(context)),
        payout_operations(context, screening, payees),
    )


def registrations(context: ServiceContext) -> list:
    servicer = PaymentsServicer(reference_data(context))
    ledger = ledger_servicer(context)

    def add(server: grpc.Server) -> None:
        payments_service_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, server)
        ledger_service_pb2_grpc.add_LedgerServiceServicer_to_server(ledger, server)

    bank_servicer = BankAccountServicer(bank_account_deps(context))

    def add_bank_accounts(server: grpc.Server) -> None:
        bank_accounts_service_pb2_grpc.add_BankAccountServiceServicer_to_server(bank_servicer, server)

    reconciliation_servicer = ReconciliationServicer(reconciliation_deps(context))

    def add_reconciliation(server: grpc.Server) -> None:
        reconciliation_service_pb2_grpc.add_ReconciliationServiceServicer_to_server(reconciliation_servicer, server)

    return [add, add_bank_accounts, add_reconciliation, fx_registration(fx_desk(context))]


def bank_account_vault(context: ServiceContext) -> BankAccountVault:
    """The vault, keyed from XB_KEK_RING through the context's FieldCrypto (docs/crypto.md)."""
    crypto = context.field_crypto
    return BankAccountVault(crypto.cipher, lambda: crypto.indexes)


def bank_account_deps(context: ServiceContext) -> BankAccountDeps:
    return BankAccountDeps(unit_of_work(context), bank_account_vault(context))


def reconciliation_deps(context: ServiceContext) -> ReconciliationDeps:
    return ReconciliationDeps(unit_of_work(context))


def offer_desk(desk: FxDesk) -> offers.OfferDesk:
    """Value-added offers price their USD minimums and caps with the FX desk's reference rates."""

    def usd_rate(currency: str) -> Decimal:
        return fx_handlers.fresh_rate(desk, "USD", currency, desk.clock()).rate

    return offers.OfferDesk(desk.uow_factory, usd_rate, desk.clock, desk.zone)


def fx_registration(desk: FxDesk) -> Callable[[grpc.Server], None]:
    servicer = FxServicer(desk, offer_desk(desk))

    def add(server: grpc.Server) -> None:
        fx_service_pb2_grpc.add_FxServiceServicer_to_server(servicer, server)

    return add


def rate_chain(
    context: ServiceContext,
    settings: FxSettings | None = None,
    *,
    live_client: CurrencyRatesLike | None = None,
    refreshing: bool = False,
) -> RateChain:
    """The providers of XB_FX_PROVIDERS, in that order (docs/fx.md); `refreshing`: the scheduled refresh's
    chain, whose live provider always asks the source (no cache, no snapshot)."""
    settings = settings or FxSettings.from_env()
    refs = reference_data(context)

    uow_factory = unit_of_work(context)

    def ops_latest(base: str, quote: str) -> Rate | None:
        with uow_factory() as uow:
            return uow.fx_ops_rates.latest(base, quote)

    def snapshot(base: str, quote: str) -> Rate | None:
        with uow_factory() as uow:
            return uow.fx_snapshots.get(base, quote)

    def ecb_latest(base: str, quote: str) -> tuple[Decimal, date, str]:
        try:
            found = handlers.get_reference_rate(refs, handlers.RateQuery(base, quote, None))
        except (RateUnavailable, UnknownCurrency, ReferenceDataMissing) as missing:
            raise RateMissing(missing.message) from None
        return found.rate, found.rate_date, found.derivation

    def build(name: str) -> RateProvider:
        if name == "ops":
            return OpsRateProvider(ops_latest)
        if name == "ecb":
            return EcbRateProvider(ecb_latest, max_staleness=timedelta(seconds=settings.ecb_max_staleness_s))
        return LiveRateProvider(
            live_client or forex_python_client(),
            timeout_s=settings.live_timeout_s,
            max_staleness=timedelta(seconds=settings.live_max_staleness_s),
            snapshot=snapshot,
            reuse=not refreshing,
        )

    return RateChain([build(name) for name in settings.providers])


def fx_desk(
    context: ServiceContext,
    *,
    clock: Callable[[], datetime] = utcnow,
    chain: RateChain | None = None,
    ledger: ConversionLedger | None = None,
    refreshing: bool = False,
) -> FxDesk:
    return FxDesk(
        unit_of_work(context),
        chain or rate_chain(context, refreshing=refreshing),
        clock,
        ledger or LedgerConversions(clock),
        refresh_pairs=FxSettings.from_env().refresh_pairs,
    )


def periodic_tasks(
    context: ServiceContext, *, clock: Callable[[], datetime] = utcnow
) -> list[tuple[str, float, Callable[[], object]]]:
    """(name, interval seconds, task) the embedded runtime runs on a timer, as the nameko worker's @timer does."""
    desk = fx_desk(context, clock=clock, refreshing=True)
    return [
        ("fx_refresh_rates", FxSettings.from_env().refresh_interval_s, lambda: fx_handlers.refresh_rates(desk)),
        ("ledger_expire_pending", LedgerSettings.from_env().sweep_s, expiry_sweep(unit_of_work(context), clock)),
    ]


def event_handlers(context: ServiceContext) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Handler method name in services/payments/subscriptions.py -> callable (embedded bus and nameko worker alike)."""
    from services.payments.entrypoints.requested_refunds import refund_on_request
    from services.payments.entrypoints.risk_alerts import hold_on_risk_alert

    return {
        "on_risk_alert_raised": hold_on_risk_alert(unit_of_work(context), utcnow),
        "on_odr_refund_requested": refund_on_request("odr_refund_requested", unit_of_work(context), utcnow),
        "on_return_refund_requested": refund_on_request("return_refund_requested", unit_of_work(context), utcnow),
    }
