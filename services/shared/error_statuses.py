"""Reason -> gRPC status code and HTTP status: the one table the edge translates domain errors with.

Error classes (services/shared/errors.py and each service's domain) carry only a stable `reason`; the
gRPC interceptor (services/shared/grpc_server.py) and the gateway's problem+json (gateway/problems.py)
both look the reason up here, so a caller sees the same outcome over gRPC and over HTTP. A reason's HTTP
status is its gRPC code's mapping in google/rpc/code.proto unless the table says something more precise
(413 for a body that is too large, 415 for a body that is not JSON).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from services.shared.errors import XborderError

Code = grpc.StatusCode

# google/rpc/code.proto gives each code its HTTP mapping.
HTTP_STATUS_OF_CODE: dict[grpc.StatusCode, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.UNAUTHENTICATED: 401,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
}


@dataclass(frozen=True)
class ErrorStatus:
    """How one reason is answered: its gRPC status code and its HTTP status."""

    grpc: grpc.StatusCode
    http: int


def _by_code(code: grpc.StatusCode, http: int | None = None) -> ErrorStatus:
    return ErrorStatus(code, HTTP_STATUS_OF_CODE[code] if http is None else http)


ERROR_STATUSES: dict[str, ErrorStatus] = {
    # The kernel's reasons (services/shared/errors.py).
    "INTERNAL": _by_code(Code.INTERNAL),
    "VALIDATION_FAILED": _by_code(Code.INVALID_ARGUMENT),
    "CODE_CHECK_FAILED": _by_code(Code.INVALID_ARGUMENT),
    "UNKNOWN_CURRENCY": _by_code(Code.INVALID_ARGUMENT),
    "NOT_FOUND": _by_code(Code.NOT_FOUND),
    "RATE_UNAVAILABLE": _by_code(Code.NOT_FOUND),
    "REFERENCE_DATA_MISSING": _by_code(Code.FAILED_PRECONDITION),
    "IDEMPOTENCY_CONFLICT": _by_code(Code.ALREADY_EXISTS),
    "ALREADY_EXISTS": _by_code(Code.ALREADY_EXISTS),
    "UNAVAILABLE": _by_code(Code.UNAVAILABLE),
    "PAYLOAD_TOO_LARGE": _by_code(Code.RESOURCE_EXHAUSTED, 413),
    "UNSUPPORTED_MEDIA_TYPE": _by_code(Code.INVALID_ARGUMENT, 415),
    "PERMISSION_DENIED": _by_code(Code.PERMISSION_DENIED),
    "UNAUTHENTICATED": _by_code(Code.UNAUTHENTICATED),
    "MERCHANT_HELD": _by_code(Code.PERMISSION_DENIED),
    "STEP_UP_REQUIRED": _by_code(Code.PERMISSION_DENIED),
    # Cross-border transfer refusals: 451 Unavailable For Legal Reasons (RFC 7725) says exactly this.
    "TRANSFER_BLOCKED": _by_code(Code.PERMISSION_DENIED, 451),
    "TRANSFER_BASIS_MISSING": _by_code(Code.PERMISSION_DENIED, 451),
    # Envelope encryption (services/shared/crypto/errors.py). DATA_LOSS: stored data is not what was written.
    "DECRYPTION_FAILED": _by_code(Code.DATA_LOSS),
    "KEY_UNAVAILABLE": _by_code(Code.FAILED_PRECONDITION),
    "KEY_RETIRED": _by_code(Code.FAILED_PRECONDITION),
    # Payments: FX.
    "RATE_STALE": _by_code(Code.UNAVAILABLE),
    "QUOTE_EXPIRED": _by_code(Code.FAILED_PRECONDITION),
    "QUOTE_USED": _by_code(Code.FAILED_PRECONDITION),
    # Payments: ledger, settlement and payouts.
    "CURRENCY_MISMATCH": _by_code(Code.INVALID_ARGUMENT),
    "FAILED_PRECONDITION": _by_code(Code.FAILED_PRECONDITION),
    "INSUFFICIENT_FUNDS": _by_code(Code.FAILED_PRECONDITION),
    "PENDING_TRANSFER_RESOLVED": _by_code(Code.FAILED_PRECONDITION),
    "PENDING_TRANSFER_EXPIRED": _by_code(Code.FAILED_PRECONDITION),
    "REFUND_EXCEEDS_COLLECTED": _by_code(Code.FAILED_PRECONDITION),
    "INVALID_STATE": _by_code(Code.FAILED_PRECONDITION),
    "DUPLICATE_PARTNER_REFERENCE": _by_code(Code.ALREADY_EXISTS),
    # Customer service: tickets.
    "ILLEGAL_TRANSITION": _by_code(Code.FAILED_PRECONDITION),
    "TICKET_CLOSED": _by_code(Code.FAILED_PRECONDITION),
    "BOT_INACTIVE": _by_code(Code.FAILED_PRECONDITION),
    # Logistics: overseas-warehouse stock.
    "INSUFFICIENT_STOCK": _by_code(Code.FAILED_PRECONDITION),
}
"""Every reason an XborderError may carry (a test walks every error class and errors.proto against it)."""

_FALLBACK = ERROR_STATUSES["INTERNAL"]


def status_of(error: XborderError) -> ErrorStatus:
    """How `error` is answered: its reason's entry, else the nearest base class's, else INTERNAL.

    The base-class step keeps a new subclass that forgot its table entry answering like its parent
    rather than as an internal error; the table test still insists on the entry.
    """
    reasons = [error.reason, *(getattr(cls, "reason", None) for cls in type(error).__mro__)]
    for reason in reasons:
        if isinstance(reason, str) and reason in ERROR_STATUSES:
            return ERROR_STATUSES[reason]
    return _FALLBACK


def http_status(reason: str | None, code: grpc.StatusCode) -> int:
    """The HTTP status for a failed call: by its reason when the table gives that reason this code, else by
    the code alone (a status without ErrorInfo, or passed through from another service, keeps its code's
    mapping)."""
    found = ERROR_STATUSES.get(reason) if reason else None
    if found is not None and found.grpc == code:
        return found.http
    return HTTP_STATUS_OF_CODE.get(code, 500)
