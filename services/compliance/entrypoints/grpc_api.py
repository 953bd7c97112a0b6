"""ComplianceService servicer: validate the message once, call the handler, map the result to proto."""

from __future__ import annotations

import grpc
from xborder.compliance.v1 import compliance_service_pb2 as pb
from xborder.compliance.v1 import compliance_service_pb2_grpc as pb_grpc

from services.compliance.domain import hs, paging
from services.compliance.service_layer import reference_data as handlers
from services.shared import request_fields as fields
from services.shared.errors import Violations


def hs_code_to_proto(entry: hs.HsEntry) -> pb.HsCode:
    message = pb.HsCode(
        code=entry.code,
        description=entry.description,
        level=entry.level,
        section=entry.section.numeral,
        section_name=entry.section.name,
        chapter=pb.HsCodeRef(code=entry.chapter.code, description=entry.chapter.description),
        edition=hs.EDITION,
    )
    if entry.heading is not None:
        message.heading.CopyFrom(pb.HsCodeRef(code=entry.heading.code, description=entry.heading.description))
    return message


def parse_hs_code(value: str, violations: Violations) -> str:
    try:
        return hs.parse_code(value)
    except hs.CodeProblem as problem:
        violations.add("code", str(problem))
        return ""


def parse_search(request: pb.SearchHsCodesRequest, violations: Violations) -> handlers.HsSearch | None:
    query: hs.SearchQuery | None = None
    try:
        query = hs.parse_query(request.query)
    except hs.CodeProblem as problem:
        violations.add("query", str(problem))
    if request.level not in (0, *hs.LEVELS):
        violations.add("level", f"must be 2, 4 or 6 (0 for every level), got {request.level}")
    size = 0
    try:
        size = paging.page_size(request.page_size)
    except paging.PagingProblem as problem:
        violations.add("page_size", str(problem))
    if query is None:
        return None
    level = request.level or None
    offset = 0
    try:
        offset = paging.decode_token(request.page_token, search_key(query, level))
    except paging.PagingProblem as problem:
        violations.add("page_token", str(problem))
    return handlers.HsSearch(query, level, size, offset)


def search_key(query: hs.SearchQuery, level: int | None) -> str:
    return f"{query.key()}|level:{level or 0}"


class ComplianceServicer(pb_grpc.ComplianceServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory) -> None:
        self.uow_factory = uow_factory

    def GetHsCode(self, request: pb.GetHsCodeRequest, context: grpc.ServicerContext) -> pb.GetHsCodeResponse:
        code = fields.parsed(parse_hs_code, request.code)
        return pb.GetHsCodeResponse(hs_code=hs_code_to_proto(handlers.get_hs_code(self.uow_factory, code)))

    def SearchHsCodes(
        self, request: pb.SearchHsCodesRequest, context: grpc.ServicerContext
    ) -> pb.SearchHsCodesResponse:
        violations = Violations()
        search = parse_search(request, violations)
        violations.raise_if_any()
        assert search is not None  # a missing query is a violation, raised above
        page = handlers.search_hs_codes(self.uow_factory, search)
        token = (
            ""
            if page.next_offset is None
            else paging.encode_token(page.next_offset, search_key(search.query, search.level))
        )
        return pb.SearchHsCodesResponse(
            hs_codes=[hs_code_to_proto(e) for e in page.entries], next_page_token=token, total_size=page.total
        )
