"""gRPC server bootstrap: health, reflection, the error/observability interceptor, limits, shutdown.

Every xborder gRPC server (each service and the gateway's front door) is built here, so they all behave
the same: request ids, JSON logs, metrics, rich error details, bounded message sizes and deadlines.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.shared import field_rules
from services.shared.error_statuses import status_of
from services.shared.errors import XborderError, declared_violations
from services.shared.grpc_errors import internal_status, to_status
from services.shared.logs import bind_request, get_logger, new_request_id
from services.shared.metrics import RPC_LATENCY
from services.shared.settings import Settings

log = get_logger(__name__)

REQUEST_ID_HEADER = "x-request-id"

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def remaining_timeout(default: float) -> float:
    """Seconds left for downstream calls: the caller's deadline clamped to `default`.

    grpcio does not propagate deadlines (grpc/grpc#26236) and reports ~9.2e18 s without one.
    """
    deadline = _deadline.get()
    if deadline is None:
        return default
    return max(0.001, min(default, deadline - time.monotonic()))


class ObservabilityInterceptor(grpc.ServerInterceptor):
    """Binds a request id, times the call, and turns exceptions into rich statuses."""

    def __init__(self, default_deadline_s: float, *, check_field_rules: bool = True) -> None:
        self.default_deadline_s = default_deadline_s
        self.check_field_rules = check_field_rules

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary
        default_deadline = self.default_deadline_s

        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            request_id = str(metadata.get(REQUEST_ID_HEADER) or new_request_id())
            bind_request(request_id, rpc=method)
            remaining = context.time_remaining()
            budget = default_deadline if remaining is None else min(default_deadline, remaining)
            token = _deadline.set(time.monotonic() + budget)
            context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            started = time.perf_counter()
            code = "OK"
            try:
                # The field rules the proto states (and /openapi.json publishes) are checked before the servicer
                # runs; the gateway's front door forwards raw bytes, which the service behind it checks.
                checks = self.check_field_rules and isinstance(request, Message)
                declared = field_rules.violations_of(request) if checks else None
                if not declared:
                    with declared_violations(None):  # an in-process call inside a refused one starts clean
                        return inner(request, context)
                # The servicer's validation still runs, so one answer names its bad fields too; it refuses at
                # its first raise_if_any. Should it not refuse, the declared rules still do.
                with declared_violations(declared):
                    inner(request, context)
                declared.raise_if_any()
                return None
            except XborderError as error:
                code = status_of(error).grpc.name
                log.info("rpc_rejected", reason=error.reason, error=error.message)
                context.abort_with_status(to_status(error, request_id))
            except grpc.RpcError as error:
                # A downstream call failed and was not handled: pass its status through unchanged.
                if hasattr(error, "code") and isinstance(error.code(), grpc.StatusCode):
                    code = error.code().name
                    context.abort(error.code(), error.details() or "")
                raise
            except Exception:
                if context.code() is not None:  # type: ignore[attr-defined]  # the handler already called abort()
                    raise
                code = "INTERNAL"
                log.exception("rpc_failed")
                context.abort_with_status(internal_status(request_id))
            finally:
                _deadline.reset(token)
                RPC_LATENCY.labels(method, code).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class _HandlerCollector:
    """Stands in for a grpc.Server to capture what a generated `add_*Servicer_to_server` registers."""

    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        pass  # the same handlers arrive, by method name, through add_registered_method_handlers

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.handlers.update({f"/{service}/{method}": handler for method, handler in handlers.items()})


def method_handlers(register: Iterable[Callable[[grpc.Server], None]]) -> dict[str, grpc.RpcMethodHandler]:
    """The handlers that `register` would add to a server, by "/pkg.Service/Method" path."""
    collector = _HandlerCollector()
    for add in register:
        add(collector)  # type: ignore[arg-type]
    return collector.handlers


def channel_options(settings: Settings) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", settings.grpc_max_message_bytes),
        ("grpc.max_send_message_length", settings.grpc_max_message_bytes),
    ]


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: Sequence[str]
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    secure_port: int = 0
    """The TLS port bound beside the plaintext one (the front door's partner port); 0 when none."""

    def stop(self, grace: float = 5.0) -> None:
        """Graceful shutdown: report NOT_SERVING, finish in-flight calls for `grace` seconds, then stop."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        for callback in self.on_stop:
            callback()


def serve(
    settings: Settings,
    register: Iterable[Callable[[grpc.Server], None]],
    service_names: Sequence[str],
    *,
    port: int,
    host: str | None = None,
    extra_interceptors: Sequence[grpc.ServerInterceptor] = (),
    secure_port: tuple[int, grpc.ServerCredentials] | None = None,
    check_field_rules: bool = True,
) -> RunningServer:
    """Build and start a server on host:port (port 0 picks a free one, as tests do), and on a second port
    with TLS credentials when `secure_port` is given. `check_field_rules` is off for a proxy (the gateway's
    front door): the caller's request is not yet bound to its merchant there, and the service checks it."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="grpc"),
        interceptors=[
            ObservabilityInterceptor(settings.default_deadline_s, check_field_rules=check_field_rules),
            *extra_interceptors,
        ],
        options=[*channel_options(settings), ("grpc.so_reuseport", 0)],
        maximum_concurrent_rpcs=settings.grpc_workers * 16,
    )
    for add in register:
        add(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    full_names = [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
    reflection.enable_server_reflection(full_names, server)
    bound = server.add_insecure_port(f"{host or settings.host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC port {host or settings.host}:{port}")
    secure_bound = 0
    if secure_port is not None:
        secure_bound = server.add_secure_port(f"{host or settings.host}:{secure_port[0]}", secure_port[1])
        if secure_bound == 0:
            raise OSError(f"cannot bind the TLS gRPC port {host or settings.host}:{secure_port[0]}")
    server.start()
    for name in [*service_names, ""]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    running = RunningServer(server, bound, health_servicer, service_names, secure_port=secure_bound)
    # A registration may carry `bind_health(health) -> stop`: a service whose readiness depends on its
    # data (screening without every sanctions list) reports NOT_SERVING for itself until it is ready.
    for add in register:
        bind = getattr(add, "bind_health", None)
        if bind is not None:
            running.on_stop.append(bind(health_servicer))
    log.info("grpc_serving", services=list(service_names), port=bound)
    return running
