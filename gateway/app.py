"""The REST/JSON gateway: a Starlette app whose routes all come from the services' descriptors.

`create_app(settings)` reads every service's `google.api.http` rules; there is no hand-written handler per
route. Besides the transcoded routes it serves `/openapi.json`, `/healthz` and `/metrics`.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.audit_chain import Call
from gateway.audit_log import AuditLog, AuditSink, classes_carried, utc_now
from gateway.audit_store import open_store
from gateway.auth import AUTHORIZATION, Checked, Guard, www_authenticate
from gateway.backends import Backends
from gateway.descriptors import MethodInfo, ServiceInfo, discover, exposed_methods
from gateway.edge_headers import EdgeHeadersMiddleware
from gateway.edge_settings import EdgeSettings
from gateway.oauth_token import ISSUE, TOKEN_PATH
from gateway.oauth_token import issue as issue_token
from gateway.openapi import build_document
from gateway.problems import PROBLEM_CONTENT_TYPE, Problem, from_domain_error, from_rpc_error
from gateway.rate_limits import Limiter, caller_of, limiter_for
from gateway.tenancy import Principal
from gateway.transcoding import MethodNotAllowed, RouteNotFound, Router, build_routes
from gateway.transfer_guard import DESTINATION_HEADER, TransferGuard, TransferSettings, declared_destination
from services.shared.errors import (
    PayloadTooLarge,
    TransferRefused,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationError,
    XborderError,
)
from services.shared.grpc_server import REQUEST_ID_HEADER
from services.shared.logs import bind_request, get_logger, new_request_id
from services.shared.metrics import HTTP_LATENCY
from services.shared.settings import Settings

log = get_logger(__name__)

REQUEST_ID_RESPONSE_HEADER = "X-Request-Id"
TIMEOUT_HEADER = "x-request-timeout"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_SCOPE_KEY = "xborder.request"
HEALTH_TIMEOUT_S = 2.0


@dataclass
class RequestInfo:
    """Per-request facts shared between the middleware and the endpoint (via the ASGI scope)."""

    request_id: str
    route: str = "unmatched"
    rpc: str = "unmatched"
    service: str = ""
    principal: Principal | None = None
    caller_country: str = ""
    request_classes: tuple[str, ...] = ()
    response_classes: tuple[str, ...] = ()
    destination: str = ""
    transfers: tuple[str, ...] = ()

    def audited(self, outcome: int) -> Call:
        """What the audit log keeps of this call: names and classes, never a value."""
        principal = self.principal
        return Call(
            at=utc_now(),
            door="http",
            rpc=self.rpc,
            outcome=str(outcome),
            key_id=principal.key_id if principal else "",
            merchant_code=(principal.merchant_code or "") if principal else "",
            request_classes=self.request_classes,
            response_classes=self.response_classes,
            caller_country=self.caller_country,
            service=self.service,
            correlation_id=self.request_id,
            destination=self.destination,
            transfers=self.transfers,
        )


def accepted_request_id(value: str | None) -> str:
    """The caller's X-Request-Id when it is safe to log and forward, else a fresh one."""
    if value and _REQUEST_ID.match(value):
        return value
    return new_request_id()


def request_timeout(value: str | None, default: float) -> float:
    """Seconds for the backend call: X-Request-Timeout (decimal seconds) clamped to the default deadline."""
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValidationError.single("X-Request-Timeout", f"must be a positive number of seconds, got {value!r}")
    return min(seconds, default)


class RequestContextMiddleware:
    """Assigns the request id, echoes it in X-Request-Id and times each request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        info = RequestInfo(accepted_request_id(raw.decode("latin-1") if raw is not None else None))
        scope[_SCOPE_KEY] = info
        bind_request(info.request_id, http=f"{scope['method']} {scope['path']}")
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_RESPONSE_HEADER] = info.request_id
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            HTTP_LATENCY.labels(info.route, str(status)).observe(time.perf_counter() - started)


def request_info(scope: Scope) -> RequestInfo:
    info = scope.get(_SCOPE_KEY)
    if isinstance(info, RequestInfo):
        return info
    info = RequestInfo(new_request_id())
    scope[_SCOPE_KEY] = info
    return info


def error_response(error: XborderError, instance: str, request_id: str) -> Response:
    """A gateway-side refusal as a problem; a 401 carries its WWW-Authenticate challenge (RFC 6750)."""
    problem = from_domain_error(error, instance, request_id)
    if isinstance(error, Unauthenticated):
        problem.headers["WWW-Authenticate"] = www_authenticate(error)
    return problem_response(problem)


def problem_response(problem: Problem) -> Response:
    if problem.status >= 500:
        log.warning("http_problem", status=problem.status, reason=problem.reason, detail=problem.detail)
    return Response(
        problem.encode(), status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE, headers=problem.headers
    )


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed `limit` (never read whole first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_json_content_type(content_type: str | None) -> None:
    """Refuse a request body not declared as JSON (415): a form or text body is never guessed at."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not media:
        raise UnsupportedMediaType("a request body needs the header Content-Type: application/json")
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(f"request bodies must be application/json, got Content-Type {media}")


class Transcoder:
    """The one ASGI endpoint behind every http-annotated RPC: route, build the request, call, render."""

    def __init__(
        self,
        settings: Settings,
        router: Router,
        backends: Backends,
        fixed_paths: frozenset[str] = frozenset(),
        guard: Guard | None = None,
        limiter: Limiter | None = None,
        audit: AuditSink | None = None,
        transfers: TransferGuard | None = None,
    ) -> None:
        self.settings = settings
        self.transfers = transfers
        self.router = router
        self.backends = backends
        self.guard = guard
        self.limiter = limiter
        self.audit = audit
        # The GET-only endpoints (/healthz...): another method on them falls through to here.
        self.fixed_paths = fixed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except Exception as error:  # a fault of ours: the caller gets a problem, the log gets the trace
            response = await unexpected_error(request, error)
        if self.audit is not None:
            self.audit(request_info(scope).audited(response.status_code))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        info = request_info(request.scope)
        instance = request.url.path
        raw_path = request.scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(request.scope["path"])
        try:
            if path in self.fixed_paths:
                raise MethodNotAllowed(["GET"])
            route, values = self.router.resolve(request.method, path)
        except RouteNotFound:
            return problem_response(
                Problem(404, "NOT_FOUND", f"no route for {request.method} {instance}", instance, info.request_id)
            )
        except MethodNotAllowed as error:
            problem = Problem(
                405,
                "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed on {instance}; use {', '.join(error.allowed)}",
                instance,
                info.request_id,
                headers={"Allow": ", ".join(error.allowed)},
            )
            return problem_response(problem)
        info.route = route.template.template
        info.rpc, info.service = route.method.grpc_path, route.method.service
        authorization = request.headers.get(AUTHORIZATION)
        if self.limiter is not None:
            client = request.scope.get("client")
            wait = self.limiter.take(caller_of(authorization, client[0] if client else None), info.rpc)
            if wait is not None:
                return rate_limited(wait, instance, info.request_id)
        metadata = ((REQUEST_ID_HEADER, info.request_id),)
        checked: Checked | None = None
        if self.guard is not None:
            try:
                checked = await self.guard.authenticate(route.method, authorization, metadata)
            except XborderError as error:
                return error_response(error, instance, info.request_id)
            info.principal = checked.principal
            if self.audit is not None:
                info.caller_country = await self.guard.country(checked.principal, metadata)
        try:
            timeout = request_timeout(request.headers.get(TIMEOUT_HEADER), self.settings.default_deadline_s)
            body = await read_body(request, self.settings.http_max_body_bytes)
            if route.binding.body and body.strip():
                check_json_content_type(request.headers.get("content-type"))
            idempotency_key = request.headers.get("idempotency-key")
            declared = declared_destination(request.headers.get(DESTINATION_HEADER), "X-Transfer-Destination")
            message = route.build_request(values, request.query_params.multi_items(), body, idempotency_key)
        except XborderError as error:
            return error_response(error, instance, info.request_id)
        info.request_classes = classes_carried(message)
        try:
            if self.guard is not None and checked is not None:
                await self.guard.authorize(checked, message, metadata)
            reply = await self.backends.call(route.method, message, timeout=timeout, metadata=metadata)
            if checked is not None:
                checked.screen(reply)
                if self.transfers is not None and checked.principal is not None:
                    await self.transfer(route.method, checked.principal, message, reply, declared, metadata, info)
            info.response_classes = classes_carried(reply)
        except XborderError as error:
            if isinstance(error, TransferRefused):
                info.transfers = (error.metadata.get("decision", ""),)
                info.destination = error.metadata.get("destination", "")
            return error_response(error, instance, info.request_id)
        except grpc.RpcError as error:
            if not (
                hasattr(error, "code") and error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
            ):
                log.info(
                    "backend_error",
                    rpc=route.method.grpc_path,
                    code=str(error.code()) if hasattr(error, "code") else "?",
                    details=error.details() if hasattr(error, "details") else "",
                )
            problem = from_rpc_error(error, route.method.service, instance, info.request_id)
            problem.errors = route.for_http_caller(problem.errors, message, idempotency_key)
            return problem_response(problem)
        return json_response(route.render(reply))

    async def transfer(
        self,
        method: MethodInfo,
        principal: Principal,
        request: Any,
        reply: Any,
        declared: str | None,
        metadata: Any,
        info: RequestInfo,
    ) -> None:
        """Apply the transfer rules to the answer (mask in place, or raise to refuse it)."""
        transfers, guard = self.transfers, self.guard
        assert transfers is not None and guard is not None
        outcome = await transfers.enforce(guard, method, principal, request, reply, declared, metadata)
        info.destination = outcome.destination
        info.transfers = outcome.decisions


def rate_limited(wait: float, instance: str, request_id: str) -> Response:
    """429 with Retry-After in whole seconds (at least 1, so a client never retries at once)."""
    problem = Problem(
        429,
        "RATE_LIMITED",
        "too many calls of this method from this caller; retry after the Retry-After seconds",
        instance,
        request_id,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )
    return problem_response(problem)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (for the fixed routes) as problems too."""
    info = request_info(request.scope)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "INTERNAL")
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return problem_response(Problem(status, reason, str(detail), request.url.path, info.request_id, headers=headers))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Whatever escaped: a problem with the request id, never a stack trace."""
    info = request_info(request.scope)
    log.error("http_unhandled", error=type(exc).__name__, exc_info=exc)
    return problem_response(
        Problem(
            500,
            "INTERNAL",
            "internal error (the request id identifies it in the logs)",
            request.url.path,
            info.request_id,
        )
    )


def create_app(
    settings: Settings,
    local: Mapping[str, grpc.RpcMethodHandler] | None = None,
    *,
    authenticate: bool = True,
    edge: EdgeSettings | None = None,
    transfer: TransferSettings | None = None,
) -> Starlette:
    """The gateway for every service in the generated code.

    `local`: handlers of services running in this process, by method path, called without a gRPC hop.
    `authenticate`: API keys, scopes and tenancy (gateway/auth.py); off only to measure what they cost.
    `edge`: audit, rate limits and CORS (default: from XB_* variables).
    `transfer`: the cross-border transfer rules (gateway/transfer_guard.py; default: from XB_* variables),
    applied when authenticating.
    """
    return build_app(
        settings,
        discover(),
        local,
        authenticate=authenticate,
        edge=edge or EdgeSettings.from_env(),
        transfer=transfer or TransferSettings.from_env(),
    )


def build_app(
    settings: Settings,
    services: Sequence[ServiceInfo],
    local: Mapping[str, grpc.RpcMethodHandler] | None = None,
    *,
    authenticate: bool = False,
    edge: EdgeSettings | None = None,
    limiter: Limiter | None = None,
    audit: AuditLog | None = None,
    transfer: TransferSettings | None = None,
) -> Starlette:
    """The gateway for the given services (tests pass services built from their own descriptors).

    Without `edge`, auditing and rate limits are off unless `audit` and `limiter` are given (tests pass
    them with a fake clock or their own store); without `transfer`, the transfer rules are not applied.
    """
    edge = edge or EdgeSettings(audit=False, rate_limit_per_s=0)
    if limiter is None:
        limiter = limiter_for(edge)
    if audit is None and edge.audit:
        audit = AuditLog(open_store(edge, settings))
    methods = exposed_methods(services)
    backends = Backends(settings, {m.service for m in methods}, local)
    methods = [m for m in methods if m.service in backends]
    routes = build_routes(methods)
    router = Router(routes)
    document = json.dumps(build_document(routes, secured=authenticate), ensure_ascii=False).encode()
    all_methods = {m.grpc_path: m for s in services for m in s.methods}
    guard = Guard(backends, all_methods) if authenticate else None
    transfers = None
    if guard is not None and transfer is not None and transfer.enabled:
        transfers = TransferGuard(backends, all_methods, transfer, transfer.open_counters(settings))
    transcoder = Transcoder(
        settings,
        router,
        backends,
        frozenset({"/openapi.json", "/healthz", "/metrics"}),
        guard,
        limiter,
        audit.record if audit is not None else None,
        transfers,
    )
    health_timeout = min(HEALTH_TIMEOUT_S, settings.default_deadline_s)

    async def openapi(request: Request) -> Response:
        request_info(request.scope).route = "/openapi.json"
        return Response(document, media_type="application/json")

    async def healthz(request: Request) -> Response:
        request_info(request.scope).route = "/healthz"
        statuses = await backends.health(health_timeout)
        failing = sorted(name for name, status in statuses.items() if status != "SERVING")
        body: dict[str, Any] = {"status": "NOT_SERVING" if failing else "SERVING", "services": statuses}
        if failing:
            body["not_serving"] = failing
        return json_response(body, 503 if failing else 200)

    async def metrics(request: Request) -> Response:
        request_info(request.scope).route = "/metrics"
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    token_method = next((m for s in services for m in s.methods if m.grpc_path == ISSUE), None)

    async def oauth_token(request: Request) -> Response:
        info = request_info(request.scope)
        info.route = info.rpc = TOKEN_PATH
        assert token_method is not None
        info.service = token_method.service
        authorization = request.headers.get(AUTHORIZATION)
        if limiter is not None:
            client = request.scope.get("client")
            wait = limiter.take(caller_of(authorization, client[0] if client else None), TOKEN_PATH)
            if wait is not None:
                return rate_limited(wait, TOKEN_PATH, info.request_id)
        metadata = ((REQUEST_ID_HEADER, info.request_id),)
        try:
            body = await read_body(request, settings.http_max_body_bytes)
        except XborderError as error:
            return error_response(error, TOKEN_PATH, info.request_id)

        async def call(method: Any, message: Any) -> Any:
            return await backends.call(method, message, timeout=settings.default_deadline_s, metadata=metadata)

        answer = await issue_token(body, request.headers.get("content-type"), authorization, token_method, call)
        if audit is not None:
            audited = info.audited(answer.status)
            audit.record(replace(audited, key_id=answer.client_id))
        return Response(answer.encode(), answer.status, headers=answer.headers, media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        backends.close()
        if limiter is not None:
            limiter.close()
        if audit is not None:
            audit.close()
        if transfers is not None:
            transfers.close()

    app = Starlette(
        routes=[
            StarletteRoute("/openapi.json", openapi, methods=["GET"]),
            StarletteRoute("/healthz", healthz, methods=["GET"]),
            StarletteRoute("/metrics", metrics, methods=["GET"]),
            *(
                [StarletteRoute(TOKEN_PATH, oauth_token, methods=["POST"])]
                if authenticate and token_method is not None and token_method.service in backends
                else []
            ),
            StarletteRoute("/{path:path}", transcoder),
        ],
        middleware=[
            Middleware(EdgeHeadersMiddleware, cors_origins=edge.cors_origins),
            Middleware(RequestContextMiddleware),
        ],
        exception_handlers={HTTPException: http_exception, Exception: unexpected_error},
        lifespan=lifespan,
    )
    app.state.backends = backends
    app.state.guard = guard
    app.state.transfers = transfers
    app.state.audit = audit
    app.state.routes = routes
    log.info("gateway_routes", routes=[f"{r.verb} {r.template.template}" for r in routes])
    return app
