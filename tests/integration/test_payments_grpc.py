"""PaymentsService over real gRPC (port 0), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from services.shared.context import ServiceContext
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service


@pytest.fixture(scope="module")
def payments(module_any_settings: Settings) -> Iterator[Running]:
    with running_service(module_any_settings, "payments", pb_grpc.PaymentsServiceStub) as running:
        yield running


def test_currency_with_zero_minor_unit(payments: Running) -> None:
    currency = payments.stub.GetCurrency(pb.GetCurrencyRequest(code="jpy")).currency
    assert (currency.code, currency.numeric_code, currency.minor_unit) == ("JPY", "392", 0)
    assert payments.stub.GetCurrency(pb.GetCurrencyRequest(code="414")).currency.minor_unit == 3  # KWD


def test_list_currencies_hides_withdrawn_codes_unless_asked(payments: Running) -> None:
    active = {c.code for c in payments.stub.ListCurrencies(pb.ListCurrenciesRequest()).currencies}
    everything = {
        c.code for c in payments.stub.ListCurrencies(pb.ListCurrenciesRequest(include_withdrawn=True)).currencies
    }
    assert {"CNY", "USD", "EUR", "JPY"} <= active
    assert "DEM" not in active and "DEM" in everything


def test_reference_rate_on_a_publication_day(payments: Running) -> None:
    rate = payments.stub.GetReferenceRate(pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-03-15")).rate
    # ECB 2024-03-15: USD 1.0892 and CNY 7.838 per EUR; 7.838 / 1.0892 to 10 significant digits.
    assert rate.rate == "7.196107235"
    assert (rate.rate_date, rate.previous_day_applied, rate.derivation) == ("2024-03-15", False, "USD->EUR->CNY")
    assert rate.source.startswith("ECB") and len(rate.dataset_version) == 64


def test_weekend_rate_says_which_day_applied(payments: Running) -> None:
    rate = payments.stub.GetReferenceRate(pb.GetReferenceRateRequest(base="USD", quote="CNY", date="2024-03-16")).rate
    assert (rate.requested_date, rate.rate_date, rate.previous_day_applied) == ("2024-03-16", "2024-03-15", True)
    assert "Saturday" in rate.note


@pytest.mark.parametrize(
    ("request_fields", "code", "reason", "field"),
    [
        (
            {"base": "USD", "quote": "CNY", "date": "1998-12-31"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "VALIDATION_FAILED",
            "date",
        ),
        (
            {"base": "USD", "quote": "CNY", "date": "2999-01-01"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "VALIDATION_FAILED",
            "date",
        ),
        (
            {"base": "USD", "quote": "CNY", "date": "15/03/2024"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "VALIDATION_FAILED",
            "date",
        ),
        (
            {"base": "USD", "quote": "QQQ", "date": "2024-03-15"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "UNKNOWN_CURRENCY",
            "quote",
        ),
        ({"base": "US", "quote": "CNY"}, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED", "base"),
        ({"base": "RUB", "quote": "EUR", "date": "2024-03-15"}, grpc.StatusCode.NOT_FOUND, "RATE_UNAVAILABLE", "base"),
        ({"base": "USD", "quote": "CNY", "date": "2026-11-20"}, grpc.StatusCode.NOT_FOUND, "RATE_UNAVAILABLE", "date"),
    ],
)
def test_bad_rate_requests_name_the_field_and_change_nothing(
    payments: Running, request_fields: dict[str, str], code: grpc.StatusCode, reason: str, field: str
) -> None:
    before = _snapshot(payments.context)
    with pytest.raises(grpc.RpcError) as error:
        payments.stub.GetReferenceRate(pb.GetReferenceRateRequest(**request_fields))
    status, got_reason, violations = rejected(error.value)
    assert (status, got_reason) == (code, reason)
    assert field in violations
    assert _snapshot(payments.context) == before


def test_unknown_currency_lookup_is_not_found(payments: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        payments.stub.GetCurrency(pb.GetCurrencyRequest(code="XYQ"))
    assert rejected(error.value)[0] == grpc.StatusCode.NOT_FOUND
    assert "code" in rejected(error.value)[2]


def test_reimport_emits_nothing_new(payments: Running) -> None:
    published = len(payments.bus.published)
    assert published == len(payments.context.dataset_specs) == 3  # currencies, rates, countries: once each
    assert not any(r.changed for r in payments.context.import_reference_data())
    payments.context.relay.drain()
    assert len(payments.bus.published) == published


def _snapshot(context: ServiceContext) -> tuple[int, int, int]:
    with context.engine.connect() as connection:

        def count(table: str) -> int:
            return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

        return count("ecb_rates"), count("currencies"), count("outbox")
