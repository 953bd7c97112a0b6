"""Partners in the identity service on real gRPC and its database (SQLite, and PostgreSQL when reachable).

Screening is a fake (the decision is the legal name's last word), so held partners can be made at will.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from xborder.identity.v1 import identity_service_pb2 as ipb
from xborder.identity.v1 import partner_service_pb2 as pb
from xborder.identity.v1 import partner_service_pb2_grpc as pb_grpc

from services.identity import bootstrap
from services.identity.domain.merchants import Screening, ScreeningOutcome
from services.identity.entrypoints.partners_api import PartnerServicer
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.partner_certs import TestCa
from tests.servers import rejected


@dataclass
class FakePartnerScreener:
    asked: list[tuple[str, str, str, str]] = field(default_factory=list)

    def screen_partner(
        self, request_id: str, partner_code: str, legal_name: str, country: str, uscc: str
    ) -> ScreeningOutcome:
        self.asked.append((partner_code, legal_name, country, uscc))
        decision = next((d for d in Screening if legal_name.endswith(d.value)), Screening.CLEAR)
        return ScreeningOutcome("HC" + partner_code[2:], decision)


@dataclass
class Running:
    stub: pb_grpc.PartnerServiceStub
    screener: FakePartnerScreener


@pytest.fixture
def partners(any_settings: Settings) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    screener = FakePartnerScreener()
    servicer = PartnerServicer(context.uow, screener)  # type: ignore[arg-type]

    def add(server: grpc.Server) -> None:
        pb_grpc.add_PartnerServiceServicer_to_server(servicer, server)

    server = serve(any_settings, [add], bootstrap.GRPC_SERVICES, port=0)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Running(pb_grpc.PartnerServiceStub(channel), screener)
    server.stop(0)
    context.close()


def refused(call: Any, request: Any) -> tuple[grpc.StatusCode, dict[str, str]]:
    """(status, {field: problem}) of a call that must fail."""
    with pytest.raises(grpc.RpcError) as failed:
        call(request, timeout=10)
    code, _, violations = rejected(failed.value)  # type: ignore[arg-type]
    return code, violations


def onboard(running: Running, name: str = "Rhine Parcel Carriers GmbH", **fields: object) -> pb.Partner:
    request = pb.OnboardPartnerRequest(
        request_id=str(uuid.uuid4()),
        legal_name=name,
        kind=fields.pop("kind", pb.PARTNER_KIND_LOGISTICS),  # type: ignore[arg-type]
        country=fields.pop("country", "DE"),  # type: ignore[arg-type]
        owns=fields.pop("owns", ["dhl_express"]),  # type: ignore[arg-type]
        contacts=[ipb.Contact(name="Ops Desk", email="ops@rhine.example", role="technical")],
        **fields,  # type: ignore[arg-type]
    )
    return running.stub.OnboardPartner(request, timeout=10).partner


def test_onboarding_screens_the_partner_under_its_own_code(partners: Running) -> None:
    partner = onboard(partners)
    assert partner.partner_code.startswith("HB") and partner.status == pb.PARTNER_STATUS_ACTIVE
    assert partners.screener.asked == [(partner.partner_code, "Rhine Parcel Carriers GmbH", "DE", "")]
    assert list(partner.owns) == ["DHL_EXPRESS"] and partner.kind == pb.PARTNER_KIND_LOGISTICS
    read = partners.stub.GetPartner(pb.GetPartnerRequest(partner_code=partner.partner_code), timeout=10).partner
    assert read.legal_name == partner.legal_name and read.contacts[0].email == "ops@rhine.example"


@pytest.mark.parametrize(
    ("suffix", "status"), [("REVIEW", pb.PARTNER_STATUS_REVIEW), ("BLOCK", pb.PARTNER_STATUS_BLOCKED)]
)
def test_a_screening_match_holds_the_partner(partners: Running, suffix: str, status: int) -> None:
    assert onboard(partners, f"Doubtful Freight {suffix}").status == status


def test_onboarding_is_idempotent_on_the_request_id(partners: Running) -> None:
    request = pb.OnboardPartnerRequest(
        request_id="partner-once",
        legal_name="Harbour Warehousing Ltd",
        kind=pb.PARTNER_KIND_WAREHOUSE,
        country="GB",
        owns=["SAMPLE-WH-GB-BHX"],
    )
    first = partners.stub.OnboardPartner(request, timeout=10)
    again = partners.stub.OnboardPartner(request, timeout=10)
    assert first == again and len(partners.screener.asked) == 1


def test_bad_registrations_name_every_field(partners: Running) -> None:
    error = refused(
        partners.stub.OnboardPartner,
        pb.OnboardPartnerRequest(request_id="x", legal_name=" ", kind=pb.PARTNER_KIND_ODR, country="Deutschland"),
    )
    assert error[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert {"legal_name", "country", "owns"} <= set(error[1])
    payment_without_names = refused(
        partners.stub.OnboardPartner,
        pb.OnboardPartnerRequest(request_id="y", legal_name="Pay Co", kind=pb.PARTNER_KIND_PAYMENT, country="SG"),
    )
    assert "owns" in payment_without_names[1]
    # A payment provider owns ledger partner names: no spaces or other signs the ledger does not spell.
    not_a_ledger_name = refused(
        partners.stub.OnboardPartner,
        pb.OnboardPartnerRequest(
            request_id="y2", legal_name="Pay Co", kind=pb.PARTNER_KIND_PAYMENT, country="SG", owns=["PAY CO", "PAYCO"]
        ),
    )
    assert list(not_a_ledger_name[1]) == ["owns[0]"]
    no_kind = refused(
        partners.stub.OnboardPartner, pb.OnboardPartnerRequest(request_id="z", legal_name="Pay Co", country="SG")
    )
    assert "kind" in no_kind[1]


def test_certificates_register_verify_and_revoke(partners: Running) -> None:
    partner = onboard(partners)
    issued = TestCa().issue("rhine-parcel-01")
    added = partners.stub.AddPartnerCertificate(
        pb.AddPartnerCertificateRequest(
            request_id=str(uuid.uuid4()),
            partner_code=partner.partner_code,
            certificate_pem=issued.cert_pem.decode(),
            label="tracking push",
        ),
        timeout=10,
    ).certificate
    assert added.fingerprint == issued.fingerprint
    verified = partners.stub.VerifyPartnerCertificate(
        pb.VerifyPartnerCertificateRequest(fingerprint=issued.fingerprint)
    )
    assert verified.partner.partner_code == partner.partner_code
    assert list(verified.scopes) == [
        "identity.partners.read",
        "logistics.rates.write",
        "logistics.read",
        "logistics.returns.receive",
        "logistics.tracking.write",
    ]

    # One certificate names one partner: registering it again (to anyone) is refused.
    other = onboard(partners, "Other Carrier BV", country="NL", owns=["hermes"])
    colon_form = ":".join(issued.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    again = refused(
        partners.stub.AddPartnerCertificate,
        pb.AddPartnerCertificateRequest(request_id="again", partner_code=other.partner_code, fingerprint=colon_form),
    )
    assert again[0] == grpc.StatusCode.ALREADY_EXISTS

    # Another partner's certificate is as unknown as one that does not exist.
    foreign = refused(
        partners.stub.RevokePartnerCertificate,
        pb.RevokePartnerCertificateRequest(
            request_id="foreign", partner_code=other.partner_code, fingerprint=issued.fingerprint
        ),
    )
    assert foreign[0] == grpc.StatusCode.NOT_FOUND

    revoked = partners.stub.RevokePartnerCertificate(
        pb.RevokePartnerCertificateRequest(
            request_id=str(uuid.uuid4()), partner_code=partner.partner_code, fingerprint=issued.fingerprint
        ),
        timeout=10,
    ).certificate
    assert revoked.HasField("revoked_at")
    refusal = refused(
        partners.stub.VerifyPartnerCertificate, pb.VerifyPartnerCertificateRequest(fingerprint=issued.fingerprint)
    )
    assert refusal[0] == grpc.StatusCode.UNAUTHENTICATED
    listed = partners.stub.GetPartner(pb.GetPartnerRequest(partner_code=partner.partner_code)).partner
    assert [c.fingerprint for c in listed.certificates] == [issued.fingerprint]


def test_unknown_partners_and_fingerprints(partners: Running) -> None:
    unknown = refused(partners.stub.GetPartner, pb.GetPartnerRequest(partner_code="MC" + "0" * 16))
    assert unknown[0] == grpc.StatusCode.INVALID_ARGUMENT and "partner_code" in unknown[1]
    never = refused(partners.stub.VerifyPartnerCertificate, pb.VerifyPartnerCertificateRequest(fingerprint="ab" * 32))
    assert never[0] == grpc.StatusCode.UNAUTHENTICATED
    malformed = refused(
        partners.stub.AddPartnerCertificate,
        pb.AddPartnerCertificateRequest(request_id="m", partner_code=onboard(partners).partner_code, fingerprint="zz"),
    )
    assert malformed[0] == grpc.StatusCode.INVALID_ARGUMENT and "fingerprint" in malformed[1]


def test_a_payment_provider_owns_ledger_partner_names_and_reconciles_with_them(partners: Running) -> None:
    partner = onboard(partners, "Tulip Payments BV", kind=pb.PARTNER_KIND_PAYMENT, owns=["stripe", " adyen "])
    assert list(partner.owns) == ["ADYEN", "STRIPE"]  # as the ledger spells its CLEARING owners
    issued = TestCa().issue("tulip-01")
    partners.stub.AddPartnerCertificate(
        pb.AddPartnerCertificateRequest(
            request_id=str(uuid.uuid4()), partner_code=partner.partner_code, certificate_pem=issued.cert_pem.decode()
        ),
        timeout=10,
    )
    verified = partners.stub.VerifyPartnerCertificate(
        pb.VerifyPartnerCertificateRequest(fingerprint=issued.fingerprint)
    )
    assert list(verified.partner.owns) == ["ADYEN", "STRIPE"]
    assert list(verified.scopes) == ["identity.partners.read", "reconciliation.read", "reconciliation.write"]
