"""RiskAlertService servicer: validate once (naming each bad field), call the handler, map to proto."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from xborder.compliance.v1 import risk_alert_service_pb2 as pb
from xborder.compliance.v1 import risk_alert_service_pb2_grpc as pb_grpc

from services.compliance.domain import paging
from services.compliance.domain.alerts import CODE_TYPE, CODE_TYPES, AlertStatus, RiskAlert
from services.compliance.service_layer import risk_alerts as handlers
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint

STATUSES = {AlertStatus.OPEN: pb.RISK_ALERT_STATUS_OPEN, AlertStatus.ACKNOWLEDGED: pb.RISK_ALERT_STATUS_ACKNOWLEDGED}
_STATUS_FILTER = {v: k for k, v in STATUSES.items()} | {pb.RISK_ALERT_STATUS_UNSPECIFIED: None}


def _alert_code(value: str, violations: Violations) -> str:
    code = fields.unified_code(value, "code", violations)
    if code and code[:2] not in CODE_TYPES:
        violations.add("code", f"expected a risk alert code ({CODE_TYPE}), got {code[:2]}")
        return ""
    return code


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
        merchant = fields.unified_code(request.merchant_code, "merchant_code", violations, "MC")
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
        code = fields.parsed(_alert_code, request.code)
        return pb.GetRiskAlertResponse(alert=alert_to_proto(handlers.get_alert(self.uow_factory, code)))

    def AcknowledgeRiskAlert(
        self, request: pb.AcknowledgeRiskAlertRequest, context: grpc.ServicerContext
    ) -> pb.AcknowledgeRiskAlertResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        code = _alert_code(request.code, violations)
        violations.raise_if_any()
        command = handlers.Acknowledge(request.request_id, code, fingerprint(request))

        def render(alert: RiskAlert) -> pb.AcknowledgeRiskAlertResponse:
            return pb.AcknowledgeRiskAlertResponse(alert=alert_to_proto(alert))

        return handlers.acknowledge_alert(self.uow_factory, command, render, pb.AcknowledgeRiskAlertResponse)
