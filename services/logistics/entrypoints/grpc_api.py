"""LogisticsService servicer: validate the message once, call the handler, map the result to proto."""

from __future__ import annotations

import grpc
from xborder.logistics.v1 import logistics_service_pb2 as pb
from xborder.logistics.v1 import logistics_service_pb2_grpc as pb_grpc

from services.logistics.domain import countries, status_codes
from services.logistics.service_layer import reference_data as handlers
from services.shared.errors import Violations

MAX_REGION_CHARS = 100


def country_to_proto(country: countries.Country) -> pb.Country:
    return pb.Country(
        alpha2=country.alpha2,
        alpha3=country.alpha3,
        numeric=country.numeric,
        name_en=country.name_en,
        name_zh=country.name_zh,
        formal_name_en=country.formal_name_en,
        formal_name_zh=country.formal_name_zh,
        currency_code=country.currency_code,
        capital=country.capital,
        region=country.region,
        sub_region=country.sub_region,
        languages=list(country.languages),
        tld=country.tld,
    )


def status_code_to_proto(code: status_codes.StatusCode) -> pb.StatusCode:
    return pb.StatusCode(code=code.code, name=code.name, description=code.description)


def parse_country_code(value: str, violations: Violations) -> countries.CountryCode | None:
    try:
        return countries.parse_country_code(value)
    except countries.CodeProblem as problem:
        violations.add("code", str(problem))
        return None


def parse_region(value: str, violations: Violations) -> str | None:
    region = value.strip()
    if len(region) > MAX_REGION_CHARS:
        violations.add("region", f"must be at most {MAX_REGION_CHARS} characters, got {len(region)}")
    return region or None


class LogisticsServicer(pb_grpc.LogisticsServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory) -> None:
        self.uow_factory = uow_factory

    def GetCountry(self, request: pb.GetCountryRequest, context: grpc.ServicerContext) -> pb.GetCountryResponse:
        violations = Violations()
        code = parse_country_code(request.code, violations)
        violations.raise_if_any()
        assert code is not None  # a malformed code is a violation, raised above
        return pb.GetCountryResponse(country=country_to_proto(handlers.get_country(self.uow_factory, code)))

    def ListCountries(
        self, request: pb.ListCountriesRequest, context: grpc.ServicerContext
    ) -> pb.ListCountriesResponse:
        violations = Violations()
        region = parse_region(request.region, violations)
        violations.raise_if_any()
        found = handlers.list_countries(self.uow_factory, region)
        return pb.ListCountriesResponse(countries=[country_to_proto(c) for c in found])

    def GetStatusCode(
        self, request: pb.GetStatusCodeRequest, context: grpc.ServicerContext
    ) -> pb.GetStatusCodeResponse:
        violations = Violations()
        code = ""
        try:
            code = status_codes.parse_status_code(request.code)
        except status_codes.CodeProblem as problem:
            violations.add("code", str(problem))
        violations.raise_if_any()
        return pb.GetStatusCodeResponse(
            status_code=status_code_to_proto(handlers.get_status_code(self.uow_factory, code))
        )

    def ListStatusCodes(
        self, request: pb.ListStatusCodesRequest, context: grpc.ServicerContext
    ) -> pb.ListStatusCodesResponse:
        violations = Violations()
        words: tuple[str, ...] = ()
        try:
            words = status_codes.parse_query(request.query)
        except status_codes.CodeProblem as problem:
            violations.add("query", str(problem))
        violations.raise_if_any()
        found = handlers.list_status_codes(self.uow_factory, words)
        return pb.ListStatusCodesResponse(status_codes=[status_code_to_proto(c) for c in found])
