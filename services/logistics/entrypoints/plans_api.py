"""LogisticsPlanService servicer: parse the message once, call the use case, map the answer to proto."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime

import grpc
from google.protobuf import timestamp_pb2
from google.type import date_pb2
from xborder.logistics.v1 import plans_service_pb2 as pb
from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc

from services.logistics.adapters.catalogue_repository import StoredVersion
from services.logistics.domain import compliance_reports
from services.logistics.domain.channels import Channel, ChannelKind
from services.logistics.domain.matching import Exclusion, MatchResult
from services.logistics.domain.pricing import Cost, Preference, Shipment
from services.logistics.domain.ranking import RankedPlan
from services.logistics.entrypoints import plan_requests
from services.logistics.service_layer import plans, rate_sheet_imports
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.logistics.service_layer.compliance import ComplianceReports, ComplianceUnavailable, ReportNotFound
from services.logistics.service_layer.settlement import ReferenceRates, settle
from services.shared import request_fields
from services.shared.clock import utcnow
from services.shared.errors import NotFound, ValidationError, Violations
from services.shared.idempotency import fingerprint
from services.shared.money import currency_info, to_proto

KINDS = {
    ChannelKind.POSTAL: pb.CHANNEL_KIND_POSTAL,
    ChannelKind.EXPRESS: pb.CHANNEL_KIND_EXPRESS,
    ChannelKind.DEDICATED_LINE: pb.CHANNEL_KIND_DEDICATED_LINE,
    ChannelKind.AIR_FREIGHT_WAREHOUSE: pb.CHANNEL_KIND_AIR_FREIGHT_WAREHOUSE,
    ChannelKind.SEA_FREIGHT_WAREHOUSE: pb.CHANNEL_KIND_SEA_FREIGHT_WAREHOUSE,
}
PREFERENCES = {
    Preference.CHEAPEST: pb.PREFERENCE_CHEAPEST,
    Preference.FASTEST: pb.PREFERENCE_FASTEST,
    Preference.BEST_VALUE: pb.PREFERENCE_BEST_VALUE,
    Preference.DELIVER_BY: pb.PREFERENCE_DELIVER_BY,
}
MAX_CSV_CHARS = 2_000_000
MAX_SOURCE_CHARS = 200


def _date(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def cost_to_proto(cost: Cost) -> pb.CostBreakdown:
    return pb.CostBreakdown(
        base=to_proto(cost.base),
        weight=to_proto(cost.weight),
        fuel=to_proto(cost.fuel),
        remote_area=to_proto(cost.remote_area),
        total=to_proto(cost.total),
    )


def plan_to_proto(ranked: RankedPlan) -> pb.Plan:
    c = ranked.candidate
    channel = c.channel
    return pb.Plan(
        rank=ranked.rank,
        channel_code=channel.code,
        channel_name=channel.name,
        carrier=channel.carrier,
        kind=KINDS[channel.kind],
        zone=c.zone.name,
        cost=cost_to_proto(c.cost),
        billable_weight_kg=f"{c.billable_kg.normalize():f}",
        transit=pb.TransitEstimate(
            p50_days=c.transit.p50_days,
            p90_days=c.transit.p90_days,
            p50_delivery=_date(c.transit.p50_delivery),
            p90_delivery=_date(c.transit.p90_delivery),
            source=c.transit.source,
        ),
        quality=pb.Quality(score=c.quality, source=c.quality_source),
        rank_reason=ranked.reason,
        pareto=ranked.pareto,
        rate_sheet_version=c.sheet.version,
        rate_sheet_valid_from=_timestamp(c.sheet.valid_from),
        notes=list(c.notes),
        meets_deadline=ranked.meets_deadline,
        warehouse_code=c.warehouse_code,
        ship_from_country=c.ship_from,
    )


class ExclusionEncoder:
    """Each exclusion's wire encoding as an element of MatchPlansResponse.excluded, kept by content.

    An answer lists every channel of the catalogue, most of them excluded for the same lane reasons on
    every request; building hundreds of messages in Python cost more than matching, while joining their
    cached encodings and parsing them in one call costs almost nothing. Bounded: cleared when full.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._encoded: dict[tuple[str, str, tuple[str, ...]], bytes] = {}

    def encode(self, exclusions: tuple[Exclusion, ...]) -> bytes:
        parts = []
        for e in exclusions:
            key = (e.channel.code, e.channel.name, e.reasons)
            encoded = self._encoded.get(key)
            if encoded is None:
                if len(self._encoded) >= self.limit:
                    self._encoded = {}
                item = pb.Exclusion(channel_code=key[0], channel_name=key[1], reasons=key[2])
                encoded = self._encoded[key] = pb.MatchPlansResponse(excluded=[item]).SerializeToString()
            parts.append(encoded)
        return b"".join(parts)


def match_to_proto(
    result: MatchResult, preference: Preference, ship_at: datetime, encoder: ExclusionEncoder
) -> pb.MatchPlansResponse:
    response = pb.MatchPlansResponse(
        plans=[plan_to_proto(p) for p in result.plans], preference=PREFERENCES[preference], ship_at=_timestamp(ship_at)
    )
    response.MergeFromString(encoder.encode(result.excluded))  # appends to `excluded`, in order
    return response


def channel_to_proto(channel: Channel, version: int) -> pb.Channel:
    return pb.Channel(
        code=channel.code,
        name=channel.name,
        carrier=channel.carrier,
        carrier_id=channel.carrier_id,
        tracking_carriers=sorted(channel.tracking_carriers),
        kind=KINDS[channel.kind],
        origin_countries=sorted(channel.origin_countries),
        currency=channel.currency,
        zones=[
            pb.Zone(
                name=zone.name,
                countries=sorted(zone.countries),
                postal_ranges=[str(r) for r in zone.postal_ranges],
                transit_min_days=zone.transit_min_days,
                transit_max_days=zone.transit_max_days,
            )
            for zone in channel.zones
        ],
        rate_sheet_version=version,
        restrictions=channel.restrictions.describe(),
    )


def versions_to_proto(versions: list[StoredVersion]) -> pb.ImportRateSheetResponse:
    return pb.ImportRateSheetResponse(
        versions=[
            pb.RateSheetVersion(
                channel_code=v.channel_code,
                version=v.version,
                valid_from=_timestamp(v.valid_from),
                row_count=v.row_count,
            )
            for v in versions
        ]
    )


class LogisticsPlanServicer(pb_grpc.LogisticsPlanServiceServicer):
    def __init__(
        self,
        uow_factory: plans.UowFactory,
        cache: CatalogueCache,
        postal: plan_requests.PostalRules,
        now: Callable[[], datetime] = utcnow,
        rates: ReferenceRates | None = None,
        compliance: ComplianceReports | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.cache = cache
        self.postal = postal
        self.now = now
        self.encoder = ExclusionEncoder()
        self.rates = rates
        self.compliance = compliance

    def MatchPlans(self, request: pb.MatchPlansRequest, context: grpc.ServicerContext) -> pb.MatchPlansResponse:
        violations = Violations()
        shipment = stock = None
        try:
            shipment = plan_requests.shipment(request, self.postal, self.now())
        except ValidationError as error:
            violations.absorb(error)
        try:
            stock = plan_requests.stock_lines(request)
        except ValidationError as error:
            violations.absorb(error)
        currency = request.settlement_currency.strip().upper()
        if currency:
            try:
                currency_info(currency, field="settlement_currency")
            except ValidationError as error:
                violations.absorb(error)
        report_code = ""
        if request.compliance_report_code.strip():
            report_code = request_fields.unified_code(
                request.compliance_report_code, "compliance_report_code", violations, entity_type="HG"
            )
        violations.raise_if_any()
        assert shipment is not None  # no violation: it was parsed
        applied, compliance_note = None, ""
        if report_code:
            applied, compliance_note = self._report(report_code, shipment, request.merchant_code.strip().upper())
            if applied is not None:
                shipment = dataclasses.replace(shipment, goods=applied.goods)
        if stock is None:
            result = plans.match_plans(self.uow_factory, self.cache, shipment)
        else:
            found = plans.match_plans_with_stock(self.uow_factory, self.cache, shipment, *stock)
            result = found.result
        if applied is not None:
            result = compliance_reports.exclude_every_channel(result, applied.reasons)
        response = match_to_proto(result, shipment.preference, shipment.ship_at, self.encoder)
        if stock is not None:
            response.stock_note = found.note
        response.compliance_note = compliance_note
        if currency:
            self._settle(response, result, currency)
        return response

    def _report(self, code: str, shipment: Shipment, merchant: str) -> tuple[compliance_reports.Applied | None, str]:
        """The report applied to the goods; None and a note when compliance cannot be reached."""
        field = "compliance_report_code"
        if self.compliance is None:
            return None, f"compliance report {code} not applied: no compliance service is configured"
        try:
            report = self.compliance.report(code)
        except ReportNotFound:
            raise NotFound(f"no compliance report {code}", field=field) from None
        except ComplianceUnavailable as error:
            return None, f"compliance report {code} not applied: {error}"
        if merchant and report.merchant_code and report.merchant_code != merchant:
            raise NotFound(f"no compliance report {code}", field=field)  # another merchant's: never say whose
        if report.destination != shipment.country:
            raise ValidationError.single(
                field, f"report {code} is for {report.destination}, not the destination {shipment.country}"
            )
        applied = compliance_reports.apply(report, shipment.goods)
        return applied, applied.note

    def _settle(self, response: pb.MatchPlansResponse, result: MatchResult, currency: str) -> None:
        """Each plan's total also in the settlement currency; a missing rate leaves a note, never an error."""
        channel_currencies = {ranked.candidate.cost.total.currency for ranked in result.plans}
        if self.rates is None:
            response.settlement_note = f"conversion to {currency} missing: no FX rate source is configured"
            return
        settlement = settle(channel_currencies, currency, self.rates)
        response.settlement_note = settlement.note
        for ranked, plan in zip(result.plans, response.plans, strict=True):
            converted = settlement.convert(ranked.candidate.cost.total)
            if converted is not None:
                plan.total_in_settlement_currency.CopyFrom(to_proto(converted))
                plan.settlement_rate = f"{settlement.rates[ranked.candidate.cost.total.currency]:f}"

    def ListChannels(self, request: pb.ListChannelsRequest, context: grpc.ServicerContext) -> pb.ListChannelsResponse:
        violations = Violations()
        destination = None
        if request.destination_country:
            destination = plan_requests.country(
                request.destination_country, "destination_country", violations, self.postal
            )
        carrier = plan_requests.carrier_id(request.carrier, "carrier", violations)
        violations.raise_if_any()
        listed = plans.list_channels(self.uow_factory, self.cache, destination, self.now(), carrier)
        return pb.ListChannelsResponse(channels=[channel_to_proto(x.channel, x.current_version) for x in listed])

    def ImportRateSheet(
        self, request: pb.ImportRateSheetRequest, context: grpc.ServicerContext
    ) -> pb.ImportRateSheetResponse:
        violations = Violations()
        key = request_fields.request_id(request.request_id, violations)
        if not request.csv.strip():
            violations.add("csv", "is required: the rate sheet's CSV text, header row first")
        elif len(request.csv) > MAX_CSV_CHARS:
            violations.add("csv", f"at most {MAX_CSV_CHARS} characters, got {len(request.csv)}")
        if len(request.source) > MAX_SOURCE_CHARS:
            violations.add("source", f"at most {MAX_SOURCE_CHARS} characters")
        carrier = plan_requests.carrier_id(request.carrier, "carrier", violations)
        valid_from = request.valid_from.ToDatetime(tzinfo=UTC) if request.HasField("valid_from") else None
        violations.raise_if_any()
        command = rate_sheet_imports.ImportRateSheet(
            key, fingerprint(request), request.csv, valid_from, request.source.strip() or "ImportRateSheet", carrier
        )
        answer = rate_sheet_imports.import_rate_sheet(
            self.uow_factory, command, pb.ImportRateSheetResponse, versions_to_proto, self.now
        )
        self.cache.invalidate()
        return answer
