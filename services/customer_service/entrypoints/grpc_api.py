"""CustomerService servicer: validate each request once (naming every bad field), call the use case, map
the result to proto."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from services.customer_service.adapters.blobs import BlobStore
from services.customer_service.adapters.odr_providers import OdrProvider
from services.customer_service.domain.errors import AttachmentTooLarge
from services.customer_service.domain.macros import NAME as MACRO_NAME
from services.customer_service.domain.macros import PLACEHOLDERS, PLATFORM, Macro, unknown_placeholders
from services.customer_service.domain.odr import OdrStatus, Remedy
from services.customer_service.domain.sla import Clock, ClockState, SlaBook, Target
from services.customer_service.domain.surveys import HIGHEST, LOWEST, Survey
from services.customer_service.domain.tickets import (
    BOT_SOURCE,
    AuthorKind,
    Link,
    LinkKind,
    Priority,
    Status,
    TicketType,
    Visibility,
    normal_tag,
)
from services.customer_service.entrypoints import odr_proto
from services.customer_service.entrypoints.bot_api import BotMethods
from services.customer_service.service_layer import bot as bot_handlers
from services.customer_service.service_layer import macros as macro_handlers
from services.customer_service.service_layer import odr as odr_handlers
from services.customer_service.service_layer import surveys as survey_handlers
from services.customer_service.service_layer import tickets as handlers
from services.customer_service.service_layer.linked_records import LinkedRecords
from services.customer_service.service_layer.tickets import TicketView
from services.shared import request_fields
from services.shared.errors import Violations
from services.shared.idempotency import Request, fingerprint

SUBJECT_MAX = 200
BODY_MAX = 20_000
TAG_MAX = 50
COMMENT_MAX = 2000
SCOPE = "customer_service"

TYPES = {t: getattr(pb, f"TICKET_TYPE_{t.value}") for t in TicketType}
STATUSES = {s: getattr(pb, f"TICKET_STATUS_{s.value}") for s in Status}
PRIORITIES = {p: getattr(pb, f"TICKET_PRIORITY_{p.name}") for p in Priority}
LINK_KINDS = {k: getattr(pb, f"LINK_KIND_{k.value}") for k in LinkKind}
AUTHORS = {a: getattr(pb, f"AUTHOR_KIND_{a.value}") for a in AuthorKind}
VISIBILITIES = {v: getattr(pb, f"VISIBILITY_{v.value}") for v in Visibility}
TARGETS = {t: getattr(pb, f"SLA_TARGET_{t.value}") for t in Target}
CLOCK_STATES = {s: getattr(pb, f"SLA_STATE_{s.value}") for s in ClockState}


def _reverse(table: dict) -> dict:
    return {v: k for k, v in table.items()}


def _stamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def clock_to_proto(clock: Clock) -> pb.SlaClock:
    message = pb.SlaClock(
        target=TARGETS[clock.target],
        state=CLOCK_STATES[clock.state],
        target_minutes=clock.target_minutes,
        elapsed_minutes=clock.elapsed_minutes,
    )
    if clock.due_at is not None:
        message.due_at.CopyFrom(_stamp(clock.due_at))
    if clock.met_at is not None:
        message.met_at.CopyFrom(_stamp(clock.met_at))
    return message


def shown_clocks(clocks: list[Clock]) -> list[Clock]:
    """First response, the latest next-response cycle (if any), resolution."""
    by_target = {clock.target: clock for clock in clocks}  # the last cycle of next response wins
    return [by_target[t] for t in Target if t in by_target]


def survey_to_proto(survey: Survey) -> pb.SatisfactionSurvey:
    message = pb.SatisfactionSurvey(
        offered_at=_stamp(survey.offered_at), rated=survey.rated, score=survey.score or 0, comment=survey.comment
    )
    if survey.rated_at is not None:
        message.rated_at.CopyFrom(_stamp(survey.rated_at))
    return message


def _percent(value: object) -> str:
    return "" if value is None else str(value)


def macro_to_proto(macro: Macro) -> pb.Macro:
    message = pb.Macro(
        merchant_code=macro.owner,
        name=macro.name,
        title=macro.title,
        reply=macro.reply,
        reply_visibility=VISIBILITIES[macro.reply_visibility],
        status=pb.TICKET_STATUS_UNSPECIFIED if macro.status is None else STATUSES[macro.status],
        priority=pb.TICKET_PRIORITY_UNSPECIFIED if macro.priority is None else PRIORITIES[macro.priority],
        add_tags=sorted(macro.add_tags),
        remove_tags=sorted(macro.remove_tags),
        version=macro.version,
    )
    if macro.updated_at is not None:
        message.updated_at.CopyFrom(_stamp(macro.updated_at))
    return message


def ticket_to_proto(view: TicketView, *, messages: bool = True) -> pb.Ticket:
    ticket = view.ticket
    message = pb.Ticket(
        code=ticket.code,
        merchant_code=ticket.merchant_code,
        type=TYPES[ticket.type],
        subject=ticket.subject,
        status=STATUSES[ticket.status],
        priority=PRIORITIES[ticket.priority],
        tags=sorted(ticket.tags),
        group=ticket.group,
        agent=ticket.agent,
        links=[pb.LinkedCode(kind=LINK_KINDS[link.kind], code=link.code) for link in ticket.links],
        created_at=_stamp(ticket.created_at),
        merged_into=ticket.merged_into,
        source=ticket.source,
        sla=[clock_to_proto(c) for c in shown_clocks(view.clocks)],
    )
    if view.survey is not None:
        message.survey.CopyFrom(survey_to_proto(view.survey))
    previous = pb.TICKET_STATUS_UNSPECIFIED
    for change in ticket.history:
        message.history.append(
            pb.StatusChange(
                from_status=previous,
                to_status=STATUSES[change.status],
                effective_at=_stamp(change.effective_at),
                recorded_at=_stamp(change.recorded_at),
                reason=change.reason,
            )
        )
        previous = STATUSES[change.status]
    if messages:
        for m in ticket.messages:
            message.messages.append(
                pb.TicketMessage(
                    sequence=m.sequence,
                    author_kind=AUTHORS[m.author_kind],
                    author=m.author,
                    visibility=VISIBILITIES[m.visibility],
                    body=m.body,
                    created_at=_stamp(m.created_at),
                    attachments=[
                        pb.Attachment(
                            filename=a.filename, content_type=a.content_type, sha256=a.sha256, size_bytes=a.size_bytes
                        )
                        for a in m.attachments
                    ],
                )
            )
    return message


def _enum(value: int, table: dict, field: str, violations: Violations, *, default: object = None) -> object:
    """The domain value of a proto enum; `default` for UNSPECIFIED (required when None)."""
    reverse = _reverse(table)
    if value in reverse:
        return reverse[value]
    if value == 0 and default is not None:
        return default
    violations.add(field, "is required" if value == 0 else f"unknown value {value}")
    return None


def _text(value: str, field: str, violations: Violations, maximum: int, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        violations.add(field, "is required")
    elif len(text) > maximum:
        violations.add(field, f"at most {maximum} characters, got {len(text)}")
    return text


def _tags(values: list[str], field: str, violations: Violations) -> frozenset[str]:
    tags = set()
    for i, raw in enumerate(values):
        tag = normal_tag(raw)
        if not tag or len(tag) > TAG_MAX or any(c.isspace() for c in tag):
            violations.add(f"{field}[{i}]", f"a tag is 1..{TAG_MAX} characters without spaces, got {raw!r}")
        tags.add(tag)
    return frozenset(tags)


class CustomerServicer(BotMethods, pb_grpc.CustomerServiceServicer):
    ticket_to_proto = staticmethod(ticket_to_proto)

    def __init__(
        self,
        uow_factory: handlers.UowFactory,
        book: SlaBook,
        blobs: BlobStore,
        max_attachment_bytes: int,
        odr_policy: odr_handlers.OdrPolicy,
        records: LinkedRecords,
        odr_providers: Mapping[str, OdrProvider] | None = None,
        bot: bot_handlers.Bot | None = None,
    ):
        self.uow_factory = uow_factory
        self.book = book
        self.blobs = blobs
        self.max_attachment_bytes = max_attachment_bytes
        self.odr_policy = odr_policy
        self.bot = bot
        self.records = records
        self.odr_providers = odr_providers or {}

    def OpenTicket(self, request: pb.OpenTicketRequest, context: grpc.ServicerContext) -> pb.OpenTicketResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        ticket_type = _enum(request.type, TYPES, "type", violations)
        priority = _enum(request.priority, PRIORITIES, "priority", violations, default=Priority.NORMAL)
        subject = _text(request.subject, "subject", violations, SUBJECT_MAX)
        description = _text(request.description, "description", violations, BODY_MAX, required=False)
        tags = _tags(list(request.tags), "tags", violations)
        links = []
        for i, link in enumerate(request.links):
            kind = _enum(link.kind, LINK_KINDS, f"links[{i}].kind", violations)
            if isinstance(kind, LinkKind):
                code = request_fields.unified_code(link.code, f"links[{i}].code", violations, kind.entity_type)
                links.append(Link(kind, code))
        if len({link.code for link in links}) != len(links):
            violations.add("links", "lists the same code twice")
        violations.raise_if_any()
        assert isinstance(ticket_type, TicketType) and isinstance(priority, Priority)
        spec = handlers.TicketSpec(
            merchant,
            ticket_type,
            subject,
            description,
            priority,
            tags,
            tuple(links),
            source=BOT_SOURCE if request.bot else "api",
        )
        command = handlers.OpenTicket(self._request("open_ticket", merchant, request), spec)
        return handlers.open_ticket(
            self.uow_factory,
            self.book,
            command,
            pb.OpenTicketResponse,
            self._render(pb.OpenTicketResponse),
            records=self.records,
        )

    def GetTicket(self, request: pb.GetTicketRequest, context: grpc.ServicerContext) -> pb.GetTicketResponse:
        violations = Violations()
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        violations.raise_if_any()
        return pb.GetTicketResponse(ticket=ticket_to_proto(handlers.get_ticket(self.uow_factory, self.book, code)))

    def ListTickets(self, request: pb.ListTicketsRequest, context: grpc.ServicerContext) -> pb.ListTicketsResponse:
        violations = Violations()
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        status = _enum(request.status, STATUSES, "status", violations, default="any")
        size, cursor = request_fields.page(request.page_size, request.page_token, violations, default=20, maximum=100)
        violations.raise_if_any()
        offset = cursor or 0
        views, more = handlers.list_tickets(
            self.uow_factory, self.book, merchant, status if isinstance(status, Status) else None, offset, size
        )
        return pb.ListTicketsResponse(
            tickets=[ticket_to_proto(v, messages=False) for v in views],
            next_page_token=str(offset + len(views)) if more else "",
        )

    def ChangeTicketStatus(
        self, request: pb.ChangeTicketStatusRequest, context: grpc.ServicerContext
    ) -> pb.ChangeTicketStatusResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        status = _enum(request.status, STATUSES, "status", violations)
        effective_at = None
        if request.HasField("effective_at"):
            effective_at = request.effective_at.ToDatetime(tzinfo=UTC)
        merged_into = ""
        if status is Status.MERGED:
            merged_into = request_fields.unified_code(request.merged_into, "merged_into", violations, "TK")
        elif request.merged_into:
            violations.add("merged_into", "only with status MERGED")
        reason = _text(request.reason, "reason", violations, SUBJECT_MAX, required=False)
        violations.raise_if_any()
        assert isinstance(status, Status)
        command = handlers.ChangeStatus(
            self._request("change_status", code, request), code, status, effective_at, reason, merged_into
        )
        return handlers.change_status(
            self.uow_factory,
            self.book,
            command,
            pb.ChangeTicketStatusResponse,
            self._render(pb.ChangeTicketStatusResponse),
        )

    def AddTicketMessage(
        self, request: pb.AddTicketMessageRequest, context: grpc.ServicerContext
    ) -> pb.AddTicketMessageResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        author_kind = _enum(request.author_kind, AUTHORS, "author_kind", violations)
        if author_kind is AuthorKind.SYSTEM:
            violations.add("author_kind", "SYSTEM messages come from the platform's own events")
        visibility = _enum(request.visibility, VISIBILITIES, "visibility", violations, default=Visibility.PUBLIC)
        if author_kind is AuthorKind.CUSTOMER and visibility is Visibility.INTERNAL:
            violations.add("visibility", "internal notes are for agents")
        author = _text(request.author, "author", violations, SUBJECT_MAX)
        body = _text(request.body, "body", violations, BODY_MAX)
        attachments = []
        for i, attachment in enumerate(request.attachments):
            field = f"attachments[{i}]"
            filename = _text(attachment.filename, f"{field}.filename", violations, 255)
            if "/" in filename or "\\" in filename:
                violations.add(f"{field}.filename", "a file name, not a path")
            content_type = _text(attachment.content_type, f"{field}.content_type", violations, 255)
            if not attachment.content:
                violations.add(f"{field}.content", "is required (an empty file is not an attachment)")
            elif len(attachment.content) > self.max_attachment_bytes:
                violations.add(
                    f"{field}.content",
                    f"at most {self.max_attachment_bytes} bytes, got {len(attachment.content)}",
                    error=AttachmentTooLarge,
                )
            attachments.append(handlers.NewAttachment(filename, content_type, attachment.content))
        violations.raise_if_any()
        assert isinstance(author_kind, AuthorKind) and isinstance(visibility, Visibility)
        command = handlers.AddMessage(
            self._request("add_message", code, request), code, author_kind, author, visibility, body, tuple(attachments)
        )
        return handlers.add_message(
            self.uow_factory,
            self.book,
            self.blobs,
            command,
            pb.AddTicketMessageResponse,
            self._render(pb.AddTicketMessageResponse),
        )

    def UpdateTicket(self, request: pb.UpdateTicketRequest, context: grpc.ServicerContext) -> pb.UpdateTicketResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        priority = _enum(request.priority, PRIORITIES, "priority", violations, default="unchanged")
        add = _tags(list(request.add_tags), "add_tags", violations)
        remove = _tags(list(request.remove_tags), "remove_tags", violations)
        group = (
            _text(request.group, "group", violations, SUBJECT_MAX, required=False)
            if request.HasField("group")
            else None
        )
        agent = (
            _text(request.agent, "agent", violations, SUBJECT_MAX, required=False)
            if request.HasField("agent")
            else None
        )
        violations.raise_if_any()
        command = handlers.UpdateTicket(
            self._request("update_ticket", code, request),
            code,
            priority if isinstance(priority, Priority) else None,
            add,
            remove,
            group,
            agent,
        )
        return handlers.update_ticket(
            self.uow_factory, self.book, command, pb.UpdateTicketResponse, self._render(pb.UpdateTicketResponse)
        )

    def GetSlaMetrics(
        self, request: pb.GetSlaMetricsRequest, context: grpc.ServicerContext
    ) -> pb.GetSlaMetricsResponse:
        violations = Violations()
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        count, metrics, csat = handlers.sla_metrics(self.uow_factory, self.book, merchant)
        return pb.GetSlaMetricsResponse(
            satisfaction=pb.Satisfaction(
                offered=csat.offered,
                rated=csat.rated,
                good=csat.good,
                bad=csat.bad,
                csat_percent=_percent(csat.csat_percent),
                response_rate_percent=_percent(csat.response_rate_percent),
            ),
            tickets=count,
            targets=[
                pb.TargetMetrics(
                    target=TARGETS[m.target],
                    hit=m.hit,
                    missed=m.missed,
                    attainment_percent="" if m.attainment_percent is None else str(m.attainment_percent),
                    median_minutes=m.median_minutes,
                    p90_minutes=m.p90_minutes,
                )
                for m in metrics
            ],
        )

    def EscalateToOdr(
        self, request: pb.EscalateToOdrRequest, context: grpc.ServicerContext
    ) -> pb.EscalateToOdrResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.ticket_code, "ticket_code", violations, "TK")
        reason = _text(request.reason, "reason", violations, SUBJECT_MAX, required=False)
        claimant = odr_proto.party(request.claimant, "claimant", violations) if request.HasField("claimant") else None
        remedy = _enum(request.remedy, odr_proto.REMEDIES, "remedy", violations, default="by type")
        amount = (
            request_fields.money(request.amount, violations, "amount", positive=True)
            if request.HasField("amount")
            else None
        )
        statement = _text(request.statement, "statement", violations, BODY_MAX, required=False)
        violations.raise_if_any()
        command = odr_handlers.Escalate(
            self._request("escalate_to_odr", code, request),
            code,
            reason,
            claimant,
            remedy if isinstance(remedy, Remedy) else None,
            amount,
            statement,
        )
        return odr_handlers.escalate(
            self.uow_factory,
            self.odr_policy,
            command,
            pb.EscalateToOdrResponse,
            lambda view: pb.EscalateToOdrResponse(case=odr_proto.case_to_proto(view)),
            records=self.records,
        )

    def RecordOdrStatus(
        self, request: pb.RecordOdrStatusRequest, context: grpc.ServicerContext
    ) -> pb.RecordOdrStatusResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.ticket_code, "ticket_code", violations, "TK")
        status = _enum(request.status, odr_proto.ODR_STATUSES, "status", violations)
        if status is OdrStatus.SUBMITTED:
            violations.add("status", "SUBMITTED is the platform's own status, not a provider's")
        note = _text(request.note, "note", violations, BODY_MAX, required=False)
        reference = _text(request.provider_reference, "provider_reference", violations, SUBJECT_MAX, required=False)
        outcome = odr_proto.outcome(request.outcome, "outcome", violations) if request.HasField("outcome") else None
        violations.raise_if_any()
        assert isinstance(status, OdrStatus)
        command = odr_handlers.RecordStatus(
            self._request("record_odr_status", code, request), code, status, note, reference, outcome
        )
        return odr_handlers.record_status(
            self.uow_factory,
            command,
            pb.RecordOdrStatusResponse,
            lambda view: pb.RecordOdrStatusResponse(case=odr_proto.case_to_proto(view)),
        )

    def GetOdrCase(self, request: pb.GetOdrCaseRequest, context: grpc.ServicerContext) -> pb.GetOdrCaseResponse:
        violations = Violations()
        code = request_fields.unified_code(request.ticket_code, "ticket_code", violations, "TK")
        violations.raise_if_any()
        return pb.GetOdrCaseResponse(case=odr_proto.case_to_proto(odr_handlers.get_case(self.uow_factory, code)))

    def RateTicket(self, request: pb.RateTicketRequest, context: grpc.ServicerContext) -> pb.RateTicketResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        if not LOWEST <= request.score <= HIGHEST:
            violations.add(
                "score", f"from {LOWEST} (very dissatisfied) to {HIGHEST} (very satisfied), got {request.score}"
            )
        comment = _text(request.comment, "comment", violations, COMMENT_MAX, required=False)
        violations.raise_if_any()
        command = survey_handlers.Rate(self._request("rate_ticket", code, request), code, request.score, comment)
        return survey_handlers.rate_ticket(
            self.uow_factory, self.book, command, pb.RateTicketResponse, self._render(pb.RateTicketResponse)
        )

    def SaveMacro(self, request: pb.SaveMacroRequest, context: grpc.ServicerContext) -> pb.SaveMacroResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        given = request.macro
        owner = (
            request_fields.merchant_code(given.merchant_code, violations, field="macro.merchant_code")
            if given.merchant_code
            else PLATFORM
        )
        name = given.name.strip()
        if not MACRO_NAME.match(name):
            violations.add("macro.name", f"lower-case letters, digits, '.', '_', '-' (1-80), got {given.name!r}")
        title = _text(given.title, "macro.title", violations, SUBJECT_MAX, required=False)
        reply = _text(given.reply, "macro.reply", violations, BODY_MAX, required=False)
        unknown = unknown_placeholders(reply)
        if unknown:
            violations.add(
                "macro.reply", f"unknown placeholders {', '.join(unknown)}; known: {', '.join(PLACEHOLDERS)}"
            )
        visibility = _enum(
            given.reply_visibility, VISIBILITIES, "macro.reply_visibility", violations, default=Visibility.PUBLIC
        )
        status = _enum(given.status, STATUSES, "macro.status", violations, default="unchanged")
        if status is Status.MERGED:
            violations.add("macro.status", "merging needs the ticket to merge into; use ChangeTicketStatus")
        priority = _enum(given.priority, PRIORITIES, "macro.priority", violations, default="unchanged")
        add = _tags(list(given.add_tags), "macro.add_tags", violations)
        remove = _tags(list(given.remove_tags), "macro.remove_tags", violations)
        if not (reply or isinstance(status, Status) or isinstance(priority, Priority) or add or remove):
            violations.add("macro", "does nothing: give a reply, a status, a priority or tags")
        violations.raise_if_any()
        assert isinstance(visibility, Visibility)
        macro = Macro(
            owner,
            name,
            title,
            reply,
            visibility,
            status if isinstance(status, Status) else None,
            priority if isinstance(priority, Priority) else None,
            add,
            remove,
        )
        command = macro_handlers.SaveMacro(self._request("save_macro", owner or "platform", request), macro)
        return macro_handlers.save_macro(
            self.uow_factory, command, pb.SaveMacroResponse, lambda m: pb.SaveMacroResponse(macro=macro_to_proto(m))
        )

    def ListMacros(self, request: pb.ListMacrosRequest, context: grpc.ServicerContext) -> pb.ListMacrosResponse:
        violations = Violations()
        merchant = request_fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        found = macro_handlers.visible_macros(self.uow_factory, merchant)
        return pb.ListMacrosResponse(macros=[macro_to_proto(m) for m in found])

    def ApplyMacro(self, request: pb.ApplyMacroRequest, context: grpc.ServicerContext) -> pb.ApplyMacroResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.code, "code", violations, "TK")
        name = request.macro_name.strip()
        if not MACRO_NAME.match(name):
            violations.add("macro_name", f"a macro name, got {request.macro_name!r}")
        agent = _text(request.agent, "agent", violations, SUBJECT_MAX)
        violations.raise_if_any()
        command = macro_handlers.ApplyMacro(self._request("apply_macro", code, request), code, name, agent)
        return macro_handlers.apply_macro(
            self.uow_factory,
            self.book,
            self.blobs,
            command,
            pb.ApplyMacroResponse,
            self._render(pb.ApplyMacroResponse),
        )

    def ListOdrCases(self, request: pb.ListOdrCasesRequest, context: grpc.ServicerContext) -> pb.ListOdrCasesResponse:
        violations = Violations()
        status = _enum(request.status, odr_proto.ODR_STATUSES, "status", violations, default="any")
        merchant = request_fields.merchant_code(request.merchant_code, violations) if request.merchant_code else ""
        size, cursor = request_fields.page(request.page_size, request.page_token, violations, default=20, maximum=100)
        violations.raise_if_any()
        offset = cursor or 0
        views, more = odr_handlers.list_cases(
            self.uow_factory,
            status if isinstance(status, OdrStatus) else None,
            merchant,
            request.undelivered_only,
            offset,
            size,
        )
        cases = []
        for view in views:
            case = odr_proto.case_to_proto(view)
            case.ClearField("case_file_json")  # GetOdrCase shows one; a page of them would be heavy
            cases.append(case)
        return pb.ListOdrCasesResponse(cases=cases, next_page_token=str(offset + len(views)) if more else "")

    def RetryOdrDelivery(
        self, request: pb.RetryOdrDeliveryRequest, context: grpc.ServicerContext
    ) -> pb.RetryOdrDeliveryResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.unified_code(request.ticket_code, "ticket_code", violations, "TK")
        violations.raise_if_any()
        command = odr_handlers.RetryDelivery(self._request("retry_odr_delivery", code, request), code)
        return odr_handlers.retry_delivery(
            self.uow_factory,
            self.odr_providers,
            self.odr_policy,
            command,
            pb.RetryOdrDeliveryResponse,
            lambda view: pb.RetryOdrDeliveryResponse(case=odr_proto.case_to_proto(view)),
        )

    @staticmethod
    def _request(use_case: str, owner: str, message: object) -> Request:
        # Keys are per merchant (open) or per ticket (changes), as Stripe's are per account.
        return Request(f"{SCOPE}.{use_case}:{owner}", message.request_id, fingerprint(message))  # type: ignore[attr-defined, arg-type]

    @staticmethod
    def _render(response_type: type) -> handlers.Render:
        def render(view: TicketView) -> object:
            return response_type(ticket=ticket_to_proto(view))

        return render
