"""The gRPC front door in front of the real services: the same calls as over REST, forwarded unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from xborder.compliance.v1 import screening_service_pb2 as screening_pb
from xborder.compliance.v1 import screening_service_pb2_grpc as screening_grpc
from xborder.identity.v1 import identity_service_pb2 as identity_pb
from xborder.identity.v1 import identity_service_pb2_grpc as identity_grpc
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from gateway.front_door import serve_front_door
from services.registry import bootstrap_module
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import method_handlers
from services.shared.settings import Settings
from tests.e2e.stack import Stack, Tenant, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["forwarding", "in-process"])
def channel(request: pytest.FixtureRequest, stack: Stack) -> Iterator[grpc.Channel]:
    """The front door as deployed (forwarding over gRPC) and as embedded (calling the servicers in-process)."""
    local = {}
    if request.param == "in-process":
        for name, context in stack.contexts.items():
            local.update(method_handlers(bootstrap_module(name).registrations(context)))
    front_door = serve_front_door(stack.settings, port=0, local=local)
    with grpc.insecure_channel(f"127.0.0.1:{front_door.port}") as opened:
        yield opened
    front_door.stop(grace=0)


@pytest.fixture
def payments(channel: grpc.Channel) -> pb_grpc.PaymentsServiceStub:
    return pb_grpc.PaymentsServiceStub(channel)


def test_get_currency(payments: pb_grpc.PaymentsServiceStub) -> None:
    currency = payments.GetCurrency(pb.GetCurrencyRequest(code="JPY"), timeout=5).currency
    assert (currency.code, currency.numeric_code, currency.minor_unit) == ("JPY", "392", 0)


def test_list_currencies(payments: pb_grpc.PaymentsServiceStub) -> None:
    codes = {c.code for c in payments.ListCurrencies(pb.ListCurrenciesRequest(), timeout=5).currencies}
    assert {"CNY", "USD", "EUR"} <= codes


def test_reference_rate_on_a_weekend(payments: pb_grpc.PaymentsServiceStub) -> None:
    rate = payments.GetReferenceRate(
        pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-03-16"), timeout=5
    ).rate
    assert (rate.rate_date, rate.previous_day_applied) == ("2024-03-15", True)


def test_field_violations_pass_through_unchanged(payments: pb_grpc.PaymentsServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        payments.GetReferenceRate(pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-3-16"), timeout=5)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, violations, _ = status_details(failure.value)
    assert reason == "VALIDATION_FAILED"
    assert [field for field, _ in violations] == ["date"]


def test_not_found_passes_through(payments: pb_grpc.PaymentsServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        payments.GetCurrency(pb.GetCurrencyRequest(code="QQQ"), timeout=5)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert status_details(failure.value)[0] == "NOT_FOUND"


def test_request_id_round_trip(payments: pb_grpc.PaymentsServiceStub) -> None:
    _, call = payments.GetCurrency.with_call(
        pb.GetCurrencyRequest(code="USD"), timeout=5, metadata=(("x-request-id", "partner-call-1"),)
    )
    assert dict(call.trailing_metadata())["x-request-id"] == "partner-call-1"
    with pytest.raises(grpc.RpcError) as failure:
        payments.GetCurrency(
            pb.GetCurrencyRequest(code="QQQ"), timeout=5, metadata=(("x-request-id", "partner-call-2"),)
        )
    assert status_details(failure.value)[2]["request_id"] == "partner-call-2"


def test_health_and_reflection_list_the_proxied_services(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {
        "xborder.payments.v1.PaymentsService",
        "xborder.compliance.v1.ComplianceService",
        "xborder.logistics.v1.LogisticsService",
    } <= services
    described = descriptor_pool.DescriptorPool(database).FindServiceByName("xborder.payments.v1.PaymentsService")
    assert "GetReferenceRate" in described.methods_by_name


def test_hs_code_through_the_front_door(channel: grpc.Channel) -> None:
    from xborder.compliance.v1 import compliance_service_pb2 as cpb
    from xborder.compliance.v1 import compliance_service_pb2_grpc as cpb_grpc

    entry = cpb_grpc.ComplianceServiceStub(channel).GetHsCode(cpb.GetHsCodeRequest(code="850760"), timeout=5)
    assert entry.hs_code.code == "850760"


def test_country_through_the_front_door(channel: grpc.Channel) -> None:
    from xborder.logistics.v1 import logistics_service_pb2 as lpb
    from xborder.logistics.v1 import logistics_service_pb2_grpc as lpb_grpc

    country = lpb_grpc.LogisticsServiceStub(channel).GetCountry(lpb.GetCountryRequest(code="CN"), timeout=5)
    assert country.country.alpha3 == "CHN"


# --- the same authentication, scopes and tenancy as REST, with the key in `authorization` metadata ---


@pytest.fixture(scope="module")
def tenants(stack: Stack) -> tuple[Tenant, Tenant]:
    return stack.onboard("Front Door Alpha AG", "CH"), stack.onboard("Front Door Beta SRL", "IT")


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def refused(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str | None]:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    return failure.value.code(), status_details(failure.value)[0]


def test_a_merchant_reads_its_own_balances_through_the_front_door(
    channel: grpc.Channel, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    ledger = ledger_grpc.LedgerServiceStub(channel)
    own = ledger.GetBalances(ledger_pb.GetBalancesRequest(merchant_code=a.merchant_code), metadata=bearer(a.api_key))
    assert own.merchant_code == a.merchant_code
    filled = ledger.GetBalances(ledger_pb.GetBalancesRequest(), metadata=bearer(a.api_key), timeout=5)
    assert filled.merchant_code == a.merchant_code


def test_no_key_or_a_forged_key_is_unauthenticated(channel: grpc.Channel, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    ledger = ledger_grpc.LedgerServiceStub(channel)
    request = ledger_pb.GetBalancesRequest(merchant_code=a.merchant_code)
    assert refused(lambda: ledger.GetBalances(request, timeout=5)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )
    forged = f"xbk_live_{a.key_id}_" + "C" * 43
    code, _ = refused(lambda: ledger.GetBalances(request, metadata=bearer(forged), timeout=5))
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_another_merchants_balances_are_not_found(channel: grpc.Channel, tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    ledger = ledger_grpc.LedgerServiceStub(channel)
    request = ledger_pb.GetBalancesRequest(merchant_code=a.merchant_code)
    code, reason = refused(lambda: ledger.GetBalances(request, metadata=bearer(b.api_key), timeout=5))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def test_operator_methods_and_key_verification_are_refused_to_merchants(
    channel: grpc.Channel, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    ledger = ledger_grpc.LedgerServiceStub(channel)
    verify = lambda: ledger.VerifyLedger(ledger_pb.VerifyLedgerRequest(), metadata=bearer(a.api_key), timeout=5)  # noqa: E731
    assert refused(verify)[0] == grpc.StatusCode.PERMISSION_DENIED
    identity = identity_grpc.IdentityServiceStub(channel)
    probe = identity_pb.VerifyApiKeyRequest(secret=a.api_key)
    assert refused(lambda: identity.VerifyApiKey(probe, metadata=bearer(a.api_key), timeout=5))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_another_merchants_screening_is_not_found_and_cannot_be_written_for_them(
    channel: grpc.Channel, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    screening = screening_grpc.ScreeningServiceStub(channel)
    mine = screening.ScreenParty(
        screening_pb.ScreenPartyRequest(request_id=str(uuid.uuid4()), name="Jane Smith"),
        metadata=bearer(a.api_key),
        timeout=10,
    ).screening
    assert mine.merchant_code == a.merchant_code
    read = screening_pb.GetScreeningRequest(code=mine.code)
    assert refused(lambda: screening.GetScreening(read, metadata=bearer(b.api_key), timeout=5))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    assert screening.GetScreening(read, metadata=bearer(a.api_key), timeout=5).screening.code == mine.code
    for_a = screening_pb.ScreenPartyRequest(request_id=str(uuid.uuid4()), merchant_code=a.merchant_code, name="X")
    assert refused(lambda: screening.ScreenParty(for_a, metadata=bearer(b.api_key), timeout=5))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
