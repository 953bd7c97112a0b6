"""Mapping between domain errors and gRPC statuses with google.rpc.ErrorInfo and BadRequest details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.shared.error_statuses import status_of
from services.shared.errors import ERROR_DOMAIN, XborderError


def to_status(error: XborderError, request_id: str | None = None) -> grpc.Status:
    """A rich status: ErrorInfo(reason, domain, metadata) and, when fields are at fault, BadRequest."""
    metadata = dict(error.metadata)
    if request_id:
        metadata["request_id"] = request_id
    details = []
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=metadata))
    details.append(info)
    if error.violations:
        bad = any_pb2.Any()
        bad.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in error.violations
                ]
            )
        )
        details.append(bad)
    status = status_pb2.Status(code=status_of(error).grpc.value[0], message=error.message, details=details)
    return rpc_status.to_status(status)


def internal_status(request_id: str | None) -> grpc.Status:
    """What a caller sees for an unexpected fault: no internals, only the id to find it in the logs."""
    metadata = {"request_id": request_id} if request_id else {}
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN, metadata=metadata))
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.INTERNAL, message=f"internal error (request id {request_id})", details=[info])
    )


def status_details(error: grpc.RpcError) -> tuple[str | None, list[tuple[str, str]], dict[str, str]]:
    """(reason, [(field, description)], metadata) from a rich status; empties when it has none."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason: str | None = None
    violations: list[tuple[str, str]] = []
    metadata: dict[str, str] = {}
    if status is None:
        return reason, violations, metadata
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [(v.field, v.description) for v in bad.field_violations]
    return reason, violations, metadata
