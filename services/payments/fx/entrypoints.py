"""FxService servicer: validate each request once (every bad field named), call the handler, return proto."""

from __future__ import annotations

import grpc
from google.type import money_pb2
from xborder.payments.v1 import fx_service_pb2 as pb
from xborder.payments.v1 import fx_service_pb2_grpc as pb_grpc

from services.payments.fx.domain import spreads
from services.payments.fx.service_layer import desk as fx
from services.payments.reference_data.entrypoints import parse_currency_code
from services.payments.vas import domain as vas
from services.shared import request_fields as fields
from services.shared.errors import FieldViolation, UnknownCurrency, ValidationError, Violations
from services.shared.idempotency import fingerprint
from services.shared.money import Money, from_proto, minor_unit


def _currency(value: str, field: str, violations: Violations, unknown: list[FieldViolation]) -> str:
    """An active ISO 4217 code with a minor unit; malformed -> VALIDATION_FAILED, unknown -> UNKNOWN_CURRENCY."""
    code = parse_currency_code(value, field, violations)
    if len(code) == 3 and code.isalpha():
        try:
            minor_unit(code, field=field)
        except UnknownCurrency as error:
            unknown.extend(error.violations)
    return code


def _lock(value: int, violations: Violations, default: int | None = None) -> int:
    if value == 0 and default is not None:
        return default
    if not spreads.MIN_LOCK_SECONDS <= value <= spreads.MAX_LOCK_SECONDS:
        violations.add(
            "lock_seconds", f"must be {spreads.MIN_LOCK_SECONDS} to {spreads.MAX_LOCK_SECONDS} seconds, got {value}"
        )
    return value


def _positive_amount(
    message: money_pb2.Money, field: str, currency: str, violations: Violations, unknown: list[FieldViolation]
) -> Money | None:
    try:
        money = from_proto(message, field=field)
    except UnknownCurrency as error:
        unknown.extend(error.violations)
        return None
    except ValidationError as invalid:
        for v in invalid.violations:
            violations.add(v.field, v.description)
        return None
    if currency and money.currency != currency:
        violations.add(f"{field}.currency_code", f"must be {currency}, the request's currency, got {money.currency}")
    if money.amount <= 0:
        violations.add(field, f"must be positive, got {money.amount}")
    return money


def _raise(violations: Violations, unknown: list[FieldViolation]) -> None:
    if violations:
        violations.raise_if_any()
    if unknown:
        raise UnknownCurrency(unknown)


class FxServicer(pb_grpc.FxServiceServicer):
    def __init__(self, desk: fx.FxDesk) -> None:
        self.desk = desk

    def GetExecutableRate(
        self, request: pb.GetExecutableRateRequest, context: grpc.ServicerContext
    ) -> pb.GetExecutableRateResponse:
        violations, unknown = Violations(), list[FieldViolation]()
        sell = _currency(request.sell_currency, "sell_currency", violations, unknown)
        buy = _currency(request.buy_currency, "buy_currency", violations, unknown)
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        lock = _lock(request.lock_seconds, violations, default=spreads.MIN_LOCK_SECONDS)
        if sell and sell == buy:
            violations.add("buy_currency", "must differ from sell_currency")
        _raise(violations, unknown)
        return pb.GetExecutableRateResponse(rate=fx.get_executable_rate(self.desk, sell, buy, merchant, lock))

    def CreateQuote(self, request: pb.CreateQuoteRequest, context: grpc.ServicerContext) -> pb.CreateQuoteResponse:
        violations, unknown = Violations(), list[FieldViolation]()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        sell = _currency(request.sell_currency, "sell_currency", violations, unknown)
        buy = _currency(request.buy_currency, "buy_currency", violations, unknown)
        if sell and sell == buy:
            violations.add("buy_currency", "must differ from sell_currency")
        has_sell, has_buy = request.HasField("sell_amount"), request.HasField("buy_amount")
        sell_amount = buy_amount = None
        if has_sell == has_buy:
            violations.add("sell_amount", "give exactly one of sell_amount and buy_amount")
        elif has_sell:
            sell_amount = _positive_amount(request.sell_amount, "sell_amount", sell, violations, unknown)
        else:
            buy_amount = _positive_amount(request.buy_amount, "buy_amount", buy, violations, unknown)
        lock = _lock(request.lock_seconds, violations)
        _raise(violations, unknown)
        command = fx.QuoteCommand(
            key,
            fingerprint(request),
            merchant,
            sell,
            buy,
            sell_amount.amount if sell_amount else None,
            buy_amount.amount if buy_amount else None,
            lock,
        )
        return fx.create_quote(self.desk, command)

    def GetQuote(self, request: pb.GetQuoteRequest, context: grpc.ServicerContext) -> pb.GetQuoteResponse:
        violations = Violations()
        code = fields.unified_code(request.code, "code", violations, "QT")
        violations.raise_if_any()
        return pb.GetQuoteResponse(quote=fx.get_quote(self.desk, code))

    def ConvertQuote(self, request: pb.ConvertQuoteRequest, context: grpc.ServicerContext) -> pb.ConvertQuoteResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.code, "code", violations, "QT")
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        violations.raise_if_any()
        return fx.convert_quote(self.desk, fx.ConvertCommand(key, fingerprint(request), code, merchant))

    def CreateInsuranceQuote(
        self, request: pb.CreateInsuranceQuoteRequest, context: grpc.ServicerContext
    ) -> pb.CreateInsuranceQuoteResponse:
        violations, unknown = Violations(), list[FieldViolation]()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        declared = None
        if not request.HasField("declared_value"):
            violations.add("declared_value", "is required")
        else:
            declared = _positive_amount(request.declared_value, "declared_value", "", violations, unknown)
        places = {}
        for name in ("origin_country", "destination_country"):
            value = getattr(request, name).strip().upper()
            if len(value) != 2 or not value.isalpha():
                violations.add(name, f"must be an ISO 3166-1 alpha-2 code, got {getattr(request, name)!r}")
            places[name] = value
        goods = request.goods_class.strip().upper()
        if goods not in vas.GOODS_CLASS_RATES:
            violations.add(
                "goods_class", f"must be one of {', '.join(vas.GOODS_CLASS_RATES)}, got {request.goods_class!r}"
            )
        lock = _lock(request.lock_seconds, violations, default=vas.DEFAULT_OFFER_LOCK_SECONDS)
        _raise(violations, unknown)
        assert declared is not None
        command = fx.InsuranceCommand(
            key,
            fingerprint(request),
            merchant,
            declared,
            places["origin_country"],
            places["destination_country"],
            goods,
            lock,
        )
        return fx.create_insurance_quote(self.desk, command)

    def CreateFinancingOffer(
        self, request: pb.CreateFinancingOfferRequest, context: grpc.ServicerContext
    ) -> pb.CreateFinancingOfferResponse:
        violations, unknown = Violations(), list[FieldViolation]()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        currency = _currency(request.currency, "currency", violations, unknown)
        lock = _lock(request.lock_seconds, violations, default=vas.DEFAULT_OFFER_LOCK_SECONDS)
        _raise(violations, unknown)
        command = fx.FinancingCommand(key, fingerprint(request), merchant, currency, lock)
        return fx.create_financing_offer(self.desk, command)

    def GetOffer(self, request: pb.GetOfferRequest, context: grpc.ServicerContext) -> pb.GetOfferResponse:
        violations = Violations()
        code = fields.unified_code(request.code, "code", violations, "QT")
        violations.raise_if_any()
        return pb.GetOfferResponse(offer=fx.get_offer(self.desk, code))

    def AcceptOffer(self, request: pb.AcceptOfferRequest, context: grpc.ServicerContext) -> pb.AcceptOfferResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.code, "code", violations, "QT")
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        violations.raise_if_any()
        return fx.accept_offer(self.desk, fx.AcceptCommand(key, fingerprint(request), code, merchant))
