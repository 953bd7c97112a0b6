"""Compliance reports from the compliance service's ProductComplianceService.GetProductCheck over gRPC (its
address is read at each call, so the embedded platform and tests that bind free ports reach the port bound)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from xborder.compliance.v1 import product_compliance_service_pb2 as pb
from xborder.compliance.v1 import product_compliance_service_pb2_grpc as pb_grpc

from services.logistics.domain.compliance_reports import ComplianceReport, ReportFinding
from services.logistics.service_layer.compliance import ComplianceUnavailable, ReportNotFound
from services.shared.grpc_server import REQUEST_ID_HEADER, channel_options, remaining_timeout
from services.shared.logs import current_request_id
from services.shared.settings import Settings

TIMEOUT_S = 2.0  # a match answers without the report rather than wait long for it


def report_from_proto(answer: pb.GetProductCheckResponse) -> ComplianceReport:
    report = answer.report
    return ComplianceReport(
        code=report.code,
        destination=report.destination,
        merchant_code=answer.merchant_code,
        battery_attributes={a.name: a.value for a in answer.battery_attributes},
        findings=tuple(
            ReportFinding(
                rule_code=f.rule_code,
                severity=f.severity,
                requirement_kind=f.requirement_kind,
                requirement_code=f.requirement_code,
                title=f.title,
                determined=f.determined,
                uncertain=f.uncertain,
            )
            for f in report.findings
        ),
    )


class GrpcComplianceReports:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._address = ""
        self._channel: grpc.Channel | None = None

    def _stub(self) -> pb_grpc.ProductComplianceServiceStub:
        settings = self._settings()
        address = settings.service_address("compliance")
        if self._channel is None or address != self._address:
            if self._channel is not None:
                self._channel.close()
            self._channel = grpc.insecure_channel(address, options=channel_options(settings))
            self._address = address
        return pb_grpc.ProductComplianceServiceStub(self._channel)

    def report(self, code: str) -> ComplianceReport:
        metadata = ((REQUEST_ID_HEADER, current_request_id() or ""),)
        try:
            answer = self._stub().GetProductCheck(
                pb.GetProductCheckRequest(code=code),
                timeout=min(TIMEOUT_S, remaining_timeout(self._settings().default_deadline_s)),
                metadata=metadata,
            )
        except grpc.RpcError as error:
            status = error.code() if hasattr(error, "code") else None
            if status in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise ReportNotFound(code) from None
            raise ComplianceUnavailable(f"the compliance service is not available right now ({status})") from None
        return report_from_proto(answer)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
