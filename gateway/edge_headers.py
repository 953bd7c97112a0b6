"""Security headers on every HTTP response, and CORS only for the origins XB_CORS_ORIGINS names."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The gateway serves JSON only: nothing in an answer may load, run or be framed.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Request-Timeout"
CORS_MAX_AGE = "600"


class EdgeHeadersMiddleware:
    def __init__(self, app: ASGIApp, cors_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.cors_origins = frozenset(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        allowed = origin if origin is not None and origin in self.cors_origins else None
        if allowed and scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers:
            preflight = Response(status_code=204)
            self._decorate(preflight.headers, allowed, authenticated=False)
            preflight.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            preflight.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            preflight.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
            await preflight(scope, receive, send)
            return
        authenticated = "authorization" in request_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._decorate(MutableHeaders(scope=message), allowed, authenticated)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _decorate(headers: MutableHeaders, origin: str | None, authenticated: bool) -> None:
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        if authenticated:
            headers["Cache-Control"] = "no-store"
        if origin is not None:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After"
            headers.add_vary_header("Origin")
