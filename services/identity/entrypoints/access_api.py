"""AccessService servicer: OAuth2 clients and tokens, ops staff, their logins and sessions."""

from __future__ import annotations

import grpc
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc

from services.identity.domain import clients, operators, scopes, sso
from services.identity.domain.sso import SsoRules
from services.identity.entrypoints.grpc_api import MAX_LABEL_CHARS, parse_scopes
from services.identity.service_layer import access
from services.identity.service_layer.access_mapping import ROLE_FROM_PROTO
from services.identity.service_layer.handlers import Hasher, UowFactory
from services.shared import request_fields
from services.shared.errors import NotFound, Unauthenticated, Violations

SSO_OFF = "single sign-on is not configured on this platform: log in with password and TOTP code"


def _label(value: str, violations: Violations) -> str:
    label = " ".join(value.split())
    if not label or len(label) > MAX_LABEL_CHARS:
        violations.add("label", f"is required, at most {MAX_LABEL_CHARS} characters")
    return label


def _client_id(value: str, violations: Violations) -> str:
    client_id = value.strip()
    if not clients.is_client_id(client_id):
        violations.add("client_id", f"must be a client id (xbc_ and 16 hex digits), got {value!r}")
    return client_id


class AccessServicer(apb_grpc.AccessServiceServicer):
    def __init__(
        self,
        uow_factory: UowFactory,
        hasher: Hasher,
        signer: access.Signer,
        totp: access.TotpCheck,
        box: access.SecretBox,
        policy: access.Policy,
        sso: tuple[access.IdTokenCheck, SsoRules] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.hasher = hasher
        self.signer = signer
        self.totp = totp
        self.box = box
        self.policy = policy
        self.sso = sso  # None: single sign-on is off

    def RegisterClient(
        self, request: apb.RegisterClientRequest, context: grpc.ServicerContext
    ) -> apb.RegisterClientResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.merchant_code(request.merchant_code, violations)
        label = _label(request.label, violations)
        granted = parse_scopes(list(request.scopes), scopes.MERCHANT_SCOPES, violations)
        violations.raise_if_any()
        return access.register_client(self.uow_factory, self.hasher, request, code, label, granted)

    def ListClients(self, request: apb.ListClientsRequest, context: grpc.ServicerContext) -> apb.ListClientsResponse:
        violations = Violations()
        code = request_fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        return access.list_clients(self.uow_factory, code)

    def RevokeClient(self, request: apb.RevokeClientRequest, context: grpc.ServicerContext) -> apb.RevokeClientResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.merchant_code(request.merchant_code, violations)
        client_id = _client_id(request.client_id, violations)
        violations.raise_if_any()
        return access.revoke_client(self.uow_factory, request, code, client_id)

    def IssueAccessToken(
        self, request: apb.IssueAccessTokenRequest, context: grpc.ServicerContext
    ) -> apb.IssueAccessTokenResponse:
        if not request.client_id or not request.client_secret:
            raise Unauthenticated("client authentication failed (client_id and client_secret are required)")
        return access.issue_access_token(
            self.uow_factory, self.hasher, self.signer, request.client_id, request.client_secret, request.scope
        )

    def AddOperator(self, request: apb.AddOperatorRequest, context: grpc.ServicerContext) -> apb.AddOperatorResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        login = operators.login(request.login, violations)
        name = operators.display_name(request.display_name, violations)
        operators.password(request.password, violations)
        role = ROLE_FROM_PROTO.get(request.role)
        if role is None:
            violations.add("role", "must be one of VIEWER, AGENT, COMPLIANCE_OFFICER, FINANCE, ADMIN")
        violations.raise_if_any()
        assert role is not None
        return access.add_operator(self.uow_factory, self.hasher, self.totp, self.box, request, login, name, role)

    def DisableOperator(
        self, request: apb.DisableOperatorRequest, context: grpc.ServicerContext
    ) -> apb.DisableOperatorResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        login = operators.login(request.login, violations)
        violations.raise_if_any()
        return access.disable_operator(self.uow_factory, request, login)

    def Login(self, request: apb.LoginRequest, context: grpc.ServicerContext) -> apb.LoginResponse:
        violations = Violations()
        login = operators.login(request.login, violations)
        if not request.password:
            violations.add("password", "is required")
        if not request.totp_code:
            violations.add("totp_code", "is required (the 6 digits of your authenticator app)")
        violations.raise_if_any()
        return access.login(
            self.uow_factory,
            self.hasher,
            self.totp,
            self.box,
            self.policy,
            login,
            request.password,
            request.totp_code.strip(),
        )

    def LoginWithIdToken(
        self, request: apb.LoginWithIdTokenRequest, context: grpc.ServicerContext
    ) -> apb.LoginWithIdTokenResponse:
        if self.sso is None:
            raise NotFound(SSO_OFF)
        violations = Violations()
        token = sso.id_token(request.id_token, violations)
        if len(request.nonce) > sso.MAX_SUBJECT_CHARS:
            violations.add("nonce", f"must be at most {sso.MAX_SUBJECT_CHARS} characters")
        violations.raise_if_any()
        verifier, rules = self.sso
        return access.login_with_id_token(self.uow_factory, verifier, rules, self.policy, token, request.nonce)

    def LinkOperatorSso(
        self, request: apb.LinkOperatorSsoRequest, context: grpc.ServicerContext
    ) -> apb.LinkOperatorSsoResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        login = operators.login(request.login, violations)
        email = sso.email(request.email, violations)
        subject = sso.subject(request.subject, violations)
        violations.raise_if_any()
        return access.link_operator_sso(self.uow_factory, request, login, email, subject)

    def StepUp(self, request: apb.StepUpRequest, context: grpc.ServicerContext) -> apb.StepUpResponse:
        violations = Violations()
        session_id = operators.session_id(request.session_id, violations)
        if not request.totp_code:
            violations.add("totp_code", "is required (the 6 digits of your authenticator app)")
        violations.raise_if_any()
        return access.step_up(self.uow_factory, self.totp, self.box, self.policy, session_id, request.totp_code.strip())

    def Logout(self, request: apb.LogoutRequest, context: grpc.ServicerContext) -> apb.LogoutResponse:
        violations = Violations()
        session_id = operators.session_id(request.session_id, violations)
        violations.raise_if_any()
        return access.logout(self.uow_factory, session_id)
