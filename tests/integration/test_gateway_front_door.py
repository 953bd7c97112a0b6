"""The gRPC front door in front of the real services: the same calls as over REST, forwarded unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from gateway.front_door import serve_front_door
from services.registry import bootstrap_module
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import method_handlers
from services.shared.settings import Settings
from tests.e2e.stack import Stack, start_stack


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
