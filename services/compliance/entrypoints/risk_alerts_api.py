"""RiskAlertService servicer: validate once (naming each bad field), call the handler, map to proto."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.compliance.v1 import risk_alert_service_pb2 as pb
from xborder.compliance.v1 import risk_alert_service_pb2_grpc as pb_grpc

from services.compliance.domain import paging
from services.compliance.domain.alerts import AlertStatus, RiskAlert
from services.compliance.service_layer import risk_alerts as handlers
from services.shared import codes
from services.shared.errors import ValidationError, Violations
from services.shared.idempotency import IDEMPOTENCY_KEY_MAX, fingerprint

STATUSES = {AlertStatus.OPEN: pb.RISK_ALERT_STATUS_OPEN, AlertStatus.ACKNOWLEDGED: pb.RISK_ALERT_STATUS_ACKNOWLEDGED}
_STATUS_FILTER = {v: k for k, v in STATUSES.items()} | {pb.RISK_ALERT_STATUS_UNSPECIFIED: None}


def _code(value: str, field: str, violations: Violations, entity_type: str) -> str:
    try:
        return codes.parse(value, field=field, entity_type=entity_type).value
    except ValidationError as error:
        for v in error.violations:
            violations.add(v.field, v.description)
        return ""


def alert_to_proto(alert: RiskAlert) -> pb.RiskAlert:
    raised = Timestamp()
    raised.FromDatetime(alert.raised_at)
    message = pb.RiskAlert(
        code=alert.code,
        merchant_code=alert.merchant_code,
        subject_kind=alert.subject_kind.value,
        subject_code=alert.subject_code,
        party_name=alert.party_name,
        destination=alert.destination,
        old_verdict=alert.old_verdict,
        new_verdict=alert.new_verdict,
        cause=alert.cause,
        raised_at=raised,
        status=STATUSES[alert.status],
        reason=alert.reason,
    )
    if alert.acknowledged_at is not None:
        message.acknowledged_at.FromDatetime(alert.acknowledged_at)
    return message


class RiskAlertServicer(pb_grpc.RiskAlertServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory) -> None:
        self.uow_factory = uow_factory

    def ListRiskAlerts(
        self, request: pb.ListRiskAlertsRequest, context: grpc.ServicerContext
    ) -> pb.ListRiskAlertsResponse:
        violations = Violations()
        merchant = _code(request.merchant_code, "merchant_code", violations, "MC")
        if request.status not in _STATUS_FILTER:
            violations.add("status", f"unknown status {request.status}")
        size = 0
        try:
            size = paging.page_size(request.page_size)
        except paging.PagingProblem as problem:
            violations.add("page_size", str(problem))
        search = f"risk-alerts:{merchant}:{request.status}"
        offset = 0
        try:
            offset = paging.decode_token(request.page_token, search)
        except paging.PagingProblem as problem:
            violations.add("page_token", str(problem))
        violations.raise_if_any()
        page, more = handlers.list_alerts(self.uow_factory, merchant, _STATUS_FILTER[request.status], offset, size)
        token = paging.encode_token(offset + len(page), search) if more else ""
        return pb.ListRiskAlertsResponse(alerts=[alert_to_proto(a) for a in page], next_page_token=token)

    def GetRiskAlert(self, request: pb.GetRiskAlertRequest, context: grpc.ServicerContext) -> pb.GetRiskAlertResponse:
        violations = Violations()
        code = _code(request.code, "code", violations, "FX")
        violations.raise_if_any()
        return pb.GetRiskAlertResponse(alert=alert_to_proto(handlers.get_alert(self.uow_factory, code)))

    def AcknowledgeRiskAlert(
        self, request: pb.AcknowledgeRiskAlertRequest, context: grpc.ServicerContext
    ) -> pb.AcknowledgeRiskAlertResponse:
        violations = Violations()
        if not request.request_id.strip():
            violations.add("request_id", "required: a client-chosen id that makes retries safe")
        elif len(request.request_id) > IDEMPOTENCY_KEY_MAX:
            violations.add("request_id", f"at most {IDEMPOTENCY_KEY_MAX} characters, got {len(request.request_id)}")
        code = _code(request.code, "code", violations, "FX")
        violations.raise_if_any()
        command = handlers.Acknowledge(request.request_id, code, fingerprint(request))

        def render(alert: RiskAlert) -> bytes:
            return pb.AcknowledgeRiskAlertResponse(alert=alert_to_proto(alert)).SerializeToString()

        return pb.AcknowledgeRiskAlertResponse.FromString(handlers.acknowledge_alert(self.uow_factory, command, render))
