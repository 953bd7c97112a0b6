"""FxService servicer: validate each request once (every bad field named), call the handler, return proto."""

from __future__ import annotations

import grpc
from google.type import money_pb2
from xborder.payments.v1 import fx_service_pb2 as pb
from xborder.payments.v1 import fx_service_pb2_grpc as pb_grpc

from services.payments.fx.domain import spreads
from services.payments.fx.service_layer import desk as fx
from services.payments.vas import domain as vas
from services.payments.vas import service_layer as offer_desk
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint
from services.shared.money import Money


def _lock(value: int, violations: Violations, default: int | None = None) -> int:
    if value == 0 and default is not None:
        return default
    if not spreads.MIN_LOCK_SECONDS <= value <= spreads.MAX_LOCK_SECONDS:
        violations.add(
            "lock_seconds", f"must be {spreads.MIN_LOCK_SECONDS} to {spreads.MAX_LOCK_SECONDS} seconds, got {value}"
        )
    return value


def _positive_amount(
    message: money_pb2.Money | None, field: str, currency: str, violations: Violations
) -> Money | None:
    money = fields.money(message, violations, field)
    if money is None:
        return None
    if currency and money.currency != currency:
        violations.add(f"{field}.currency_code", f"must be {currency}, the request's currency, got {money.currency}")
    if money.amount <= 0:
        violations.add(field, f"must be positive, got {money.amount}")
    return money


COUNTRY_FIELDS = ("origin_country", "destination_country")


def parse_country(value: str, field: str, violations: Violations) -> str:
    """A required ISO 3166-1 alpha-2 code, trimmed and upper-cased."""
    code = value.strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        violations.add(field, f"must be an ISO 3166-1 alpha-2 code, got {value!r}")
    return code


class FxServicer(pb_grpc.FxServiceServicer):
    """Rates, quotes and conversions (the FX desk) and value-added offers (the offer desk)."""

    def __init__(self, desk: fx.FxDesk, offers: offer_desk.OfferDesk) -> None:
        self.desk = desk
        self.offers = offers

    def GetExecutableRate(
        self, request: pb.GetExecutableRateRequest, context: grpc.ServicerContext
    ) -> pb.GetExecutableRateResponse:
        violations = Violations()
        sell = fields.currency(request.sell_currency, violations, "sell_currency")
        buy = fields.currency(request.buy_currency, violations, "buy_currency")
        merchant = fields.merchant_code(request.merchant_code, violations)
        lock = _lock(request.lock_seconds, violations, default=spreads.MIN_LOCK_SECONDS)
        if sell and sell == buy:
            violations.add("buy_currency", "must differ from sell_currency")
        violations.raise_if_any()
        return pb.GetExecutableRateResponse(rate=fx.get_executable_rate(self.desk, sell, buy, merchant, lock))

    def CreateQuote(self, request: pb.CreateQuoteRequest, context: grpc.ServicerContext) -> pb.CreateQuoteResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        sell = fields.currency(request.sell_currency, violations, "sell_currency")
        buy = fields.currency(request.buy_currency, violations, "buy_currency")
        if sell and sell == buy:
            violations.add("buy_currency", "must differ from sell_currency")
        has_sell, has_buy = request.HasField("sell_amount"), request.HasField("buy_amount")
        sell_amount = buy_amount = None
        if has_sell == has_buy:
            violations.add("sell_amount", "give exactly one of sell_amount and buy_amount")
        elif has_sell:
            sell_amount = _positive_amount(request.sell_amount, "sell_amount", sell, violations)
        else:
            buy_amount = _positive_amount(request.buy_amount, "buy_amount", buy, violations)
        lock = _lock(request.lock_seconds, violations)
        violations.raise_if_any()
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
        code = fields.one_code(request.code, "code", "QT")
        return pb.GetQuoteResponse(quote=fx.get_quote(self.desk, code))

    def ConvertQuote(self, request: pb.ConvertQuoteRequest, context: grpc.ServicerContext) -> pb.ConvertQuoteResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.code, "code", violations, "QT")
        merchant = fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        return fx.convert_quote(self.desk, fx.ConvertCommand(key, fingerprint(request), code, merchant))

    def CreateInsuranceQuote(
        self, request: pb.CreateInsuranceQuoteRequest, context: grpc.ServicerContext
    ) -> pb.CreateInsuranceQuoteResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        declared_value = request.declared_value if request.HasField("declared_value") else None
        declared = _positive_amount(declared_value, "declared_value", "", violations)
        places = {name: parse_country(getattr(request, name), name, violations) for name in COUNTRY_FIELDS}
        goods = request.goods_class.strip().upper()
        if goods not in vas.GOODS_CLASS_RATES:
            violations.add(
                "goods_class", f"must be one of {', '.join(vas.GOODS_CLASS_RATES)}, got {request.goods_class!r}"
            )
        lock = _lock(request.lock_seconds, violations, default=vas.DEFAULT_OFFER_LOCK_SECONDS)
        violations.raise_if_any()
        assert declared is not None
        command = offer_desk.InsuranceCommand(
            key,
            fingerprint(request),
            merchant,
            declared,
            places["origin_country"],
            places["destination_country"],
            goods,
            lock,
        )
        return offer_desk.create_insurance_quote(self.offers, command)

    def CreateFinancingOffer(
        self, request: pb.CreateFinancingOfferRequest, context: grpc.ServicerContext
    ) -> pb.CreateFinancingOfferResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        currency = fields.currency(request.currency, violations, "currency")
        lock = _lock(request.lock_seconds, violations, default=vas.DEFAULT_OFFER_LOCK_SECONDS)
        violations.raise_if_any()
        command = offer_desk.FinancingCommand(key, fingerprint(request), merchant, currency, lock)
        return offer_desk.create_financing_offer(self.offers, command)

    def GetOffer(self, request: pb.GetOfferRequest, context: grpc.ServicerContext) -> pb.GetOfferResponse:
        code = fields.one_code(request.code, "code", "QT")
        return pb.GetOfferResponse(offer=offer_desk.get_offer(self.offers, code))

    def AcceptOffer(self, request: pb.AcceptOfferRequest, context: grpc.ServicerContext) -> pb.AcceptOfferResponse:
        violations = Violations()
        key = fields.request_id(request.request_id, violations)
        code = fields.unified_code(request.code, "code", violations, "QT")
        merchant = fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        return offer_desk.accept_offer(self.offers, offer_desk.AcceptCommand(key, fingerprint(request), code, merchant))
