"""Partners: carriers, payment providers, overseas warehouses and ODR providers, and their certificates.

A partner is screened at onboarding like a merchant (ACTIVE when CLEAR, held on REVIEW or BLOCK) and calls
the gRPC front door with an mTLS client certificate issued by the partner CA; the certificate's SHA-256
fingerprint (of its DER encoding) is what is registered to the partner. What a partner may act on is named
at onboarding: the carrier names a logistics partner pushes tracking events for, the warehouse codes a
warehouse pushes inventory for, the provider names an ODR provider records case statuses for, the ledger
partner names a payment provider imports settlement statements for (the owner of its CLEARING accounts).
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from services.identity.domain.merchants import Contact, MerchantStatus
from services.shared.errors import Violations

MAX_OWNED = 20
MAX_OWNED_CHARS = 64
MAX_LABEL_CHARS = 100
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_OWNED = re.compile(r"^[A-Z0-9][A-Z0-9 ._/&-]*$")
_LEDGER_PARTNER = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
"""How payments spells a partner in the ledger (a collection's or payout's `partner`, the owner of its
CLEARING account): a name of another spelling could never match a settlement statement's `partner`."""


class PartnerKind(enum.Enum):
    LOGISTICS = "LOGISTICS"
    PAYMENT = "PAYMENT"
    WAREHOUSE = "WAREHOUSE"
    ODR = "ODR"


OWNED_WHAT = {
    PartnerKind.LOGISTICS: "carrier names",
    PartnerKind.WAREHOUSE: "warehouse codes",
    PartnerKind.ODR: "ODR provider names",
    PartnerKind.PAYMENT: "ledger partner names (the owner of its CLEARING accounts, e.g. STRIPE)",
}
"""What a partner of each kind owns."""

PartnerStatus = MerchantStatus  # the same three states, reached the same way


@dataclass(frozen=True)
class PartnerRegistration:
    legal_name: str
    kind: PartnerKind
    country: str
    uscc: str
    contacts: tuple[Contact, ...]
    owns: tuple[str, ...]


@dataclass(frozen=True)
class Partner:
    partner_code: str
    registration: PartnerRegistration
    status: PartnerStatus
    screening_code: str
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status is PartnerStatus.ACTIVE

    def with_status(self, status: PartnerStatus) -> Partner:
        return replace(self, status=status)


@dataclass(frozen=True)
class Certificate:
    fingerprint: str
    partner_code: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.revoked_at is None

    def revoked(self, now: datetime) -> Certificate:
        """Revoking twice keeps the first time."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)


def owned(values: list[str], kind: PartnerKind, violations: Violations, field: str = "owns") -> tuple[str, ...]:
    """The names a partner owns, upper-case, sorted, without repeats; required for every kind."""
    names = sorted({" ".join(v.split()).upper() for v in values if v.strip()})
    if not names:
        violations.add(field, f"is required for a {kind.value.lower()} partner: its {OWNED_WHAT[kind]}")
    if len(names) > MAX_OWNED:
        violations.add(field, f"at most {MAX_OWNED}, got {len(names)}")
    for index, name in enumerate(names):
        if kind is PartnerKind.PAYMENT:
            if not _LEDGER_PARTNER.match(name):
                violations.add(
                    f"{field}[{index}]",
                    f"must be a ledger partner name: 1..{MAX_OWNED_CHARS} letters, digits, '_' or '-', got {name!r}",
                )
        elif len(name) > MAX_OWNED_CHARS or not _OWNED.match(name):
            violations.add(
                f"{field}[{index}]",
                f"must be 1..{MAX_OWNED_CHARS} letters, digits, spaces or . _ / & -, got {name!r}",
            )
    return tuple(names)


def fingerprint(value: str, violations: Violations, field: str = "fingerprint") -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits (colons and spaces, as tools print it, dropped)."""
    compact = value.strip().lower().replace(":", "").replace(" ", "")
    if not _FINGERPRINT.match(compact):
        violations.add(field, f"must be a SHA-256 fingerprint (64 hex digits), got {value!r}")
        return ""
    return compact


def certificate_fingerprint(pem: str, violations: Violations, field: str = "certificate_pem") -> str:
    """The SHA-256 fingerprint of a PEM certificate's DER encoding (what the front door computes)."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        violations.add(field, "is not a PEM X.509 certificate")
        return ""
    return der_fingerprint(certificate.public_bytes(Encoding.DER))


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
