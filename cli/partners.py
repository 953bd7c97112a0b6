"""`xborder partners`: onboard a partner, show it, release or reject a held one, register and revoke its
mTLS client certificates.

The commands call the identity service's partner use cases in this process, on its database. Onboarding
screens the partner through compliance's ScreeningService over gRPC, so the platform must be running.
`release` and `reject` are a compliance officer's decision (cli/holds.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from xborder.identity.v1 import identity_service_pb2 as ipb
from xborder.identity.v1 import partner_service_pb2 as pb

from cli.context import call_in_process
from cli.holds import Held, add_hold_commands
from services.shared.context import ServiceContext

console = Console()
partners_app = typer.Typer(
    help="Partners (carriers, payment providers, warehouses, ODR providers).", no_args_is_help=True
)
certificates_app = typer.Typer(help="A partner's mTLS client certificates.", no_args_is_help=True)
partners_app.add_typer(certificates_app, name="certificates")

KINDS = ("logistics", "payment", "warehouse", "odr")
M = TypeVar("M", bound=Message)


def _call(method: Callable[[Any], M]) -> M:
    return call_in_process("identity", lambda context: method(_servicer(context)))


def _servicer(context: ServiceContext) -> Any:
    from services.identity.bootstrap import partner_servicer  # here, so `xborder --help` does not load it

    return partner_servicer(context)


def _print(message: Message, as_json: bool, line: str) -> None:
    if as_json:
        print(json.dumps(json_format.MessageToDict(message), ensure_ascii=False))
    else:
        console.print(line, highlight=False, soft_wrap=True)


def _status(partner: pb.Partner) -> str:
    return pb.PartnerStatus.Name(partner.status).removeprefix("PARTNER_STATUS_")


@partners_app.command("onboard")
def onboard(
    name: str = typer.Option(..., "--name", help="The registered legal name."),
    kind: str = typer.Option(..., "--kind", help=f"One of {', '.join(KINDS)}."),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2 country of incorporation."),
    uscc: str = typer.Option("", "--uscc", help="Unified social credit code (required for CN)."),
    owns: list[str] = typer.Option(
        [],
        "--owns",
        help="What is the partner's own: carrier names, warehouse codes, ODR provider names or ledger partner names.",
    ),
    contact: list[str] = typer.Option([], "--contact", help="NAME,EMAIL[,PHONE[,ROLE]] (repeatable)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register and screen a partner; print its code (HB...) and status."""
    if kind.lower() not in KINDS:
        console.print(f"[red]kind:[/red] must be one of {', '.join(KINDS)}, got {kind!r}", highlight=False)
        raise typer.Exit(2)
    contacts = []
    for given in contact:
        parts = [p.strip() for p in given.split(",")] + ["", "", ""]
        contacts.append(ipb.Contact(name=parts[0], email=parts[1], phone=parts[2], role=parts[3]))
    request = pb.OnboardPartnerRequest(
        request_id=f"cli-{uuid.uuid4()}",
        legal_name=name,
        kind=f"PARTNER_KIND_{kind.upper()}",
        country=country,
        uscc=uscc,
        owns=owns,
        contacts=contacts,
    )
    partner = _call(lambda servicer: servicer.OnboardPartner(request, None)).partner
    _print(partner, as_json, f"partner {partner.partner_code} ({_status(partner)}), screening {partner.screening_code}")


@partners_app.command("show")
def show(
    partner_code: str = typer.Argument(..., help="The partner's code (HB...)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A partner's registration, status, certificates and the decisions on its hold."""
    partner = _call(lambda servicer: servicer.GetPartner(pb.GetPartnerRequest(partner_code=partner_code), None)).partner
    kind = pb.PartnerKind.Name(partner.kind).removeprefix("PARTNER_KIND_").lower()
    lines = [
        f"{partner.partner_code}  {partner.legal_name}  {kind}  {partner.country}  {_status(partner)}",
        f"owns: {', '.join(partner.owns) or '-'}",
    ]
    for certificate in partner.certificates:
        state = f"revoked {certificate.revoked_at.ToJsonString()}" if certificate.HasField("revoked_at") else "valid"
        lines.append(f"certificate {certificate.fingerprint}  {certificate.label or '-'}  {state}")
    for d in partner.hold_decisions:
        lines.append(
            f"hold {d.previous_status} -> {d.status} by {d.decided_by} at {d.decided_at.ToJsonString()}: {d.reason}"
        )
    _print(partner, as_json, "\n".join(lines))


add_hold_commands(
    partners_app,
    Held(
        noun="partner",
        code_help="The held partner's code (HB...).",
        release_help="Release a partner its screening held: it becomes ACTIVE and its certificates work again.",
        reject_help="Confirm a hold: the partner becomes REJECTED, for good.",
        servicer=_servicer,
        request=pb.DecidePartnerHoldRequest,
        method="DecidePartnerHold",
        status=_status,
    ),
)


@certificates_app.command("add")
def add_certificate(
    partner_code: str = typer.Argument(..., help="The partner's code (HB...)."),
    pem: Path | None = typer.Option(None, "--pem", exists=True, dir_okay=False, help="The client certificate (PEM)."),
    fingerprint: str = typer.Option("", "--fingerprint", help="Its SHA-256 fingerprint instead (64 hex digits)."),
    label: str = typer.Option("", "--label", help="Who or what the certificate is for."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a client certificate (issued by the partner CA) to the partner."""
    request = pb.AddPartnerCertificateRequest(
        request_id=f"cli-{uuid.uuid4()}",
        partner_code=partner_code,
        fingerprint=fingerprint,
        certificate_pem=pem.read_text() if pem else "",
        label=label,
    )
    certificate = _call(lambda servicer: servicer.AddPartnerCertificate(request, None)).certificate
    _print(certificate, as_json, f"certificate {certificate.fingerprint} registered to {partner_code}")


@certificates_app.command("revoke")
def revoke_certificate(
    partner_code: str = typer.Argument(..., help="The partner's code (HB...)."),
    fingerprint: str = typer.Argument(..., help="The certificate's SHA-256 fingerprint."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stop a certificate at once (the gateway's cache forgets it within 5 seconds)."""
    request = pb.RevokePartnerCertificateRequest(
        request_id=f"cli-{uuid.uuid4()}", partner_code=partner_code, fingerprint=fingerprint
    )
    certificate = _call(lambda servicer: servicer.RevokePartnerCertificate(request, None)).certificate
    _print(
        certificate,
        as_json,
        f"certificate {certificate.fingerprint} revoked at {certificate.revoked_at.ToJsonString()}",
    )
