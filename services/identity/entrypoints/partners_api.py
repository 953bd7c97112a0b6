"""PartnerService servicer: validate each request once, call the use case, answer the proto."""

from __future__ import annotations

from datetime import timedelta

import grpc
from xborder.identity.v1 import partner_service_pb2 as pb
from xborder.identity.v1 import partner_service_pb2_grpc as pb_grpc

from services.identity.domain import merchants, partners
from services.identity.entrypoints.grpc_api import parse_decision
from services.identity.service_layer import holds as hold_cases
from services.identity.service_layer import partners as use_cases
from services.shared import request_fields
from services.shared.errors import Violations


def partner_code(value: str, violations: Violations) -> str:
    return request_fields.unified_code(value, "partner_code", violations, "HB")


class PartnerServicer(pb_grpc.PartnerServiceServicer):
    def __init__(
        self,
        uow_factory: use_cases.UowFactory,
        screener: use_cases.PartnerScreener,
        step_up_window: timedelta = timedelta(minutes=5),
    ) -> None:
        self.uow_factory = uow_factory
        self.screener = screener
        self.step_up_window = step_up_window

    def OnboardPartner(
        self, request: pb.OnboardPartnerRequest, context: grpc.ServicerContext
    ) -> pb.OnboardPartnerResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        name = merchants.legal_name(request.legal_name, violations)
        kind = use_cases.KIND_FROM_PROTO.get(request.kind)
        if kind is None:
            violations.add("kind", "must be one of LOGISTICS, PAYMENT, WAREHOUSE, ODR")
        country = merchants.country(request.country, violations)
        uscc = merchants.uscc(request.uscc, country, violations)
        if len(request.contacts) > merchants.MAX_CONTACTS:
            violations.add("contacts", f"at most {merchants.MAX_CONTACTS}, got {len(request.contacts)}")
        contacts = tuple(
            merchants.contact(c.name, c.email, c.phone, c.role, i, violations) for i, c in enumerate(request.contacts)
        )
        owns = partners.owned(list(request.owns), kind, violations) if kind is not None else ()
        violations.raise_if_any()
        assert kind is not None
        registration = partners.PartnerRegistration(name, kind, country, uscc, contacts, owns)
        return use_cases.onboard_partner(self.uow_factory, self.screener, request, registration)

    def GetPartner(self, request: pb.GetPartnerRequest, context: grpc.ServicerContext) -> pb.GetPartnerResponse:
        violations = Violations()
        code = partner_code(request.partner_code, violations)
        violations.raise_if_any()
        return pb.GetPartnerResponse(partner=use_cases.get_partner(self.uow_factory, code))

    def DecidePartnerHold(
        self, request: pb.DecidePartnerHoldRequest, context: grpc.ServicerContext
    ) -> pb.DecidePartnerHoldResponse:
        violations = Violations()
        code = partner_code(request.partner_code, violations)
        decision, reason, _ = parse_decision(
            request.request_id, request.decision, request.reason, request.session_id, violations
        )
        violations.raise_if_any()
        assert decision is not None
        return hold_cases.decide_hold(
            self.uow_factory, hold_cases.PARTNER, request, code, decision, reason, self.step_up_window
        )

    def AddPartnerCertificate(
        self, request: pb.AddPartnerCertificateRequest, context: grpc.ServicerContext
    ) -> pb.AddPartnerCertificateResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = partner_code(request.partner_code, violations)
        if request.fingerprint and request.certificate_pem:
            violations.add("fingerprint", "give fingerprint or certificate_pem, not both")
        elif request.certificate_pem:
            fingerprint = partners.certificate_fingerprint(request.certificate_pem, violations)
        else:
            fingerprint = partners.fingerprint(request.fingerprint, violations)
        label = " ".join(request.label.split())
        if len(label) > partners.MAX_LABEL_CHARS:
            violations.add("label", f"at most {partners.MAX_LABEL_CHARS} characters, got {len(label)}")
        violations.raise_if_any()
        return use_cases.add_certificate(self.uow_factory, request, code, fingerprint, label)

    def RevokePartnerCertificate(
        self, request: pb.RevokePartnerCertificateRequest, context: grpc.ServicerContext
    ) -> pb.RevokePartnerCertificateResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = partner_code(request.partner_code, violations)
        fingerprint = partners.fingerprint(request.fingerprint, violations)
        violations.raise_if_any()
        return use_cases.revoke_certificate(self.uow_factory, request, code, fingerprint)

    def VerifyPartnerCertificate(
        self, request: pb.VerifyPartnerCertificateRequest, context: grpc.ServicerContext
    ) -> pb.VerifyPartnerCertificateResponse:
        violations = Violations()
        fingerprint = partners.fingerprint(request.fingerprint, violations)
        violations.raise_if_any()
        return use_cases.verify_certificate(self.uow_factory, fingerprint)
