"""Use cases of OAuth2 clients and ops staff, and the verification of every kind of credential.

Secrets are shown once, as for API keys (handlers.py): the remembered answer of a registering request
carries no secret, and a replay answers the same client or operator without it. A password never
reaches the idempotency table (its fingerprint leaves the password out).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import identity_service_pb2 as pb

from services.identity.domain import clients, operators, sso
from services.identity.domain.clients import OAuthClient, TokenClaims
from services.identity.domain.operators import LOGIN_REFUSED, Operator, Session
from services.identity.domain.roles import ROLE_SCOPES, Role
from services.identity.domain.sso import IdTokenClaims, MapBy, SsoRules
from services.identity.service_layer.access_mapping import client_to_proto, operator_to_proto
from services.identity.service_layer.handlers import Hasher, UowFactory, _Shown, verify_key
from services.identity.service_layer.mapping import STATUS_TO_PROTO, key_to_proto, timestamp
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import (
    AlreadyExists,
    ConflictingWrite,
    MerchantHeld,
    NotFound,
    Unauthenticated,
    ValidationError,
)
from services.shared.idempotency import Request, fingerprint, run_idempotent

API_KEY = "api_key"
OAUTH_CLIENT = "oauth_client"
OPS_SESSION = "ops_session"


class Signer(Protocol):
    def sign(self, client: OAuthClient, scopes: tuple[str, ...], now: datetime) -> tuple[str, datetime]: ...

    def verify(self, token: str) -> TokenClaims: ...


class TotpCheck(Protocol):
    def new_secret(self) -> str: ...

    def uri(self, secret: str, login: str) -> str: ...

    def step_of(self, secret: str, code: str, now: datetime) -> int | None: ...


class SecretBox(Protocol):
    """Seals a TOTP secret for storage and opens it again (envelope encryption bound to the login)."""

    def seal(self, login: str, secret: str) -> str: ...

    def open(self, login: str, stored: str) -> str: ...


class IdTokenCheck(Protocol):
    """Verifies an ID token of the configured identity provider (adapters/oidc.py)."""

    def verify(self, token: str, nonce: str, now: datetime) -> IdTokenClaims: ...


class Policy(Protocol):
    """The identity settings these use cases read (IdentitySettings)."""

    access_token_ttl_s: float
    ops_session_ttl_s: float
    step_up_window_s: float
    login_max_failures: int
    login_lock_s: float


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- OAuth2 clients ---


def register_client(
    uow_factory: UowFactory,
    hasher: Hasher,
    request: apb.RegisterClientRequest,
    merchant_code: str,
    label: str,
    scopes: tuple[str, ...],
) -> apb.RegisterClientResponse:
    ask = Request(f"identity.client:{merchant_code}", request.request_id, fingerprint(request))
    shown = _Shown()

    def work(uow: IdentityUnitOfWork) -> apb.RegisterClientResponse:
        if uow.merchants.get(merchant_code) is None:
            raise NotFound(f"no merchant {merchant_code}", field="merchant_code")
        secret = clients.new_secret()
        client = OAuthClient(clients.new_client_id(), hasher.hash(secret), merchant_code, label, scopes, utcnow())
        uow.clients.add(client)
        shown.key_id, shown.presented = client.client_id, secret
        return apb.RegisterClientResponse(client=client_to_proto(client))

    answer = run_idempotent(uow_factory, ask, apb.RegisterClientResponse, work)
    answer.client_secret = shown.for_answer(answer.client.client_id)
    return answer


def list_clients(uow_factory: UowFactory, merchant_code: str) -> apb.ListClientsResponse:
    with uow_factory() as uow:
        found = uow.clients.of_merchant(merchant_code)
    return apb.ListClientsResponse(clients=[client_to_proto(c) for c in found])


def revoke_client(
    uow_factory: UowFactory, request: apb.RevokeClientRequest, merchant_code: str, client_id: str
) -> apb.RevokeClientResponse:
    ask = Request(f"identity.client-revoke:{merchant_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> apb.RevokeClientResponse:
        client = uow.clients.get(client_id, for_update=True)
        if client is None or client.merchant_code != merchant_code:
            raise NotFound(f"merchant {merchant_code} has no OAuth client {client_id}", field="client_id")
        client = client.revoked(utcnow())
        uow.clients.save_revoked(client)
        return apb.RevokeClientResponse(client=client_to_proto(client))

    return run_idempotent(uow_factory, ask, apb.RevokeClientResponse, work)


def issue_access_token(
    uow_factory: UowFactory, hasher: Hasher, signer: Signer, client_id: str, secret: str, scope: str
) -> apb.IssueAccessTokenResponse:
    """A token for a valid client (RFC 6749 section 4.4.3); Unauthenticated is the endpoint's invalid_client."""
    with uow_factory() as uow:
        client = uow.clients.get(client_id) if clients.is_client_id(client_id) else None
        merchant = uow.merchants.get(client.merchant_code) if client is not None else None
    # Verified even for an unknown client, so timing does not tell a real client id from a made-up one.
    matches = hasher.verify(client.secret_hash if client is not None else None, secret)
    if client is None or not matches or not client.active:
        raise Unauthenticated("client authentication failed (unknown client, wrong secret, or revoked client)")
    if merchant is None or not merchant.active:
        raise MerchantHeld(f"merchant {client.merchant_code} is held after onboarding screening")
    granted = clients.requested_scopes(scope, client.scopes)
    now = utcnow()
    token, expires = signer.sign(client, granted, now)
    return apb.IssueAccessTokenResponse(
        access_token=token,
        token_type="Bearer",  # noqa: S106 (RFC 6749 token type)
        expires_in=max(1, int((expires - now).total_seconds())),
        scope=" ".join(granted),
    )


# --- ops staff ---


def add_operator(
    uow_factory: UowFactory,
    hasher: Hasher,
    totp: TotpCheck,
    box: SecretBox,
    request: apb.AddOperatorRequest,
    login: str,
    display_name: str,
    role: Role,
) -> apb.AddOperatorResponse:
    ask = Request("identity.operator", request.request_id, fingerprint(request, ("request_id", "password")))
    shown = _Shown()

    def work(uow: IdentityUnitOfWork) -> apb.AddOperatorResponse:
        if uow.operators.get(login) is not None:
            raise ValidationError.single("login", f"an operator {login!r} exists already")
        secret = totp.new_secret()
        sealed = box.seal(login, secret)
        operator = Operator(login, display_name, role, hasher.hash(request.password), sealed, utcnow())
        uow.operators.add(operator)
        shown.key_id, shown.presented = login, totp.uri(secret, login)
        return apb.AddOperatorResponse(operator=operator_to_proto(operator))

    answer = run_idempotent(uow_factory, ask, apb.AddOperatorResponse, work)
    answer.totp_uri = shown.for_answer(answer.operator.login)
    return answer


def _operator_to_change(uow: IdentityUnitOfWork, login: str) -> Operator:
    """The operator `login`, locked until the unit of work ends; NotFound naming the field when there is none."""
    operator = uow.operators.get(login, for_update=True)
    if operator is None:
        raise NotFound(f"no operator {login}", field="login")
    return operator


def disable_operator(
    uow_factory: UowFactory, request: apb.DisableOperatorRequest, login: str
) -> apb.DisableOperatorResponse:
    ask = Request("identity.operator-disable", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> apb.DisableOperatorResponse:
        operator = _operator_to_change(uow, login)
        now = utcnow()
        if operator.disabled_at is None:
            operator = replace(operator, disabled_at=now)
            uow.operators.save(operator)
        uow.sessions.end_all(login, now)
        return apb.DisableOperatorResponse(operator=operator_to_proto(operator))

    return run_idempotent(uow_factory, ask, apb.DisableOperatorResponse, work)


def login(
    uow_factory: UowFactory,
    hasher: Hasher,
    totp: TotpCheck,
    box: SecretBox,
    policy: Policy,
    login_name: str,
    password: str,
    code: str,
) -> apb.LoginResponse:
    """A session for the right password and an unused TOTP code; failures are counted even when refused."""
    now = utcnow()
    fresh = operators.new_session()
    with uow_factory() as uow:
        uow.lock_for_write()
        operator = uow.operators.get(login_name, for_update=True)
        password_ok = hasher.verify(operator.password_hash if operator is not None else None, password)
        if operator is None:
            raise Unauthenticated(LOGIN_REFUSED)
        step = totp.step_of(box.open(operator.login, operator.totp_secret), code, now)
        if operator.locked(now) or not password_ok or step is None or step <= operator.last_totp_step:
            if not operator.locked(now):
                lock = timedelta(seconds=policy.login_lock_s)
                uow.operators.save(operator.failed(now, policy.login_max_failures, lock))
                uow.commit()
            raise Unauthenticated(LOGIN_REFUSED)
        uow.operators.save(operator.succeeded(step))
        session = Session(
            fresh.session_id,
            _sha256(fresh.secret),
            operator.login,
            operator.role,
            now,
            now + timedelta(seconds=policy.ops_session_ttl_s),
            now,
        )
        uow.sessions.add(session)
        uow.commit()
    return apb.LoginResponse(
        session_token=fresh.presented,
        expires_at=timestamp(session.expires_at),
        step_up_until=timestamp(_stepped_up_until(session, policy)),
        operator=operator_to_proto(operator),
    )


def login_with_id_token(
    uow_factory: UowFactory,
    verifier: IdTokenCheck,
    rules: SsoRules,
    policy: Policy,
    token: str,
    nonce: str,
) -> apb.LoginWithIdTokenResponse:
    """A session for the operator linked to a valid, unused ID token; one refusal for every failure.

    The token is checked before the database is touched; its replay key is recorded in the transaction
    that opens the session, so of two sign-ins with one token only one commits.
    """
    now = utcnow()
    claims = verifier.verify(token, nonce, now)
    identity = sso.identity_of(claims, rules)
    multi_factor = sso.multi_factor(claims.amr, claims.acr, rules.mfa_acrs)
    if rules.require_mfa and not multi_factor:
        raise sso.refused()
    fresh = operators.new_session()
    try:
        with uow_factory() as uow:
            uow.lock_for_write()
            uow.sso_tokens.forget_unusable(now)
            if uow.sso_tokens.used(claims.replay_key):
                raise sso.refused()
            if rules.map_by is MapBy.EMAIL:
                operator = uow.operators.by_sso_email(identity)
            else:
                operator = uow.operators.by_sso_subject(identity)
            # A disabled operator is refused; a login locked by failed passwords is not: the IdP checked.
            if operator is None or operator.disabled_at is not None:
                raise sso.refused()
            session = Session(
                fresh.session_id,
                _sha256(fresh.secret),
                operator.login,
                sso.session_role(claims, rules, operator.role),
                now,
                now + timedelta(seconds=policy.ops_session_ttl_s),
                sso.second_factor_at(claims, rules, now),
            )
            uow.sso_tokens.add(claims.replay_key, now, claims.usable_until)
            uow.sessions.add(session)
            uow.commit()
    except ConflictingWrite:
        raise sso.refused() from None  # the same token, signed in with concurrently
    answer = apb.LoginWithIdTokenResponse(
        session_token=fresh.presented,
        expires_at=timestamp(session.expires_at),
        operator=operator_to_proto(operator),
        multi_factor=multi_factor,
    )
    until = session.step_up_until(timedelta(seconds=policy.step_up_window_s))
    if until is not None:
        answer.step_up_until.CopyFrom(timestamp(until))
    return answer


def link_operator_sso(
    uow_factory: UowFactory,
    request: apb.LinkOperatorSsoRequest,
    login_name: str,
    email: str | None,
    subject: str | None,
) -> apb.LinkOperatorSsoResponse:
    """Link (or with both None, unlink) the IdP identities an operator signs in with."""
    ask = Request("identity.operator-sso", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> apb.LinkOperatorSsoResponse:
        operator = _operator_to_change(uow, login_name)
        holders = {
            "email": uow.operators.by_sso_email(email) if email else None,
            "subject": uow.operators.by_sso_subject(subject) if subject else None,
        }
        for field, holder in holders.items():
            if holder is not None and holder.login != operator.login:
                # A unique column backs this: a concurrent link of the same identity is a ConflictingWrite.
                raise AlreadyExists(f"this {field} is linked to another operator", field=field)
        operator = replace(operator, sso_email=email, sso_subject=subject)
        uow.operators.save(operator)
        return apb.LinkOperatorSsoResponse(operator=operator_to_proto(operator))

    return run_idempotent(uow_factory, ask, apb.LinkOperatorSsoResponse, work)


def _stepped_up_until(session: Session, policy: Policy) -> datetime:
    """The end of the step-up window of a session whose second factor was just checked."""
    until = session.step_up_until(timedelta(seconds=policy.step_up_window_s))
    assert until is not None
    return until


def _own_session(uow: IdentityUnitOfWork, session_id: str, now: datetime) -> Session:
    session = uow.sessions.get(session_id, for_update=True)
    if session is None or not session.valid_at(now):
        raise NotFound("no such session (it ended or expired: log in again)", field="session_id")
    return session


def step_up(
    uow_factory: UowFactory, totp: TotpCheck, box: SecretBox, policy: Policy, session_id: str, code: str
) -> apb.StepUpResponse:
    now = utcnow()
    with uow_factory() as uow:
        uow.lock_for_write()
        session = _own_session(uow, session_id, now)
        operator = uow.operators.get(session.login, for_update=True)
        secret = box.open(operator.login, operator.totp_secret) if operator is not None else ""
        step = totp.step_of(secret, code, now) if operator is not None else None
        if operator is None or operator.locked(now) or step is None or step <= operator.last_totp_step:
            if operator is not None and not operator.locked(now):
                lock = timedelta(seconds=policy.login_lock_s)
                uow.operators.save(operator.failed(now, policy.login_max_failures, lock))
                uow.commit()
            raise ValidationError.single("totp_code", "not the current TOTP code, or a code already used")
        uow.operators.save(operator.succeeded(step))
        session = replace(session, second_factor_at=now)
        uow.sessions.save(session)
        uow.commit()
    return apb.StepUpResponse(step_up_until=timestamp(_stepped_up_until(session, policy)))


def logout(uow_factory: UowFactory, session_id: str) -> apb.LogoutResponse:
    now = utcnow()
    with uow_factory() as uow:
        session = _own_session(uow, session_id, now)
        uow.sessions.save(replace(session, ended_at=now))
        uow.commit()
    return apb.LogoutResponse()


# --- verification of any credential (the gateway's VerifyApiKey) ---


def verify_credential(
    uow_factory: UowFactory,
    hasher: Hasher,
    signer: Signer,
    policy: Policy,
    presented: str,
    looks_like_jwt: Callable[[str], bool],
) -> pb.VerifyApiKeyResponse:
    """Who holds an API key, an access token or an ops session token; Unauthenticated when nobody valid does."""
    if operators.is_session_token(presented):
        return _verify_session(uow_factory, policy, presented)
    if looks_like_jwt(presented):
        return _verify_token(uow_factory, signer, presented)
    holder = verify_key(uow_factory, hasher, presented)
    answer = pb.VerifyApiKeyResponse(api_key=key_to_proto(holder.key), principal_kind=API_KEY)
    if holder.merchant is not None:
        answer.merchant_status = STATUS_TO_PROTO[holder.merchant.status]
    return answer


def _verify_token(uow_factory: UowFactory, signer: Signer, token: str) -> pb.VerifyApiKeyResponse:
    claims = signer.verify(token)
    with uow_factory() as uow:
        client = uow.clients.get(claims.client_id)
        merchant = uow.merchants.get(claims.merchant_code)
    if client is None or not client.active or merchant is None or client.merchant_code != claims.merchant_code:
        raise Unauthenticated("the access token's client is revoked or unknown")
    scopes = tuple(s for s in claims.scopes if s in client.scopes)
    key = pb.ApiKey(
        key_id=client.client_id,
        merchant_code=client.merchant_code,
        scopes=list(scopes),
        created_at=timestamp(client.created_at),
        label=client.label,
        expires_at=timestamp(claims.expires_at),
    )
    return pb.VerifyApiKeyResponse(
        api_key=key, merchant_status=STATUS_TO_PROTO[merchant.status], principal_kind=OAUTH_CLIENT
    )


def _verify_session(uow_factory: UowFactory, policy: Policy, token: str) -> pb.VerifyApiKeyResponse:
    session_id, secret = operators.split_session(token)
    now = utcnow()
    with uow_factory() as uow:
        session = uow.sessions.get(session_id)
        operator = uow.operators.get(session.login) if session is not None else None
    expected = session.token_hash if session is not None else _sha256("not a session")
    matches = hmac.compare_digest(expected, _sha256(secret))
    if session is None or operator is None or not matches or not session.valid_at(now) or operator.disabled_at:
        raise Unauthenticated("the session is not valid (unknown, ended or expired): log in again")
    key = pb.ApiKey(
        key_id=session.session_id,
        scopes=sorted(ROLE_SCOPES[session.role]),
        created_at=timestamp(session.created_at),
        label=session.login,
        expires_at=timestamp(session.expires_at),
    )
    answer = pb.VerifyApiKeyResponse(api_key=key, principal_kind=OPS_SESSION)
    until = session.step_up_until(timedelta(seconds=policy.step_up_window_s))
    if until is not None:  # a single sign-on without MFA: no sensitive call before a TOTP step-up
        answer.step_up_until.CopyFrom(timestamp(until))
    return answer
