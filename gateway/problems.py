"""RFC 9457 problem details (`application/problem+json`) from gRPC statuses and gateway-side errors.

A problem carries `type`, `title`, `status`, `detail` and `instance`, plus the extension members `reason`
(google.rpc.ErrorInfo.reason), `correlation_id` (the X-Request-Id of the call, to find it in the logs; not
the request's idempotency key, which a caller sends as the Idempotency-Key header or `requestId`) and
`errors` (google.rpc.BadRequest field violations). Details a
service did not write itself (transport errors, which name internal addresses) never reach the caller.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from services.shared.error_statuses import http_status, status_of
from services.shared.errors import FieldViolation, TransferRefused, XborderError
from services.shared.grpc_errors import status_details

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://xborder.io/problems/"

# What a caller is told when the service itself wrote no detail (the transport's text names internal hosts).
_GENERIC_DETAIL: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAVAILABLE: "the {service} service is not available right now; retry later",
    grpc.StatusCode.DEADLINE_EXCEEDED: "the {service} service did not answer within the deadline",
    grpc.StatusCode.CANCELLED: "the call was cancelled",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "the {service} service is overloaded or the message is too large",
}


@dataclass
class Problem:
    status: int
    reason: str
    detail: str
    instance: str
    correlation_id: str | None = None
    errors: Sequence[FieldViolation] = ()
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_BASE + self.reason.lower().replace("_", "-")

    @property
    def title(self) -> str:
        return self.reason.replace("_", " ").capitalize()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": self.instance,
            "reason": self.reason,
        }
        if self.correlation_id:
            out["correlation_id"] = self.correlation_id
        if self.errors:
            out["errors"] = [{"field": v.field, "detail": v.description} for v in self.errors]
        out.update(self.extensions)
        return out

    def encode(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")).encode()


def from_domain_error(error: XborderError, instance: str, correlation_id: str | None) -> Problem:
    """A problem for an error the gateway itself raised (bad query parameter, body too large...)."""
    problem = Problem(status_of(error).http, error.reason, error.message, instance, correlation_id, error.violations)
    if isinstance(error, TransferRefused):
        problem.extensions["transfer"] = dict(error.metadata)
    return problem


def from_rpc_error(error: grpc.RpcError, service: str, instance: str, correlation_id: str | None) -> Problem:
    """A problem for a failed backend call, keeping the service's reason, detail and field violations."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    try:
        reason, violations, _ = status_details(error)
    except ValueError:  # grpc-status-details-bin disagreeing with the status: trust neither
        reason, violations = None, []
    if reason is not None:
        detail = (error.details() if hasattr(error, "details") else None) or reason
    else:
        # No ErrorInfo: the status came from the transport or an unmapped fault, not from our services.
        reason = code.name if code in _GENERIC_DETAIL else "INTERNAL"
        detail = _GENERIC_DETAIL.get(code, "internal error (the request id identifies it in the logs)")
        detail = detail.format(service=service)
    status = http_status(reason, code)
    errors = [FieldViolation(f, d) for f, d in violations]
    return Problem(status, reason, detail, instance, correlation_id, errors)
