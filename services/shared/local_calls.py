"""Calling a service's gRPC method handler in this process, exactly as its server would, minus the wire.

The embedded platform runs the gateway beside the services; a loopback gRPC hop there costs as much
Python work as the call itself (docs/benchmarks.md). `invoke_local` runs the handler under the same
ObservabilityInterceptor as every server (request id, logs, metrics, deadline clamp, error mapping), and
a failure surfaces as a `LocalRpcError` that carries the status code, details and rich-status trailing
metadata a real call would have, so callers handle both alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from services.shared.grpc_server import ObservabilityInterceptor

Metadata = Sequence[tuple[str, str | bytes]]


class LocalRpcError(grpc.RpcError):
    """The failure of an in-process call, shaped like the grpc.RpcError of a real one (code, details,
    trailing metadata with `grpc-status-details-bin`), so grpc_status.rpc_status.from_call reads it."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Metadata) -> None:
        super().__init__(details)
        self._code, self._details, self._trailing = code, details, tuple(trailing)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:
        return self._trailing


class _LocalContext:
    """The parts of grpc.ServicerContext that the interceptor and our servicers use."""

    def __init__(self, metadata: Metadata, timeout: float) -> None:
        self._metadata = tuple(metadata)
        self._deadline = time.monotonic() + timeout
        self._trailing: Metadata = ()
        self._code: grpc.StatusCode | None = None

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def time_remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self._trailing = tuple(metadata)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code = code
        raise LocalRpcError(code, details, self._trailing)

    def abort_with_status(self, status: grpc.Status) -> None:
        self._code = status.code
        raise LocalRpcError(status.code, status.details, (*self._trailing, *status.trailing_metadata))


@dataclass(frozen=True)
class _CallDetails:
    method: str
    invocation_metadata: Metadata


def invoke_local(
    handler: grpc.RpcMethodHandler,
    request: Any,
    *,
    method: str,
    metadata: Metadata,
    timeout: float,
    default_deadline_s: float,
) -> Any:
    """Run one unary call of `handler` (a decoded request in, a decoded reply out); LocalRpcError on failure."""
    details = _CallDetails(method, tuple(metadata))
    wrapped = ObservabilityInterceptor(default_deadline_s).intercept_service(lambda _: handler, details)  # type: ignore[arg-type]
    assert wrapped is not None and wrapped.unary_unary is not None
    return wrapped.unary_unary(request, _LocalContext(metadata, timeout))  # type: ignore[arg-type]
