"""ReturnService servicer: parse each message once (every bad field named), call the use case, answer proto."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar, cast

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from xborder.logistics.v1 import returns_service_pb2 as pb
from xborder.logistics.v1 import returns_service_pb2_grpc as pb_grpc

from services.logistics.domain.returns import (
    Condition,
    CostOption,
    Disposition,
    ReasonCode,
    ReturnStatus,
    Rma,
    Route,
    WarehouseFees,
)
from services.logistics.entrypoints import plan_requests
from services.logistics.service_layer import returns as handlers
from services.shared import request_fields
from services.shared.clock import utcnow
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint
from services.shared.money import to_proto

MAX_LINES = 99  # CEB 625 allows 99 list entries per return
MAX_QUANTITY = 10_000
MAX_TEXT = 1000  # CEB 625 reason: C..1000
MAX_CLOSE_REASON = 500
MAX_ORDER_REFERENCE = 60  # CEB 625 orderNo: C..60
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_WAREHOUSE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")

# The proto stubs type an enum's values as its wrapper class, `Value` as a plain int.
STATUSES: dict[ReturnStatus, pb.ReturnStatus] = {
    s: cast(pb.ReturnStatus, pb.ReturnStatus.Value(f"RETURN_STATUS_{s.name}")) for s in ReturnStatus
}
ROUTES: dict[Route, pb.ReturnRoute] = {
    r: cast(pb.ReturnRoute, pb.ReturnRoute.Value(f"RETURN_ROUTE_{r.name}")) for r in Route
}
DISPOSITIONS: dict[Disposition, pb.ReturnDisposition] = {
    d: cast(pb.ReturnDisposition, pb.ReturnDisposition.Value(f"RETURN_DISPOSITION_{d.name}")) for d in Disposition
}
REASONS: dict[ReasonCode, pb.ReturnReason] = {
    r: cast(pb.ReturnReason, pb.ReturnReason.Value(f"RETURN_REASON_{r.name}")) for r in ReasonCode
}
CONDITIONS: dict[Condition, pb.ItemCondition] = {
    c: cast(pb.ItemCondition, pb.ItemCondition.Value(f"ITEM_CONDITION_{c.name}")) for c in Condition
}
ROUTE_OF = {v: k for k, v in ROUTES.items()}
DISPOSITION_OF = {v: k for k, v in DISPOSITIONS.items()}
REASON_OF = {v: k for k, v in REASONS.items()}
CONDITION_OF = {v: k for k, v in CONDITIONS.items()}


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _option(option: CostOption) -> pb.ReturnCostOption:
    answer = pb.ReturnCostOption(
        route=ROUTES[option.route],
        available=option.total is not None,
        breakdown=[pb.CostItem(name=name, amount=to_proto(amount)) for name, amount in option.breakdown],
        basis=option.basis,
        missing=option.missing,
        channel_code=option.channel_code,
        warehouse_code=option.warehouse_code,
    )
    if option.total is not None:
        answer.total.CopyFrom(to_proto(option.total))
    return answer


def return_to_proto(rma: Rma) -> pb.Return:
    answer = pb.Return(
        code=rma.code,
        merchant_code=rma.merchant_code,
        shipment_code=rma.shipment_code,
        outbound_waybill=rma.outbound_waybill,
        order_reference=rma.order_reference,
        reason=rma.reason,
        status=STATUSES[rma.status],
        lines=[
            pb.ReturnLine(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                reason=REASONS[line.reason],
                condition=CONDITIONS[line.condition] if line.condition else pb.ITEM_CONDITION_UNSPECIFIED,
            )
            for line in rma.lines
        ],
        destination_country=rma.destination_country,
        origin_country=rma.origin_country,
        route=ROUTES[rma.route] if rma.route else pb.RETURN_ROUTE_UNSPECIFIED,
        return_waybill=rma.return_waybill,
        label_reference=rma.label_reference,
        disposition=DISPOSITIONS[rma.disposition] if rma.disposition else pb.RETURN_DISPOSITION_UNSPECIFIED,
        warehouse_code=rma.warehouse_code,
        refund_collection_code=rma.refund_collection_code,
        note=rma.note,
        authorised_at=_timestamp(rma.authorised_at),
        updated_at=_timestamp(rma.updated_at),
        carrier=rma.carrier,
        receiving_warehouse=rma.receiving_warehouse,
    )
    if rma.comparison is not None:
        c = rma.comparison
        answer.cost_comparison.CopyFrom(
            pb.ReturnCostComparison(
                restock=_option(c.restock),
                return_to_origin=_option(c.return_to_origin),
                recommended=ROUTES[c.recommended] if c.recommended else pb.RETURN_ROUTE_UNSPECIFIED,
                reason=c.reason,
            )
        )
    if rma.refund_amount is not None:
        answer.refund_amount.CopyFrom(to_proto(rma.refund_amount))
    return answer


R = TypeVar("R", bound=Message)


def responder(response_type: type[R]) -> Callable[[Rma], R]:
    """Every ReturnService answer is the return as it stands after the call."""
    return lambda rma: response_type(rma=return_to_proto(rma))


def authorise_command(
    request: pb.AuthoriseReturnRequest, postal: plan_requests.PostalRules
) -> handlers.AuthoriseReturn:
    violations = Violations()
    key = request_fields.request_id(request.request_id, violations)
    shipment = request_fields.unified_code(request.shipment_code, "shipment_code", violations, "YD")
    if not request.lines:
        violations.add("lines", "at least one line is required")
    if len(request.lines) > MAX_LINES:
        violations.add("lines", f"at most {MAX_LINES} lines, got {len(request.lines)}")
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(request.lines[:MAX_LINES]):
        where = f"lines[{i}]"
        sku = line.sku.strip()
        if not _SKU.match(sku):
            violations.add(f"{where}.sku", "is required: 1-64 letters, digits, '.', '_', '/' or '-'")
        elif sku in seen:
            violations.add(f"{where}.sku", f"{sku} is on another line already: one line per SKU")
        seen.add(sku)
        if not 1 <= line.quantity <= MAX_QUANTITY:
            violations.add(f"{where}.quantity", f"must be 1-{MAX_QUANTITY}, got {line.quantity}")
        reason = REASON_OF.get(line.reason)
        if reason is None:
            violations.add(f"{where}.reason", "is required: one of " + ", ".join(pb.ReturnReason.keys()[1:]))
        lines.append(handlers.LineRequest(sku, line.quantity, reason or ReasonCode.OTHER))
    if len(request.order_reference.strip()) > MAX_ORDER_REFERENCE:
        violations.add("order_reference", f"at most {MAX_ORDER_REFERENCE} characters")
    if len(request.reason) > MAX_TEXT:
        violations.add("reason", f"at most {MAX_TEXT} characters")
    if len(request.parcels) > plan_requests.MAX_PARCELS:
        violations.add("parcels", f"at most {plan_requests.MAX_PARCELS} parcels, got {len(request.parcels)}")
    parcels = [
        plan_requests.parcel(p, f"parcels[{i}]", violations)
        for i, p in enumerate(request.parcels[: plan_requests.MAX_PARCELS])
    ]
    origin = "CN"
    if request.origin_country.strip():
        origin = plan_requests.country(request.origin_country, "origin_country", violations, postal)
    violations.raise_if_any()
    return handlers.AuthoriseReturn(
        key,
        fingerprint(request),
        shipment,
        tuple(lines),
        request.order_reference.strip(),
        request.reason.strip(),
        tuple(p for p in parcels if p is not None),
        origin,
    )


def step_of(request_id: str, code: str, message: Message, action: str, violations: Violations) -> handlers.Step:
    key = request_fields.request_id(request_id, violations)
    parsed = request_fields.unified_code(code, "code", violations, "TH")
    return handlers.Step(key, fingerprint(message), parsed, action)


class ReturnServicer(pb_grpc.ReturnServiceServicer):
    def __init__(
        self,
        uow_factory: handlers.UowFactory,
        catalogue: handlers.CatalogueSource,
        fees: Mapping[str, WarehouseFees],
        postal: plan_requests.PostalRules,
        stock: handlers.RestockedUnits,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow_factory = uow_factory
        self.catalogue = catalogue
        self.fees = fees
        self.postal = postal
        self.stock = stock
        self.now = now

    def AuthoriseReturn(
        self, request: pb.AuthoriseReturnRequest, context: grpc.ServicerContext
    ) -> pb.AuthoriseReturnResponse:
        command = authorise_command(request, self.postal)
        return handlers.authorise_return(
            self.uow_factory,
            self.catalogue,
            self.fees,
            command,
            pb.AuthoriseReturnResponse,
            responder(pb.AuthoriseReturnResponse),
            self.now,
        )

    def GetReturn(self, request: pb.GetReturnRequest, context: grpc.ServicerContext) -> pb.GetReturnResponse:
        violations = Violations()
        code = request_fields.unified_code(request.code, "code", violations, "TH")
        violations.raise_if_any()
        return responder(pb.GetReturnResponse)(handlers.get_return(self.uow_factory, code))

    def IssueReturnLabel(
        self, request: pb.IssueReturnLabelRequest, context: grpc.ServicerContext
    ) -> pb.IssueReturnLabelResponse:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, "issue_label", violations)
        violations.raise_if_any()
        route = ROUTE_OF.get(request.route)
        response = pb.IssueReturnLabelResponse
        return handlers.issue_label(self.uow_factory, step, route, response, responder(response), self.now)

    def RecordReturnInTransit(
        self, request: pb.RecordReturnInTransitRequest, context: grpc.ServicerContext
    ) -> pb.RecordReturnInTransitResponse:
        return self._record(request, ReturnStatus.IN_TRANSIT, "in_transit", pb.RecordReturnInTransitResponse)

    def ReceiveReturn(
        self, request: pb.ReceiveReturnRequest, context: grpc.ServicerContext
    ) -> pb.ReceiveReturnResponse:
        return self._record(request, ReturnStatus.RECEIVED, "receive", pb.ReceiveReturnResponse)

    def _record(self, request: Message, to: ReturnStatus, action: str, response: type[R]) -> R:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, action, violations)  # type: ignore[attr-defined]
        violations.raise_if_any()
        return handlers.record_step(self.uow_factory, step, to, response, responder(response), self.now)

    def InspectReturn(
        self, request: pb.InspectReturnRequest, context: grpc.ServicerContext
    ) -> pb.InspectReturnResponse:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, "inspect", violations)
        conditions: dict[int, Condition] = {}
        if not request.lines:
            violations.add("lines", "the condition of every line is required")
        for i, line in enumerate(request.lines[:MAX_LINES]):
            condition = CONDITION_OF.get(line.condition)
            if condition is None:
                violations.add(f"lines[{i}].condition", "is required: one of " + ", ".join(pb.ItemCondition.keys()[1:]))
            if line.line_no in conditions:
                violations.add(f"lines[{i}].line_no", f"line {line.line_no} is given twice")
            conditions[line.line_no] = condition or Condition.MISSING
        violations.raise_if_any()
        response = pb.InspectReturnResponse
        return handlers.inspect(self.uow_factory, step, conditions, response, responder(response), self.now)

    def DecideReturnDisposition(
        self, request: pb.DecideReturnDispositionRequest, context: grpc.ServicerContext
    ) -> pb.DecideReturnDispositionResponse:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, "decide", violations)
        disposition = DISPOSITION_OF.get(request.disposition)
        if disposition is None:
            violations.add("disposition", "is required: one of " + ", ".join(pb.ReturnDisposition.keys()[1:]))
        warehouse = request.warehouse_code.strip().upper()
        if warehouse and not _WAREHOUSE.match(warehouse):
            violations.add("warehouse_code", "1-40 upper-case letters, digits, '_' or '-'")
        if warehouse and disposition is not Disposition.RESTOCK:
            violations.add("warehouse_code", "only a restock names a warehouse")
        violations.raise_if_any()
        assert disposition is not None
        return handlers.decide_disposition(
            self.uow_factory,
            step,
            disposition,
            warehouse,
            self.fees,
            self.stock,
            pb.DecideReturnDispositionResponse,
            responder(pb.DecideReturnDispositionResponse),
            self.now,
        )

    def RequestReturnRefund(
        self, request: pb.RequestReturnRefundRequest, context: grpc.ServicerContext
    ) -> pb.RequestReturnRefundResponse:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, "refund", violations)
        collection = request_fields.unified_code(request.collection_code, "collection_code", violations, "PY")
        amount = request_fields.money(
            request.amount if request.HasField("amount") else None, violations, "amount", positive=True
        )
        violations.raise_if_any()
        assert amount is not None
        response = pb.RequestReturnRefundResponse
        return handlers.request_refund(
            self.uow_factory, step, collection, amount, response, responder(response), self.now
        )

    def RejectReturn(self, request: pb.RejectReturnRequest, context: grpc.ServicerContext) -> pb.RejectReturnResponse:
        return self._close(request, ReturnStatus.REJECTED, "reject", pb.RejectReturnResponse)

    def CancelReturn(self, request: pb.CancelReturnRequest, context: grpc.ServicerContext) -> pb.CancelReturnResponse:
        return self._close(request, ReturnStatus.CANCELLED, "cancel", pb.CancelReturnResponse)

    def _close(
        self, request: pb.RejectReturnRequest | pb.CancelReturnRequest, to: ReturnStatus, action: str, response: type[R]
    ) -> R:
        violations = Violations()
        step = step_of(request.request_id, request.code, request, action, violations)
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_CLOSE_REASON:
            violations.add("reason", f"is required, at most {MAX_CLOSE_REASON} characters")
        violations.raise_if_any()
        return handlers.close(self.uow_factory, step, to, reason, response, responder(response), self.now)
