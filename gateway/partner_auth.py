"""Partners on the gRPC front door: mTLS client certificates issued by the partner CA.

The front door listens on a second port with TLS and `require_client_auth`: a client without a certificate,
or with one the partner CA did not sign, is refused by the handshake itself. A certificate that passes is
named by the SHA-256 of its DER encoding; identity's PartnerService/VerifyPartnerCertificate says which
partner it is registered to (an unregistered or revoked one is UNAUTHENTICATED), and the partner acts with
its kind's scopes on what it owns (gateway/tenancy.py, `Rule.partner`). The port is off unless
XB_PARTNER_TLS_PORT is set (docs/gateway.md lists the variables).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.tenancy import PartnerFacts, Principal
from services.shared.errors import ConfigurationError
from services.shared.settings import env_setting

VERIFY_PARTNER = "/xborder.identity.v1.PartnerService/VerifyPartnerCertificate"
PARTNER_CERTIFICATE = "partner_certificate"
_KINDS = {1: "LOGISTICS", 2: "PAYMENT", 3: "WAREHOUSE", 4: "ODR"}  # xborder.identity.v1.PartnerKind
_ACTIVE = 1  # xborder.identity.v1.PartnerStatus.PARTNER_STATUS_ACTIVE


def _port(value: int) -> bool:
    return 0 <= value <= 65535


def _file(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class PartnerTlsSettings:
    """XB_PARTNER_TLS_PORT (unset: no partner port; 0 picks a free one), XB_PARTNER_CA_PEM (the CA that
    issues partner certificates), XB_PARTNER_TLS_CERT_PEM and XB_PARTNER_TLS_KEY_PEM (the front door's own
    server certificate and key)."""

    port: int | None = None
    ca_pem: Path | None = None
    cert_pem: Path | None = None
    key_pem: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PartnerTlsSettings:
        env = os.environ if environ is None else environ
        port = env_setting(env, "partner_tls_port", int, "a port number 0..65535", _port)
        ca = env_setting(env, "partner_ca_pem", _file, "a PEM file path")
        cert = env_setting(env, "partner_tls_cert_pem", _file, "a PEM file path")
        key = env_setting(env, "partner_tls_key_pem", _file, "a PEM file path")
        return cls(port, ca, cert, key)

    @property
    def enabled(self) -> bool:
        return self.port is not None

    def server_credentials(self) -> grpc.ServerCredentials:
        """TLS with a required client certificate from the partner CA."""
        missing = [name for name, path in self._files().items() if path is None or not path.is_file()]
        if missing:
            raise ConfigurationError(f"the partner TLS port needs readable PEM files: {', '.join(missing)}")
        assert self.ca_pem and self.cert_pem and self.key_pem
        return grpc.ssl_server_credentials(
            [(self.key_pem.read_bytes(), self.cert_pem.read_bytes())],
            root_certificates=self.ca_pem.read_bytes(),
            require_client_auth=True,
        )

    def _files(self) -> dict[str, Path | None]:
        return {
            "XB_PARTNER_CA_PEM": self.ca_pem,
            "XB_PARTNER_TLS_CERT_PEM": self.cert_pem,
            "XB_PARTNER_TLS_KEY_PEM": self.key_pem,
        }


def peer_fingerprint(context: grpc.ServicerContext) -> str | None:
    """SHA-256 (hex) of the client certificate the TLS handshake verified; None on the plaintext port."""
    try:
        auth = context.auth_context() or {}
    except Exception:  # an in-process context without a transport has no TLS peer
        return None
    pems = cast("Sequence[bytes]", auth.get("x509_pem_cert") or ())
    if not pems:
        return None
    certificate = x509.load_pem_x509_certificate(pems[0])
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def partner_principal(fingerprint: str, reply: Any) -> Principal:
    """The principal a VerifyPartnerCertificate answer describes (key_id: the certificate's fingerprint)."""
    partner = reply.partner
    facts = PartnerFacts(
        partner.partner_code,
        _KINDS.get(partner.kind, ""),
        partner.status == _ACTIVE,
        frozenset(partner.owns),
        partner.country,
    )
    return Principal(fingerprint, None, frozenset(reply.scopes), kind=PARTNER_CERTIFICATE, partner=facts)
