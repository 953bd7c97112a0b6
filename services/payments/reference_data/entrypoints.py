"""PaymentsService servicer: validate the message once, call the handler, map the result to proto."""

from __future__ import annotations

import re
from datetime import date

import grpc
from xborder.payments.v1 import payments_service_pb2 as pb
from xborder.payments.v1 import payments_service_pb2_grpc as pb_grpc

from services.payments.reference_data import service_layer as handlers
from services.payments.reference_data.domain import FIRST_PUBLICATION
from services.shared import request_fields as fields
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.iso4217 import CurrencyInfo

_ALPHA = re.compile(r"^[A-Z]{3}$")
_NUMERIC = re.compile(r"^[0-9]{3}$")


def currency_to_proto(currency: CurrencyInfo) -> pb.Currency:
    return pb.Currency(
        code=currency.code,
        numeric_code=currency.numeric_code,
        name=currency.name,
        minor_unit=-1 if currency.minor_unit is None else currency.minor_unit,
        entities=currency.entities,
        withdrawn=currency.withdrawn,
        is_fund_or_metal=currency.is_fund_or_metal,
    )


def catalog_code(value: str, violations: Violations) -> str:
    """A code to look up in the ISO 4217 catalogue: alphabetic or numeric, withdrawn ones included."""
    code = value.strip().upper()
    if not code:
        violations.add("code", "is required")
    elif not (_ALPHA.match(code) or _NUMERIC.match(code)):
        violations.add("code", f"must be three letters (ISO 4217 alphabetic) or three digits, got {value!r}")
    return code


def parse_rate_date(value: str, violations: Violations) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        violations.add("date", f"must be a calendar date YYYY-MM-DD, got {value!r}")
        return None
    if len(value) != 10:
        violations.add("date", f"must be a calendar date YYYY-MM-DD, got {value!r}")
    elif day < FIRST_PUBLICATION:
        violations.add("date", f"must be on or after {FIRST_PUBLICATION.isoformat()}, the first ECB publication")
    elif day > utcnow().date():
        violations.add("date", "must not be in the future")
    return day


class PaymentsServicer(pb_grpc.PaymentsServiceServicer):
    def __init__(self, refs: handlers.ReferenceData) -> None:
        self.refs = refs

    def GetCurrency(self, request: pb.GetCurrencyRequest, context: grpc.ServicerContext) -> pb.GetCurrencyResponse:
        code = fields.parsed(catalog_code, request.code)
        return pb.GetCurrencyResponse(currency=currency_to_proto(handlers.get_currency(self.refs, code)))

    def ListCurrencies(
        self, request: pb.ListCurrenciesRequest, context: grpc.ServicerContext
    ) -> pb.ListCurrenciesResponse:
        found = handlers.list_currencies(self.refs, request.include_withdrawn)
        return pb.ListCurrenciesResponse(currencies=[currency_to_proto(c) for c in found])

    def GetReferenceRate(
        self, request: pb.GetReferenceRateRequest, context: grpc.ServicerContext
    ) -> pb.GetReferenceRateResponse:
        violations = Violations()
        base = fields.currency(request.base, violations, "base")
        quote = fields.currency(request.quote, violations, "quote")
        day = parse_rate_date(request.date, violations)
        violations.raise_if_any()
        rate = handlers.get_reference_rate(self.refs, handlers.RateQuery(base, quote, day))
        return pb.GetReferenceRateResponse(
            rate=pb.ReferenceRate(
                base=rate.base,
                quote=rate.quote,
                rate=format(rate.rate, "f"),
                requested_date=rate.requested_date.isoformat(),
                rate_date=rate.rate_date.isoformat(),
                previous_day_applied=rate.previous_day_applied,
                derivation=rate.derivation,
                source=rate.source,
                dataset_version=rate.dataset_version,
                note=rate.note,
            )
        )
