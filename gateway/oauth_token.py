"""POST /oauth/token: the OAuth2 token endpoint, client credentials grant only (RFC 6749 section 4.4).

The request is form-encoded (`grant_type=client_credentials[&scope=...]`); the client authenticates with
HTTP Basic (section 2.3.1: id and secret form-urlencoded, then base64) or, where it cannot, with
`client_id` and `client_secret` in the body, never both. Errors are the JSON of section 5.2 (not
problem details, which OAuth2 clients do not read): `invalid_client` is 401 with a `WWW-Authenticate`
challenge of the scheme the client used. Identity's IssueAccessToken checks the secret and signs the token;
the gateway never sees a signing key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import grpc
from google.protobuf.message import Message

from gateway.descriptors import MethodInfo

TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a secret)
ISSUE = "/xborder.identity.v1.AccessService/IssueAccessToken"
MAX_FORM_BYTES = 8 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = 'Basic realm="xborder"'

Call = Callable[[MethodInfo, Message], Awaitable[Any]]


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    client_id: str = ""

    def encode(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


class TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, challenge: str | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.challenge = error, description, status, challenge

    def answer(self, client_id: str = "") -> TokenAnswer:
        headers = dict(_NO_STORE)
        if self.challenge:
            headers["WWW-Authenticate"] = self.challenge
        return TokenAnswer(
            self.status, {"error": self.error, "error_description": self.description}, headers, client_id
        )


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise TokenError("invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise TokenError("invalid_request", "the form body is not valid") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # section 3.2: parameters must not be included more than once
            raise TokenError("invalid_request", f"the parameter {name!r} is repeated")
        form[name] = value
    return form


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client id, secret) of an HTTP Basic header; None without one; invalid_client when malformed."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise TokenError("invalid_client", "client authentication must use HTTP Basic", 401, _BASIC_CHALLENGE)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TokenError(
            "invalid_client", "the Basic credentials are not valid base64", 401, _BASIC_CHALLENGE
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise TokenError("invalid_client", "the Basic credentials lack the ':'", 401, _BASIC_CHALLENGE)
    return unquote_plus(client_id), unquote_plus(secret)


async def issue(
    form_body: bytes, content_type: str | None, authorization: str | None, method: MethodInfo, call: Call
) -> TokenAnswer:
    """The token endpoint's answer for one request."""
    client_id = ""
    try:
        if len(form_body) > MAX_FORM_BYTES:
            raise TokenError("invalid_request", f"the body exceeds {MAX_FORM_BYTES} bytes")
        form = parse_form(form_body, content_type)
        basic = basic_credentials(authorization)
        in_body = "client_id" in form or "client_secret" in form
        if basic is not None and in_body:
            raise TokenError("invalid_request", "authenticate the client with Basic or the body, not both")
        grant = form.get("grant_type")
        if not grant:
            raise TokenError("invalid_request", "grant_type is required")
        if grant != "client_credentials":
            raise TokenError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        client_id, secret = basic if basic is not None else (form.get("client_id", ""), form.get("client_secret", ""))
        challenge = _BASIC_CHALLENGE if basic is not None else None
        if not client_id or not secret:
            raise TokenError("invalid_client", "client authentication is required", 401, _BASIC_CHALLENGE)
        request = method.input_class(client_id=client_id, client_secret=secret, scope=form.get("scope", ""))
        try:
            reply = await call(method, request)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            raise _from_rpc(code, challenge) from None
    except TokenError as refused:
        return refused.answer(client_id)
    body = {
        "access_token": reply.access_token,
        "token_type": reply.token_type,
        "expires_in": reply.expires_in,
        "scope": reply.scope,
    }
    return TokenAnswer(200, body, dict(_NO_STORE), client_id)


def _from_rpc(code: grpc.StatusCode | None, challenge: str | None) -> TokenError:
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return TokenError("invalid_client", "client authentication failed", 401, challenge or _BASIC_CHALLENGE)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return TokenError("invalid_scope", "the requested scope is not one the client holds")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return TokenError("unauthorized_client", "the client's merchant is held and may not get tokens")
    return TokenError("temporarily_unavailable", "the identity service is not available right now", 503)
