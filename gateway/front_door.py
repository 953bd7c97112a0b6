"""The gRPC front door (port 50050): partners call one address, and each call is forwarded to its service.

Messages pass through as raw bytes (nothing is decoded), with the caller's metadata, the request id and the
remaining deadline (clamped to the default). The backend's status code, details and trailing metadata,
including `grpc-status-details-bin`, come back unchanged. Only methods that declare a required scope are
forwarded; the rest are refused with PERMISSION_DENIED. Health, reflection (listing the proxied services)
and the observability interceptor come from the shared server bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc

from gateway.audit_chain import Call
from gateway.audit_log import AuditLog, AuditSink, classes_carried, utc_now
from gateway.audit_store import open_store
from gateway.auth import AUTHORIZATION, Guard
from gateway.backends import Backends, Metadata
from gateway.descriptors import MethodInfo, ServiceInfo, discover
from gateway.edge_settings import EdgeSettings
from gateway.partner_auth import PartnerTlsSettings, peer_fingerprint
from gateway.rate_limits import Limiter, caller_of, limiter_for
from gateway.tenancy import Principal
from gateway.transfer_guard import DESTINATION_HEADER, TransferGuard, TransferSettings, declared_destination
from services.shared.error_statuses import status_of
from services.shared.errors import PermissionDenied, TransferRefused, XborderError
from services.shared.grpc_server import REQUEST_ID_HEADER, RunningServer, remaining_timeout, serve
from services.shared.logs import current_request_id, get_logger, new_request_id
from services.shared.settings import Settings

log = get_logger(__name__)

# Metadata that belongs to one hop and must not be copied onto the next. The caller's API key is among
# them: it is checked here, and the services behind the gateway never need nor see it.
_HOP_METADATA = frozenset(
    {
        "authorization",
        "user-agent",
        "content-type",
        "te",
        "host",
        "connection",
        "grpc-accept-encoding",
        "grpc-encoding",
        "grpc-timeout",
        "grpc-trace-bin",
        REQUEST_ID_HEADER,
    }
)


def forwarded_metadata(incoming: Sequence[tuple[str, Any]], request_id: str) -> Metadata:
    """The caller's metadata minus per-hop keys, plus the request id this call is logged under."""
    kept = [(key, value) for key, value in incoming if key not in _HOP_METADATA and not key.startswith(":")]
    return (*kept, (REQUEST_ID_HEADER, request_id))


class FrontDoor(grpc.GenericRpcHandler):
    """Finds the backend for `/pkg.Service/Method` and answers with a bytes-in, bytes-out forwarder.

    A method whose service runs in this very process (the embedded platform) is given `local` handlers
    instead: the service's own servicer is called without a loopback gRPC hop, under the same interceptor,
    so errors, request ids and deadlines behave exactly as when forwarded.
    """

    def __init__(
        self,
        settings: Settings,
        services: Sequence[ServiceInfo],
        backends: Backends,
        local: Mapping[str, grpc.RpcMethodHandler] | None = None,
        guard: Guard | None = None,
        limiter: Limiter | None = None,
        audit: AuditSink | None = None,
        transfers: TransferGuard | None = None,
    ) -> None:
        self.settings = settings
        self.backends = backends
        local = local or {}
        self.methods: dict[str, MethodInfo] = {
            m.grpc_path: m for s in services for m in s.methods if s.service in backends or m.grpc_path in local
        }
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}
        for path, method in self.methods.items():
            if method.required_scope is None:
                log.warning("rpc_not_exposed", rpc=path, why="no (xborder.common.v1.required_scope)")
                # None (de)serializers: the request stays the bytes that came off the wire.
                self._handlers[path] = grpc.unary_unary_rpc_method_handler(self._refuse(path))
            elif path in local:
                self._handlers[path] = local[path]
            else:
                self._handlers[path] = grpc.unary_unary_rpc_method_handler(self._forwarder(method))
            if guard is not None and method.required_scope is not None:
                self._handlers[path] = guarded(self._handlers[path], method, guard, transfers)
            if limiter is not None or audit is not None:
                self._handlers[path] = at_the_edge(self._handlers[path], method, limiter, audit)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self._handlers.get(handler_call_details.method)

    @staticmethod
    def _refuse(path: str) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        def refuse(request: bytes, context: grpc.ServicerContext) -> bytes:
            raise PermissionDenied(f"{path} declares no required scope, so the gateway does not expose it")

        return refuse

    def _forwarder(self, method: MethodInfo) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        call = self.backends.raw_callable(method.service, method.grpc_path)
        default_deadline = self.settings.default_deadline_s

        def forward(request: bytes, context: grpc.ServicerContext) -> bytes:
            request_id = current_request_id() or new_request_id()
            metadata = forwarded_metadata(tuple(context.invocation_metadata() or ()), request_id)
            try:
                reply, outcome = call.with_call(request, timeout=remaining_timeout(default_deadline), metadata=metadata)
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
                trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
                context.set_trailing_metadata(_with_request_id(trailing, request_id))
                context.abort(code, (error.details() if hasattr(error, "details") else None) or "")
            context.set_trailing_metadata(_with_request_id(outcome.trailing_metadata(), request_id))
            return reply

        return forward


def guarded(
    handler: grpc.RpcMethodHandler, method: MethodInfo, guard: Guard, transfers: TransferGuard | None = None
) -> grpc.RpcMethodHandler:
    """The handler behind the same checks as REST: the key in `authorization` metadata, scope, tenancy,
    and the cross-border transfer rules on the answer.

    A forwarder sees bytes: the request is decoded only to check or fill its merchant codes, and the reply
    only when it must be screened for another merchant's data or checked against the transfer rules.
    """
    inner = handler.unary_unary
    assert inner is not None
    raw = handler.request_deserializer is None

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        incoming = dict(context.invocation_metadata() or ())
        authorization = incoming.get(AUTHORIZATION)
        metadata = ((REQUEST_ID_HEADER, current_request_id() or new_request_id()),)
        message = method.input_class.FromString(request) if raw else request
        declared = incoming.get(DESTINATION_HEADER)
        declared = declared_destination(declared if isinstance(declared, str) else None, DESTINATION_HEADER)
        checked = guard.check_sync(
            method,
            message,
            authorization if isinstance(authorization, str) else None,
            metadata,
            peer_fingerprint(context),
        )
        facts = _FACTS.get()
        if facts is not None:
            facts.principal = checked.principal
            facts.country = guard.country_sync(checked.principal, metadata)
        bound = checked.principal is not None and (
            checked.principal.merchant_code is not None
            or checked.rule.session_field is not None
            or checked.principal.is_partner
        )
        if bound and raw:
            request = message.SerializeToString()
        reply = inner(request, context)
        principal = checked.principal
        checks_transfer = transfers is not None and principal is not None
        if checked.screens_response or checks_transfer:
            decoded = method.output_class.FromString(reply) if raw else reply
            checked.screen(decoded)
            if transfers is not None and principal is not None:
                try:
                    outcome = transfers.enforce_sync(guard, method, principal, message, decoded, declared, metadata)
                except TransferRefused as refused:
                    if facts is not None:
                        facts.destination = refused.metadata.get("destination", "")
                        facts.transfers = (refused.metadata.get("decision", ""),)
                    raise
                if facts is not None:
                    facts.destination, facts.transfers = outcome.destination, outcome.decisions
            reply = decoded.SerializeToString() if raw else decoded
        return reply

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


@dataclass
class _CallFacts:
    """What the inner handlers learn about a call that its audit entry needs (the caller, once checked)."""

    principal: Principal | None = None
    country: str = ""
    destination: str = ""
    transfers: tuple[str, ...] = ()


_FACTS: ContextVar[_CallFacts | None] = ContextVar("front_door_call_facts", default=None)
RETRY_AFTER_METADATA = "retry-after"


def _outcome(error: BaseException | None, context: grpc.ServicerContext) -> str:
    if isinstance(error, XborderError):
        return status_of(error).grpc.name
    code = getattr(context, "code", lambda: None)()
    if isinstance(code, grpc.StatusCode):
        return code.name
    # Anything else that escaped is answered INTERNAL by the server's interceptor.
    return "OK" if error is None else "INTERNAL"


def at_the_edge(
    handler: grpc.RpcMethodHandler, method: MethodInfo, limiter: Limiter | None, audit: AuditSink | None
) -> grpc.RpcMethodHandler:
    """The handler behind the rate limit, with every call and its outcome recorded in the audit log."""
    inner = handler.unary_unary
    assert inner is not None
    raw = handler.request_deserializer is None

    def classes(data: Any, message_class: Any) -> tuple[str, ...]:
        try:
            return classes_carried(message_class.FromString(data) if raw else data)
        except Exception:  # an undecodable message carries no class the audit can name
            return ()

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        facts = _CallFacts()
        # Without an audit log nobody reads the facts: the guard then skips the country look-up.
        token = _FACTS.set(facts if audit is not None else None)
        reply: Any = None
        failure: BaseException | None = None
        try:
            if limiter is not None:
                incoming = dict(context.invocation_metadata() or ())
                authorization = incoming.get(AUTHORIZATION)
                wait = limiter.take(
                    caller_of(authorization if isinstance(authorization, str) else None, context.peer()),
                    method.grpc_path,
                )
                if wait is not None:
                    context.set_trailing_metadata(((RETRY_AFTER_METADATA, str(max(1, math.ceil(wait)))),))
                    context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "too many calls of this method from this caller; retry after the retry-after seconds",
                    )
            reply = inner(request, context)
            return reply
        except BaseException as error:
            failure = error
            raise
        finally:
            _FACTS.reset(token)
            if audit is not None:
                principal = facts.principal
                audit(
                    Call(
                        at=utc_now(),
                        door="grpc",
                        rpc=method.grpc_path,
                        outcome=_outcome(failure, context),
                        key_id=principal.key_id if principal else "",
                        merchant_code=(principal.merchant_code or "") if principal else "",
                        request_classes=classes(request, method.input_class),
                        response_classes=() if reply is None else classes(reply, method.output_class),
                        caller_country=facts.country,
                        service=method.service,
                        correlation_id=current_request_id() or "",
                        destination=facts.destination,
                        transfers=facts.transfers,
                    )
                )

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


def _with_request_id(trailing: Sequence[Any] | None, request_id: str) -> Metadata:
    kept = [(k, v) for k, v in (trailing or ()) if k != REQUEST_ID_HEADER]
    return (*kept, (REQUEST_ID_HEADER, request_id))


def serve_front_door(
    settings: Settings,
    port: int | None = None,
    *,
    services: Sequence[ServiceInfo] | None = None,
    local: Mapping[str, grpc.RpcMethodHandler] | None = None,
    authenticate: bool = True,
    edge: EdgeSettings | None = None,
    transfer: TransferSettings | None = None,
    partner_tls: PartnerTlsSettings | None = None,
) -> RunningServer:
    """Start the front door on `port` (default settings.gateway_grpc_port; 0 picks a free one).

    `local`: handlers of services running in this process, by method path, served without forwarding.
    `authenticate`: API keys, scopes and tenancy, as on REST (gateway/auth.py).
    `edge`: audit and rate limits (default: from XB_* variables); the REST app in the same process writes
    to the same audit file, and the store keeps the two in one chain.
    `transfer`: the cross-border transfer rules (default: from XB_* variables), applied when authenticating.
    `partner_tls`: the mTLS port for partners (default: from XB_PARTNER_* variables; off unless a port is
    set); its bound port is `running.secure_port`.
    """
    transfer = transfer or TransferSettings.from_env()
    edge = edge or EdgeSettings.from_env()
    partner_tls = partner_tls or PartnerTlsSettings.from_env()
    secure = None
    if partner_tls.enabled and authenticate:
        assert partner_tls.port is not None
        secure = (partner_tls.port, partner_tls.server_credentials())
    limiter = limiter_for(edge)
    audit = AuditLog(open_store(edge, settings)) if edge.audit else None
    found = discover() if services is None else services
    local = local or {}
    in_process = {m.service for s in found for m in s.methods if m.grpc_path in local}
    backends = Backends(settings, {s.service for s in found} - in_process, local if authenticate else None)
    guard = Guard(backends, {m.grpc_path: m for s in found for m in s.methods}) if authenticate else None
    transfers = None
    if guard is not None and transfer.enabled:
        all_methods = {m.grpc_path: m for s in found for m in s.methods}
        transfers = TransferGuard(backends, all_methods, transfer, transfer.open_counters(settings))
    handler = FrontDoor(settings, found, backends, local, guard, limiter, audit.record if audit else None, transfers)

    def register(server: grpc.Server) -> None:
        server.add_generic_rpc_handlers((handler,))

    names = sorted({m.service_full_name for m in handler.methods.values()})
    running = serve(
        settings,
        [register],
        names,
        port=settings.gateway_grpc_port if port is None else port,
        host=settings.bind_host,
        secure_port=secure,
        check_field_rules=False,
    )
    running.on_stop.append(backends.close)
    if limiter is not None:
        running.on_stop.append(limiter.close)
    if transfers is not None:
        running.on_stop.append(transfers.close)
    if audit is not None:
        running.on_stop.append(audit.close)
    return running
