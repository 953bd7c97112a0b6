"""Plan totals in the merchant's settlement currency through the payments reference rate over gRPC, on SQLite
and PostgreSQL; payments down leaves the channel-currency costs and a note, never an error."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from decimal import Decimal

import grpc
import pytest
from google.protobuf import json_format
from xborder.logistics.v1 import plans_service_pb2 as pb
from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc
from xborder.payments.v1 import payments_service_pb2 as ppb
from xborder.payments.v1 import payments_service_pb2_grpc as ppb_grpc

from services.shared.money import from_proto
from services.shared.settings import Settings
from tests.servers import rejected, running_service

SPEAKER = {
    "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
    "originCountry": "CN",
    "destination": {"country": "US", "postalCode": "10001"},
    "goods": {"hsCode": "851822"},
    "declaredValue": {"currencyCode": "USD", "units": "40"},
    "shipAt": "2026-03-02T03:00:00Z",
}


def request(**changes: object) -> pb.MatchPlansRequest:
    return json_format.ParseDict({**SPEAKER, **changes}, pb.MatchPlansRequest())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def payments_port(any_settings: Settings) -> Iterator[tuple[Settings, int]]:
    with running_service(any_settings, "payments", ppb_grpc.PaymentsServiceStub) as payments:
        yield any_settings, payments.port


def test_each_total_is_also_given_in_the_settlement_currency(payments_port: tuple[Settings, int]) -> None:
    settings, port = payments_port
    settings = dataclasses.replace(settings, service_ports={**settings.service_ports, "payments": port})
    with running_service(settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as logistics:
        answer = logistics.stub.MatchPlans(request(settlementCurrency="eur"))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = ppb_grpc.PaymentsServiceStub(channel)
    currencies = {p.cost.total.currency_code for p in answer.plans}
    assert {"CNY", "USD"} <= currencies  # the sea-freight channel prices in USD
    rates = {c: stub.GetReferenceRate(ppb.GetReferenceRateRequest(base=c, quote="EUR")).rate for c in currencies}
    channel.close()
    for currency, rate in rates.items():
        assert f"{currency}->EUR {rate.rate}" in answer.settlement_note and rate.rate_date in answer.settlement_note
    for plan in answer.plans:
        total = from_proto(plan.cost.total)
        converted = from_proto(plan.total_in_settlement_currency)
        rate = Decimal(rates[total.currency].rate)
        assert converted.currency == "EUR" and Decimal(plan.settlement_rate) == rate
        assert converted.amount == (total.amount * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_payments_unreachable_still_answers_in_channel_currencies_with_a_note(any_settings: Settings) -> None:
    settings = dataclasses.replace(
        any_settings, service_ports={**any_settings.service_ports, "payments": closed_port()}
    )
    with running_service(settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as logistics:
        answer = logistics.stub.MatchPlans(request(settlementCurrency="EUR"))
        plain = logistics.stub.MatchPlans(request())
    assert [p.channel_code for p in answer.plans] == [p.channel_code for p in plain.plans]
    assert [p.cost.total for p in answer.plans] == [p.cost.total for p in plain.plans]
    assert not any(p.HasField("total_in_settlement_currency") or p.settlement_rate for p in answer.plans)
    assert "conversion CNY->EUR missing" in answer.settlement_note
    assert "conversion USD->EUR missing" in answer.settlement_note
    assert "not available right now" in answer.settlement_note
    assert not plain.settlement_note


def test_an_unknown_settlement_currency_is_refused_with_the_other_bad_fields(any_settings: Settings) -> None:
    with (
        running_service(any_settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as logistics,
        pytest.raises(grpc.RpcError) as refused,
    ):
        logistics.stub.MatchPlans(request(settlementCurrency="EUX", originCountry="XX"))
    status, _, fields = rejected(refused.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert "settlement_currency" in fields and "origin_country" in fields
