"""Who is calling: `Authorization: Bearer <API key>` verified by the identity service, cached briefly.

The gateway never sees a key's hash: it asks IdentityService/VerifyApiKey (in-process in the embedded
platform, over gRPC when deployed) and keeps the answer for `KEY_CACHE_TTL_S` seconds, keyed by the SHA-256
of the presented key (the key itself is not kept). So a revoked key stops working within that TTL, and a
rotated-out key at its end (the cache never outlives a key's expires_at). The merchant statuses an operator's
calls name are cached the same way, and so is a calling merchant's country, which the audit log records
(looked up only when auditing is on). The caches are bounded (`CACHE_MAX_ENTRIES`, oldest dropped first).

Only "active" is taken from the caches: before refusing a call because a merchant or partner is held, the
gateway asks identity again (a merchant's status, a certificate's partner), so a compliance officer's
release counts at the next call, on every gateway replica. A hold decided on a held entity keeps it refused
(REJECTED), so nothing cached can let a held entity through either.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message

from gateway.backends import Backends, Metadata
from gateway.descriptors import MethodInfo
from gateway.partner_auth import VERIFY_PARTNER, partner_principal
from gateway.tenancy import (
    Kind,
    Principal,
    Rule,
    admit,
    bind_partner,
    bind_request,
    bind_session,
    check_partner_answer,
    hide_ops_only,
    not_found,
    owner_request,
    partner_lookup,
    partner_via,
    public,
    require_step_up,
    rule_for,
    screen_response,
)
from services.shared.errors import MerchantHeld, NotFound, Unauthenticated, Unavailable

KEY_CACHE_TTL_S = 5.0
CACHE_MAX_ENTRIES = 10_000
LOOKUP_TIMEOUT_S = 2.0
"""Seconds for the gateway's own look-ups: key verification, merchant status, the owner of a resource."""
AUTHORIZATION = "authorization"
MAX_TOKEN_CHARS = 4096  # a JWT access token is ~500 characters; an API key 76
_BEARER = re.compile(rf"^Bearer +([!-~]{{1,{MAX_TOKEN_CHARS}}}) *$", re.IGNORECASE)

_VERIFY = "/xborder.identity.v1.IdentityService/VerifyApiKey"
_GET_MERCHANT = "/xborder.identity.v1.IdentityService/GetMerchant"
_ACTIVE = 1  # xborder.identity.v1.MerchantStatus.MERCHANT_STATUS_ACTIVE
_NO_CREDENTIAL = 'Bearer realm="xborder"'
_BAD_CREDENTIAL = 'Bearer realm="xborder", error="invalid_token"'


class MissingCredential(Unauthenticated):
    """No Authorization header, or not a Bearer one."""


def parse_bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750: one token of visible ASCII)."""
    if header is None or not header.strip():
        raise MissingCredential("send the API key as Authorization: Bearer <key>")
    found = _BEARER.match(header.strip())
    if found is None:
        raise MissingCredential("the Authorization header must be 'Bearer <key>'")
    return found.group(1)


def www_authenticate(error: Unauthenticated) -> str:
    """The WWW-Authenticate challenge of a 401 (RFC 6750 section 3)."""
    return _NO_CREDENTIAL if isinstance(error, MissingCredential) else _BAD_CREDENTIAL


V = TypeVar("V")


class TtlCache(Generic[V]):
    """A bounded map whose entries live at most `ttl` seconds (or less, when stored with an earlier end)."""

    def __init__(self, ttl: float, max_entries: int = CACHE_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: str, value: V, lifetime: float | None = None) -> None:
        life = self.ttl if lifetime is None else max(0.0, min(self.ttl, lifetime))
        if life <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock() + life, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Checked:
    """What a call may go ahead with: the caller (None on a public route) and the rule."""

    principal: Principal | None
    rule: Rule
    partner_answer: bool = False
    """The call is the read that tells whether a partner owns the resource: its own answer is checked."""

    @property
    def screens_response(self) -> bool:
        return (
            self.principal is not None
            and not self.principal.is_operator
            and (self.rule.kind is Kind.MERCHANT or bool(self.rule.ops_only) or self.partner_answer)
        )

    def screen(self, reply: Message) -> None:
        if self.principal is None or not self.screens_response:
            return
        if self.partner_answer:
            check_partner_answer(self.principal, self.rule, reply)
        if self.rule.kind is Kind.MERCHANT:
            screen_response(self.principal, reply)
        hide_ops_only(self.principal, self.rule, reply)


class Guard:
    """Authentication, scope and tenancy for one call, the same on the REST and the gRPC door.

    The identity calls go through `Backends` (in-process handlers or channels), both as coroutines (REST)
    and blocking (the front door's worker threads).
    """

    def __init__(
        self,
        backends: Backends,
        methods: Mapping[str, MethodInfo],
        *,
        ttl: float = KEY_CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.backends = backends
        self.methods = dict(methods)
        for path in (_VERIFY, _GET_MERCHANT):
            if path not in self.methods:
                raise ValueError(f"authentication needs {path}, which the discovered services lack")
        self.keys: TtlCache[Principal] = TtlCache(ttl, clock=clock)
        self.merchants: TtlCache[bool] = TtlCache(ttl, clock=clock)
        self.countries: TtlCache[str] = TtlCache(ttl, clock=clock)
        self.wall = wall

    # --- the steps, shared by both doors ---

    def _principal_from(self, token: str, reply: Any) -> Principal:
        key = reply.api_key
        merchant = key.merchant_code or None
        step_up_until = reply.step_up_until.ToMicroseconds() / 1e6 if reply.HasField("step_up_until") else None
        principal = Principal(
            key.key_id,
            merchant,
            frozenset(key.scopes),
            reply.merchant_status == _ACTIVE,
            reply.principal_kind or "api_key",
            step_up_until,
        )
        lifetime = None
        if key.HasField("expires_at"):
            lifetime = key.expires_at.ToMicroseconds() / 1e6 - self.wall()
        self.keys.put(_fingerprint(token), principal, lifetime)
        if merchant is not None:
            self.merchants.put(merchant, principal.merchant_active)
        return principal

    @staticmethod
    def _identity_failure(error: grpc.RpcError, merchant_code: str = "") -> Exception:
        code = error.code() if hasattr(error, "code") else None
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return Unauthenticated("the credential is not valid (unknown, forged, revoked or expired)")
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT) and merchant_code:
            return not_found(merchant_code)
        return Unavailable("the identity service is not available right now; retry later")

    def _verify_request(self, token: str) -> Message:
        return self.methods[_VERIFY].input_class(secret=token)

    def _merchant_request(self, code: str) -> Message:
        return self.methods[_GET_MERCHANT].input_class(merchant_code=code)

    def _merchant_facts(self, code: str, reply: Any) -> bool:
        """Cache what a GetMerchant answer says (its status, its country); whether the merchant is active."""
        active = bool(reply.merchant.status == _ACTIVE)
        self.merchants.put(code, active)
        if reply.merchant.country:
            self.countries.put(code, reply.merchant.country)
        return active

    def _held(self, code: str, active: bool | None, rule: Rule) -> None:
        if active is False and not rule.allow_held:
            raise MerchantHeld(f"merchant {code} is held after onboarding screening")

    @staticmethod
    def _refused_as_held(principal: Principal, rule: Rule) -> str | None:
        """The caller's own merchant code when the (possibly cached) answer would refuse it as held."""
        code = principal.merchant_code
        if code is None or principal.merchant_active or rule.allow_held or rule.kind is Kind.INTERNAL:
            return None
        return code

    # --- REST (coroutines) ---

    async def authenticate(self, method: MethodInfo, authorization: str | None, metadata: Metadata) -> Checked:
        """Who calls and whether they may call this method at all (401, 403), before the body is read."""
        rule = rule_for(method.grpc_path)
        if public(rule):
            return Checked(None, rule)
        token = parse_bearer(authorization)
        principal = await self.principal(token, metadata)
        held = self._refused_as_held(principal, rule)
        if held is not None:
            # The cached answer may predate a release: ask for the merchant's status before refusing.
            principal = replace(principal, merchant_active=await self.active(held, metadata, cached=False))
        admit(principal, rule, method.required_scope or "")
        if rule.step_up and not principal.stepped_up(self.wall()):
            # The cached answer may predate a step-up made since: ask identity once more.
            principal = await self.principal(token, metadata, cached=False)
        require_step_up(principal, rule, self.wall())
        return Checked(principal, rule)

    async def authorize(self, checked: Checked, request: Message, metadata: Metadata) -> None:
        """For which merchant: fill or check the request's codes, and the owner of what a write touches."""
        principal, rule = checked.principal, checked.rule
        if principal is None:
            return
        bind_session(principal, rule, request)
        for code in bind_request(principal, rule, request):
            active = principal.merchant_active if code == principal.merchant_code else await self.active(code, metadata)
            if not active and not rule.allow_held:
                active = await self.active(code, metadata, cached=False)  # released since it was cached?
            self._held(code, active, rule)
        lookup = self._owner(rule, request)
        if lookup is not None and not principal.is_operator:
            read, message = lookup
            owned = await self.backends.call(read, message, timeout=LOOKUP_TIMEOUT_S, metadata=metadata)
            screen_response(principal, owned)

    async def principal(self, token: str, metadata: Metadata, *, cached: bool = True) -> Principal:
        known = self.keys.get(_fingerprint(token)) if cached else None
        if known is not None:
            return known
        try:
            reply = await self.backends.call(
                self.methods[_VERIFY], self._verify_request(token), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except grpc.RpcError as error:
            raise self._identity_failure(error) from None
        return self._principal_from(token, reply)

    async def active(self, code: str, metadata: Metadata, *, cached: bool = True) -> bool:
        """Whether the merchant is ACTIVE. `cached=False` trusts only a cached "active" (see the module
        docstring): a cached "held" is asked again."""
        known = self.merchants.get(code)
        if known is not None and (cached or known):
            return known
        try:
            reply = await self.backends.call(
                self.methods[_GET_MERCHANT], self._merchant_request(code), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except grpc.RpcError as error:
            raise self._identity_failure(error, code) from None
        return self._merchant_facts(code, reply)

    async def country(self, principal: Principal | None, metadata: Metadata) -> str:
        """The calling merchant's country, for the audit log; "" for an operator or when identity is down."""
        code = principal.merchant_code if principal is not None else None
        if code is None:
            return ""
        return await self.merchant_country(code, metadata)

    async def merchant_country(self, code: str, metadata: Metadata) -> str:
        """A merchant's registered country (cached like its status); "" when it cannot be read."""
        cached = self.countries.get(code)
        if cached is None:
            try:
                reply = await self.backends.call(
                    self.methods[_GET_MERCHANT],
                    self._merchant_request(code),
                    timeout=LOOKUP_TIMEOUT_S,
                    metadata=metadata,
                )
            except Exception:  # the audit entry goes without a country rather than the call failing
                return ""
            self._merchant_facts(code, reply)
            cached = self.countries.get(code)
        return cached or ""

    # --- the gRPC front door (blocking, on its worker threads) ---

    def check_sync(
        self,
        method: MethodInfo,
        request: Message,
        authorization: str | None,
        metadata: Metadata,
        certificate: str | None = None,
    ) -> Checked:
        """`certificate`: the SHA-256 fingerprint of the client certificate the TLS handshake verified (the
        partner port); the caller is then that certificate's partner, whatever `authorization` says."""
        rule = rule_for(method.grpc_path)
        if public(rule):
            return Checked(None, rule)
        if certificate is not None:
            principal = self.partner_sync(certificate, metadata)
            if principal.partner is not None and not principal.partner.active:
                principal = self.partner_sync(certificate, metadata, cached=False)  # released since it was cached?
            admit(principal, rule, method.required_scope or "")
            own_answer = self._partner_owns_sync(principal, rule, method.grpc_path, request, metadata)
            return Checked(principal, rule, partner_answer=own_answer)
        token = parse_bearer(authorization)
        principal = self.principal_sync(token, metadata)
        held = self._refused_as_held(principal, rule)
        if held is not None:
            principal = replace(principal, merchant_active=self.active_sync(held, metadata, cached=False))
        admit(principal, rule, method.required_scope or "")
        if rule.step_up and not principal.stepped_up(self.wall()):
            principal = self.principal_sync(token, metadata, cached=False)
        require_step_up(principal, rule, self.wall())
        bind_session(principal, rule, request)
        for code in bind_request(principal, rule, request):
            active = principal.merchant_active if code == principal.merchant_code else self.active_sync(code, metadata)
            if not active and not rule.allow_held:
                active = self.active_sync(code, metadata, cached=False)
            self._held(code, active, rule)
        lookup = self._owner(rule, request)
        if lookup is not None and not principal.is_operator:
            read, message = lookup
            owned = self.backends.call_sync(read, message, timeout=LOOKUP_TIMEOUT_S, metadata=metadata)
            screen_response(principal, owned)
        return Checked(principal, rule)

    def partner_sync(self, fingerprint: str, metadata: Metadata, *, cached: bool = True) -> Principal:
        """The partner a verified client certificate is registered to (cached like keys, by fingerprint)."""
        cache_key = f"certificate:{fingerprint}"
        known = self.keys.get(cache_key) if cached else None
        if known is not None:
            return known
        read = self.methods.get(VERIFY_PARTNER)
        if read is None:
            raise Unauthenticated("partner certificates are not verified here (no PartnerService)")
        try:
            reply = self.backends.call_sync(
                read, read.input_class(fingerprint=fingerprint), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except grpc.RpcError as error:
            raise self._identity_failure(error) from None
        principal = partner_principal(fingerprint, reply)
        self.keys.put(cache_key, principal)
        return principal

    def _partner_owns_sync(
        self, principal: Principal, rule: Rule, path: str, request: Message, metadata: Metadata
    ) -> bool:
        """The partner's own only: named in the request, or, for a read first (`via`), in its answer. True
        when the call is that read itself (a partner reading its reconciliation run): its answer is checked
        then, rather than read twice."""
        bind_partner(principal, rule, request)
        owned = partner_via(principal, rule)
        if owned is None or owned.via is None:
            return False
        if owned.via.rpc == path:
            return True
        read = self.methods[owned.via.rpc]
        lookup = partner_lookup(principal, rule, request, read.input_class)
        if lookup is None:
            return False
        try:
            answer = self.backends.call_sync(read, lookup, timeout=LOOKUP_TIMEOUT_S, metadata=metadata)
        except grpc.RpcError as error:
            if hasattr(error, "code") and error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("not found") from None
            raise
        check_partner_answer(principal, rule, answer)
        return False

    def principal_sync(self, token: str, metadata: Metadata, *, cached: bool = True) -> Principal:
        known = self.keys.get(_fingerprint(token)) if cached else None
        if known is not None:
            return known
        try:
            reply = self.backends.call_sync(
                self.methods[_VERIFY], self._verify_request(token), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except grpc.RpcError as error:
            raise self._identity_failure(error) from None
        return self._principal_from(token, reply)

    def active_sync(self, code: str, metadata: Metadata, *, cached: bool = True) -> bool:
        known = self.merchants.get(code)
        if known is not None and (cached or known):
            return known
        try:
            reply = self.backends.call_sync(
                self.methods[_GET_MERCHANT], self._merchant_request(code), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except grpc.RpcError as error:
            raise self._identity_failure(error, code) from None
        return self._merchant_facts(code, reply)

    def country_sync(self, principal: Principal | None, metadata: Metadata) -> str:
        if principal is not None and principal.partner is not None:
            return principal.partner.country  # known from the certificate's verification
        code = principal.merchant_code if principal is not None else None
        if code is None:
            return ""
        return self.merchant_country_sync(code, metadata)

    def merchant_country_sync(self, code: str, metadata: Metadata) -> str:
        cached = self.countries.get(code)
        if cached is None:
            try:
                reply = self.backends.call_sync(
                    self.methods[_GET_MERCHANT],
                    self._merchant_request(code),
                    timeout=LOOKUP_TIMEOUT_S,
                    metadata=metadata,
                )
            except Exception:  # the audit entry goes without a country rather than the call failing
                return ""
            self._merchant_facts(code, reply)
            cached = self.countries.get(code)
        return cached or ""

    def _owner(self, rule: Rule, request: Message) -> tuple[MethodInfo, Message] | None:
        if rule.owner is None:
            return None
        read = self.methods[rule.owner.rpc]
        lookup = owner_request(rule, request, read.input_class)
        return None if lookup is None else (read, lookup)
