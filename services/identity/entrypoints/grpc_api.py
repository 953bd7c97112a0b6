"""IdentityService servicer: validate each request once, call the handler, map the result to proto."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import grpc
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc

from services.identity.domain import holds, keys, merchants, operators, scopes
from services.identity.service_layer import handlers
from services.identity.service_layer import holds as hold_cases
from services.identity.service_layer.mapping import DECISION_FROM_PROTO, STATUS_TO_PROTO, key_to_proto
from services.shared import request_fields
from services.shared.errors import ValidationError, Violations

_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_LABEL_CHARS = 100


def parse_key_id(value: str, violations: Violations) -> str:
    key_id = value.strip().lower()
    if not _KEY_ID.match(key_id):
        violations.add("key_id", f"must be a key id (16 hex digits, the part after xbk_live_), got {value!r}")
    return key_id


def parse_decision(
    request_id: str, decision: int, reason: str, session_id: str, violations: Violations
) -> tuple[holds.Decision | None, str, str]:
    """The fields every decision on a hold carries (merchant or partner): what, why, from which session."""
    request_fields.request_id(request_id, violations)
    chosen = DECISION_FROM_PROTO.get(decision)  # type: ignore[call-overload]
    if chosen is None:
        violations.add("decision", "must be HOLD_DECISION_RELEASE or HOLD_DECISION_REJECT")
    why = holds.reason(reason, violations)
    session = operators.session_id(session_id, violations)
    return chosen, why, session


def parse_scopes(values: list[str], allowed: frozenset[str], violations: Violations) -> tuple[str, ...]:
    try:
        return scopes.granted(tuple(v.strip() for v in values), allowed)
    except ValidationError as refused:  # absorbed, so one answer names every bad field
        violations.absorb(refused)
        return ()


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    def __init__(
        self,
        uow_factory: handlers.UowFactory,
        screener: handlers.Screener,
        hasher: handlers.Hasher,
        verifier: Callable[[str], pb.VerifyApiKeyResponse] | None = None,
        step_up_window: timedelta = timedelta(minutes=5),
    ) -> None:
        """`verifier` also accepts OAuth2 access tokens and ops session tokens (bootstrap wires it); without
        it only API keys are verified. `step_up_window`: how recent a decider's second factor must be."""
        self.uow_factory = uow_factory
        self.screener = screener
        self.hasher = hasher
        self.verifier = verifier
        self.step_up_window = step_up_window

    def OnboardMerchant(
        self, request: pb.OnboardMerchantRequest, context: grpc.ServicerContext
    ) -> pb.OnboardMerchantResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        name = merchants.legal_name(request.legal_name, violations)
        country = merchants.country(request.country, violations)
        uscc = merchants.uscc(request.uscc, country, violations)
        currency = request_fields.currency(
            request.settlement_currency or merchants.default_settlement_currency(country),
            violations,
            "settlement_currency",
        )
        if len(request.contacts) > merchants.MAX_CONTACTS:
            violations.add("contacts", f"at most {merchants.MAX_CONTACTS}, got {len(request.contacts)}")
        contacts = tuple(
            merchants.contact(c.name, c.email, c.phone, c.role, i, violations) for i, c in enumerate(request.contacts)
        )
        granted = parse_scopes(list(request.scopes), scopes.MERCHANT_SCOPES, violations)
        violations.raise_if_any()
        registration = merchants.Registration(name, country, uscc, currency, contacts)
        return handlers.onboard_merchant(self.uow_factory, self.screener, self.hasher, request, registration, granted)

    def GetMerchant(self, request: pb.GetMerchantRequest, context: grpc.ServicerContext) -> pb.GetMerchantResponse:
        violations = Violations()
        code = request_fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        return pb.GetMerchantResponse(merchant=handlers.merchant_with_history(self.uow_factory, code))

    def DecideMerchantHold(
        self, request: pb.DecideMerchantHoldRequest, context: grpc.ServicerContext
    ) -> pb.DecideMerchantHoldResponse:
        violations = Violations()
        code = request_fields.merchant_code(request.merchant_code, violations)
        decision, reason, _ = parse_decision(
            request.request_id, request.decision, request.reason, request.session_id, violations
        )
        violations.raise_if_any()
        assert decision is not None
        return hold_cases.decide_hold(
            self.uow_factory, hold_cases.MERCHANT, request, code, decision, reason, self.step_up_window
        )

    def RotateApiKey(self, request: pb.RotateApiKeyRequest, context: grpc.ServicerContext) -> pb.RotateApiKeyResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.merchant_code(request.merchant_code, violations)
        key_id = parse_key_id(request.key_id, violations)
        given = request.HasField("overlap_seconds")
        overlap = timedelta(seconds=max(0, request.overlap_seconds)) if given else keys.DEFAULT_OVERLAP
        if request.overlap_seconds < 0 or overlap > keys.MAX_OVERLAP:
            limit = int(keys.MAX_OVERLAP.total_seconds())
            violations.add("overlap_seconds", f"must be between 0 and {limit}, got {request.overlap_seconds}")
        violations.raise_if_any()
        return handlers.rotate_key(self.uow_factory, self.hasher, request, code, key_id, overlap)

    def RevokeApiKey(self, request: pb.RevokeApiKeyRequest, context: grpc.ServicerContext) -> pb.RevokeApiKeyResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.merchant_code(request.merchant_code, violations)
        key_id = parse_key_id(request.key_id, violations)
        violations.raise_if_any()
        return handlers.revoke_key(self.uow_factory, request, code, key_id)

    def IssueOperatorKey(
        self, request: pb.IssueOperatorKeyRequest, context: grpc.ServicerContext
    ) -> pb.IssueOperatorKeyResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        label = " ".join(request.label.split())
        if not label or len(label) > MAX_LABEL_CHARS:
            violations.add("label", f"is required, at most {MAX_LABEL_CHARS} characters")
        granted = parse_scopes(list(request.scopes), scopes.OPERATOR_SCOPES, violations)
        violations.raise_if_any()
        return handlers.issue_operator_key(self.uow_factory, self.hasher, request, label, granted)

    def VerifyApiKey(self, request: pb.VerifyApiKeyRequest, context: grpc.ServicerContext) -> pb.VerifyApiKeyResponse:
        if self.verifier is not None:
            return self.verifier(request.secret)
        holder = handlers.verify_key(self.uow_factory, self.hasher, request.secret)
        answer = pb.VerifyApiKeyResponse(api_key=key_to_proto(holder.key))
        if holder.merchant is not None:
            answer.merchant_status = STATUS_TO_PROTO[holder.merchant.status]
        return answer
