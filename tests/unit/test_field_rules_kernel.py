"""The field rules in the kernel: a request breaking its declared rules is refused before the servicer
commits anything, with the servicer's own violations beside the rules' in one answer."""

from __future__ import annotations

import grpc
import pytest
from xborder.payments.v1 import fx_service_pb2 as fx_pb

from services.shared import codes
from services.shared.errors import Violations
from services.shared.local_calls import LocalRpcError, invoke_local


def _call(behaviour, request):  # type: ignore[no-untyped-def]
    handler = grpc.unary_unary_rpc_method_handler(behaviour)
    return invoke_local(handler, request, method="/x/Y", metadata=(), timeout=5, default_deadline_s=5)


def test_the_answer_names_the_rule_fields_and_the_servicers_own() -> None:
    def servicer(request, context):  # type: ignore[no-untyped-def]
        violations = Violations()
        violations.add("amount", "must be positive")
        violations.raise_if_any()

    with pytest.raises(LocalRpcError) as refused:
        _call(servicer, fx_pb.CreateQuoteRequest(merchant_code="MC123", sell_currency="usd", buy_currency="EURO"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in ("merchant_code", "buy_currency", "amount"):
        assert field in refused.value.details()
    assert "sell_currency" not in refused.value.details()  # lower case is taken: codes are upper-cased


def test_a_servicer_that_does_not_refuse_is_overruled_by_the_rules() -> None:
    ran: list[str] = []

    def lax(request, context):  # type: ignore[no-untyped-def]
        ran.append(request.merchant_code)
        return fx_pb.CreateQuoteResponse()

    with pytest.raises(LocalRpcError) as refused:
        _call(lax, fx_pb.CreateQuoteRequest(merchant_code="", sell_currency="USD", buy_currency="EUR"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "merchant_code: is required" in refused.value.details()
    assert ran == [""]  # it ran, as it would have without the rules; its answer is not sent


def test_a_wrong_check_character_is_its_own_reason() -> None:
    code = codes.generate("MC")
    broken = code[:-1] + ("0" if code[-1] != "0" else "1")

    def servicer(request, context):  # type: ignore[no-untyped-def]
        Violations().raise_if_any()

    with pytest.raises(LocalRpcError) as refused:
        _call(servicer, fx_pb.CreateQuoteRequest(merchant_code=broken, sell_currency="USD", buy_currency="EUR"))
    trailing = dict(refused.value.trailing_metadata())
    assert b"CODE_CHECK_FAILED" in trailing["grpc-status-details-bin"]


def test_a_request_keeping_its_rules_reaches_the_servicer_unchanged() -> None:
    merchant = codes.generate("MC")

    def servicer(request, context):  # type: ignore[no-untyped-def]
        Violations().raise_if_any()  # nothing declared is pending
        return fx_pb.CreateQuoteResponse()

    answer = _call(servicer, fx_pb.CreateQuoteRequest(merchant_code=merchant, sell_currency="USD", buy_currency="EUR"))
    assert answer == fx_pb.CreateQuoteResponse()
