"""Partner use cases: onboard (screened), read, register and revoke certificates, verify a certificate.

The only code that commits partners. A partner's screening runs outside any transaction, as a merchant's
does, and is asked under the partner's own code (compliance stores the screening under it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from xborder.identity.v1 import identity_service_pb2 as ipb
from xborder.identity.v1 import partner_service_pb2 as pb

from services.identity.domain.holds import Entity, HoldDecision
from services.identity.domain.merchants import STATUS_AFTER_SCREENING, ScreeningOutcome
from services.identity.domain.partners import Certificate, Partner, PartnerKind, PartnerRegistration, PartnerStatus
from services.identity.domain.scopes import PARTNER_SCOPES
from services.identity.service_layer.mapping import decision_to_proto, timestamp
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import AlreadyExists, NotFound, Unauthenticated
from services.shared.idempotency import Request, fingerprint, replayed, run_idempotent

UowFactory = Callable[[], IdentityUnitOfWork]

KIND_TO_PROTO = {
    PartnerKind.LOGISTICS: pb.PARTNER_KIND_LOGISTICS,
    PartnerKind.PAYMENT: pb.PARTNER_KIND_PAYMENT,
    PartnerKind.WAREHOUSE: pb.PARTNER_KIND_WAREHOUSE,
    PartnerKind.ODR: pb.PARTNER_KIND_ODR,
}
KIND_FROM_PROTO = {value: kind for kind, value in KIND_TO_PROTO.items()}
STATUS_TO_PROTO = {
    PartnerStatus.ACTIVE: pb.PARTNER_STATUS_ACTIVE,
    PartnerStatus.REVIEW: pb.PARTNER_STATUS_REVIEW,
    PartnerStatus.BLOCKED: pb.PARTNER_STATUS_BLOCKED,
    PartnerStatus.REJECTED: pb.PARTNER_STATUS_REJECTED,
}


class PartnerScreener(Protocol):
    def screen_partner(
        self, request_id: str, partner_code: str, legal_name: str, country: str, uscc: str
    ) -> ScreeningOutcome: ...


def certificate_to_proto(certificate: Certificate) -> pb.PartnerCertificate:
    answer = pb.PartnerCertificate(
        fingerprint=certificate.fingerprint, label=certificate.label, created_at=timestamp(certificate.created_at)
    )
    if certificate.revoked_at is not None:
        answer.revoked_at.CopyFrom(timestamp(certificate.revoked_at))
    return answer


def partner_to_proto(
    partner: Partner, certificates: list[Certificate] | None = None, decisions: list[HoldDecision] | None = None
) -> pb.Partner:
    r = partner.registration
    return pb.Partner(
        partner_code=partner.partner_code,
        legal_name=r.legal_name,
        kind=KIND_TO_PROTO[r.kind],
        country=r.country,
        status=STATUS_TO_PROTO[partner.status],
        screening_code=partner.screening_code,
        contacts=[ipb.Contact(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in r.contacts],
        owns=list(r.owns),
        certificates=[certificate_to_proto(c) for c in certificates or ()],
        created_at=timestamp(partner.created_at),
        hold_decisions=[decision_to_proto(d) for d in decisions or ()],
    )


def onboard_partner(
    uow_factory: UowFactory,
    screener: PartnerScreener,
    request: pb.OnboardPartnerRequest,
    registration: PartnerRegistration,
) -> pb.OnboardPartnerResponse:
    """Screen the partner, then register it (held on REVIEW or BLOCK)."""
    ask = Request("identity.onboard-partner", request.request_id, fingerprint(request))
    earlier = replayed(uow_factory, ask, pb.OnboardPartnerResponse)
    if earlier is not None:
        return earlier
    partner_code = codes.generate("HB")
    outcome = screener.screen_partner(
        f"identity-onboard-{partner_code}",
        partner_code,
        registration.legal_name,
        registration.country,
        registration.uscc,
    )

    def work(uow: IdentityUnitOfWork) -> pb.OnboardPartnerResponse:
        status = STATUS_AFTER_SCREENING[outcome.decision]
        partner = Partner(partner_code, registration, status, outcome.screening_code, utcnow())
        uow.partners.add(partner)
        return pb.OnboardPartnerResponse(partner=partner_to_proto(partner))

    return run_idempotent(uow_factory, ask, pb.OnboardPartnerResponse, work)


def _partner(uow: IdentityUnitOfWork, partner_code: str) -> Partner:
    partner = uow.partners.get(partner_code)
    if partner is None:
        raise NotFound(f"no partner {partner_code}", field="partner_code")
    return partner


def get_partner(uow_factory: UowFactory, partner_code: str) -> pb.Partner:
    with uow_factory() as uow:
        partner = _partner(uow, partner_code)
        certificates = uow.partners.certificates(partner_code)
        decisions = uow.holds.of(Entity.PARTNER, partner_code)
    return partner_to_proto(partner, certificates, decisions)


def add_certificate(
    uow_factory: UowFactory,
    request: pb.AddPartnerCertificateRequest,
    partner_code: str,
    fingerprint_hex: str,
    label: str,
) -> pb.AddPartnerCertificateResponse:
    ask = Request(f"identity.partner-certificate:{partner_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.AddPartnerCertificateResponse:
        _partner(uow, partner_code)
        if uow.partners.certificate(fingerprint_hex) is not None:
            # Whose it is stays unsaid: one certificate names one partner, ever (a revoked one included).
            raise AlreadyExists(f"certificate {fingerprint_hex} is registered already", field="fingerprint")
        certificate = Certificate(fingerprint_hex, partner_code, label, utcnow())
        uow.partners.add_certificate(certificate)
        return pb.AddPartnerCertificateResponse(certificate=certificate_to_proto(certificate))

    return run_idempotent(uow_factory, ask, pb.AddPartnerCertificateResponse, work)


def revoke_certificate(
    uow_factory: UowFactory, request: pb.RevokePartnerCertificateRequest, partner_code: str, fingerprint_hex: str
) -> pb.RevokePartnerCertificateResponse:
    ask = Request(f"identity.partner-certificate-revoke:{partner_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.RevokePartnerCertificateResponse:
        found = uow.partners.certificate(fingerprint_hex, for_update=True)
        if found is None or found.partner_code != partner_code:
            raise NotFound(f"partner {partner_code} has no certificate {fingerprint_hex}", field="fingerprint")
        certificate = found.revoked(utcnow())
        uow.partners.save_revocation(certificate)
        return pb.RevokePartnerCertificateResponse(certificate=certificate_to_proto(certificate))

    return run_idempotent(uow_factory, ask, pb.RevokePartnerCertificateResponse, work)


def verify_certificate(uow_factory: UowFactory, fingerprint_hex: str) -> pb.VerifyPartnerCertificateResponse:
    """Which partner holds a certificate; Unauthenticated (one message) for an unknown or revoked one."""
    with uow_factory() as uow:
        certificate = uow.partners.certificate(fingerprint_hex)
        partner = uow.partners.get(certificate.partner_code) if certificate is not None else None
    if certificate is None or partner is None or not certificate.valid:
        raise Unauthenticated("the client certificate is not registered to a partner, or it is revoked")
    scopes = sorted(PARTNER_SCOPES[partner.registration.kind.value])
    return pb.VerifyPartnerCertificateResponse(partner=partner_to_proto(partner), scopes=scopes)
