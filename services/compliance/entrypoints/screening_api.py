"""ScreeningService servicer: validate once (naming each bad field), call the handler, map to proto."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.compliance.v1 import screening_service_pb2 as pb
from xborder.compliance.v1 import screening_service_pb2_grpc as pb_grpc

from services.compliance.adapters.sanctions_index import SanctionsIndex
from services.compliance.domain import names, paging
from services.compliance.domain.matching import Hit, Query
from services.compliance.domain.sanctions import Identifier, PartyType
from services.compliance.domain.screening import (
    MAX_IDENTIFIERS,
    MAX_NAME_LENGTH,
    Decision,
    Screening,
    mask_date_of_birth,
    mask_identifier,
    parse_country,
    parse_date_of_birth,
)
from services.compliance.service_layer import screening as handlers
from services.shared import request_fields as fields
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint

PARTY_TYPES = {
    pb.PARTY_TYPE_UNSPECIFIED: PartyType.UNKNOWN,
    pb.PARTY_TYPE_PERSON: PartyType.PERSON,
    pb.PARTY_TYPE_COMPANY: PartyType.COMPANY,
    pb.PARTY_TYPE_VESSEL: PartyType.VESSEL,
}
_PARTY_TYPES_BACK = {v: k for k, v in PARTY_TYPES.items()}
DECISIONS = {
    Decision.CLEAR: pb.SCREENING_DECISION_CLEAR,
    Decision.REVIEW: pb.SCREENING_DECISION_REVIEW,
    Decision.BLOCK: pb.SCREENING_DECISION_BLOCK,
}
MAX_IDENTIFIER_LENGTH = 64


def parse_screen_request(request: pb.ScreenPartyRequest) -> handlers.ScreenCommand:
    violations = Violations()
    fields.request_id(request.request_id, violations)
    merchant = ""
    if request.merchant_code and request.partner_code:
        violations.add("partner_code", "give merchant_code or partner_code, not both")
    elif request.merchant_code:
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
    elif request.partner_code:
        # A partner's onboarding screening is kept under the partner's own code, where a merchant's is
        # kept under the merchant's: the screening's owner.
        merchant = fields.unified_code(request.partner_code, "partner_code", violations, "HB")
    else:
        violations.add("merchant_code", "required: the merchant's code (MC...)")
    name = request.name.strip()
    if not name:
        violations.add("name", "required: the party's name")
    elif len(name) > MAX_NAME_LENGTH:
        violations.add("name", f"at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    elif not names.tokens(name):
        violations.add("name", "has no letters or digits to match")
    if request.party_type not in PARTY_TYPES:
        violations.add("party_type", f"unknown party type {request.party_type}")
    country = ""
    if request.country:
        try:
            country = parse_country(request.country)
        except ValueError as problem:
            violations.add("country", str(problem))
    dob = ""
    if request.date_of_birth:
        try:
            dob = parse_date_of_birth(request.date_of_birth, utcnow().date())
        except ValueError as problem:
            violations.add("date_of_birth", str(problem))
        if request.party_type not in (pb.PARTY_TYPE_UNSPECIFIED, pb.PARTY_TYPE_PERSON):
            violations.add("date_of_birth", "only a person has a date of birth")
    if len(request.identifiers) > MAX_IDENTIFIERS:
        violations.add("identifiers", f"at most {MAX_IDENTIFIERS}, got {len(request.identifiers)}")
    identifiers: list[Identifier] = []
    for i, identifier in enumerate(request.identifiers):
        value = identifier.value.strip()
        if not names.normalise_identifier(value):
            violations.add(f"identifiers[{i}].value", "required: letters or digits of the document number")
        elif len(value) > MAX_IDENTIFIER_LENGTH:
            violations.add(f"identifiers[{i}].value", f"at most {MAX_IDENTIFIER_LENGTH} characters")
        identifiers.append(Identifier(identifier.type.strip().lower(), value))
    violations.raise_if_any()
    query = Query(name, PARTY_TYPES[request.party_type], country, dob, tuple(identifiers))
    return handlers.ScreenCommand(request.request_id, merchant, query, fingerprint(request))


def hit_to_proto(hit: Hit) -> pb.ScreeningHit:
    entry = hit.entry
    return pb.ScreeningHit(
        list_name=entry.list_name,
        entry_id=entry.entry_id,
        entry_name=entry.primary_name,
        matched_name=hit.matched_name,
        matched_alias=hit.is_alias,
        score=hit.score,
        matched_fields=list(hit.matched_fields),
        programs=list(entry.programs),
        countries=list(entry.countries),
        dates_of_birth=list(entry.dates_of_birth),
        entry_type=entry.party_type.value,
        name_parts=[
            pb.NamePartMatch(query_part=p.query_part, entry_part=p.entry_part, how=p.how, similarity=p.similarity)
            for p in hit.parts
        ],
    )


def screening_to_proto(screening: Screening, query: Query) -> pb.Screening:
    screened_at = Timestamp()
    screened_at.FromDatetime(screening.screened_at)
    return pb.Screening(
        code=screening.code,
        merchant_code=screening.merchant_code,
        request_id=screening.request_id,
        decision=DECISIONS[screening.decision],
        hits=[hit_to_proto(h) for h in screening.hits],
        lists=[
            pb.ScreeningList(
                list_name=i.list_name,
                title=i.title,
                dataset_version=i.version,
                publication_date=i.published_on,
                publication_date_basis=i.date_basis,
                entry_count=i.entry_count,
            )
            for i in screening.lists
        ],
        thresholds=pb.ScreeningThresholds(
            block=screening.thresholds.block, review=screening.thresholds.review, version=screening.thresholds.version
        ),
        name_variants_version=screening.name_variants_version,
        screened_at=screened_at,
        party=pb.ScreenedParty(
            name=query.name,
            party_type=_PARTY_TYPES_BACK[query.party_type],
            country=query.country,
            date_of_birth=mask_date_of_birth(query.date_of_birth),
            identifiers=[pb.ScreenedIdentifier(type=i.type, value=mask_identifier(i.value)) for i in query.identifiers],
        ),
    )


def masked(screening: pb.Screening) -> pb.Screening:
    """The screening as answered: an answer stored before answers were masked is masked on its way out."""
    party = screening.party
    party.date_of_birth = mask_date_of_birth(party.date_of_birth)
    for identifier in party.identifiers:
        identifier.value = mask_identifier(identifier.value)
    return screening


class ScreeningServicer(pb_grpc.ScreeningServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory, index: SanctionsIndex) -> None:
        self.uow_factory = uow_factory
        self.index = index

    def ScreenParty(self, request: pb.ScreenPartyRequest, context: grpc.ServicerContext) -> pb.ScreenPartyResponse:
        command = parse_screen_request(request)

        def render(screening: Screening) -> pb.ScreenPartyResponse:
            return pb.ScreenPartyResponse(screening=screening_to_proto(screening, command.query))

        answer = handlers.screen_party(self.uow_factory, self.index, command, render, pb.ScreenPartyResponse)
        masked(answer.screening)  # a replay of an answer kept before answers were masked
        return answer

    def GetScreening(self, request: pb.GetScreeningRequest, context: grpc.ServicerContext) -> pb.GetScreeningResponse:
        code = fields.one_code(request.code, "code", "HC")
        stored = pb.ScreenPartyResponse.FromString(handlers.get_screening(self.uow_factory, code))
        return pb.GetScreeningResponse(screening=masked(stored.screening))

    def ListScreenings(
        self, request: pb.ListScreeningsRequest, context: grpc.ServicerContext
    ) -> pb.ListScreeningsResponse:
        violations = Violations()
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
        size = 0
        try:
            size = paging.page_size(request.page_size)
        except paging.PagingProblem as problem:
            violations.add("page_size", str(problem))
        offset = 0
        try:
            offset = paging.decode_token(request.page_token, f"screenings:{merchant}")
        except paging.PagingProblem as problem:
            violations.add("page_token", str(problem))
        violations.raise_if_any()
        page, more = handlers.list_screenings(self.uow_factory, merchant, offset, size)
        token = paging.encode_token(offset + len(page), f"screenings:{merchant}") if more else ""
        return pb.ListScreeningsResponse(
            screenings=[masked(pb.ScreenPartyResponse.FromString(raw).screening) for raw in page],
            next_page_token=token,
        )
