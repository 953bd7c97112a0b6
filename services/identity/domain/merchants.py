"""Merchants: what onboarding registers, and whether calls may be made for one.

A CN entity carries its unified social credit code (GB 32100-2015), checked with python-stdnum's
`stdnum.cn.uscc` (18 characters, the last a check character over the first 17). A merchant is ACTIVE
when its onboarding screening was CLEAR, and held (REVIEW or BLOCKED) otherwise, until a compliance
officer releases it (ACTIVE) or rejects it (REJECTED, for good): domain/holds.py.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumInvalid

from services.shared.errors import Violations

MAX_NAME_CHARS = 300
MAX_CONTACTS = 10
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_ROLES = frozenset({"business", "technical", "compliance", "finance"})


class MerchantStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    REVIEW = "REVIEW"
    BLOCKED = "BLOCKED"
    REJECTED = "REJECTED"


class Screening(enum.Enum):
    """The compliance screening's decision, as onboarding reads it."""

    CLEAR = "CLEAR"
    REVIEW = "REVIEW"
    BLOCK = "BLOCK"


STATUS_AFTER_SCREENING = {
    Screening.CLEAR: MerchantStatus.ACTIVE,
    Screening.REVIEW: MerchantStatus.REVIEW,
    Screening.BLOCK: MerchantStatus.BLOCKED,
}


@dataclass(frozen=True)
class ScreeningOutcome:
    screening_code: str
    decision: Screening


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str
    role: str


@dataclass(frozen=True)
class Registration:
    """What an onboarding request asks to register, checked."""

    legal_name: str
    country: str
    uscc: str
    settlement_currency: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class Merchant:
    merchant_code: str
    registration: Registration
    status: MerchantStatus
    screening_code: str
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status is MerchantStatus.ACTIVE

    def with_status(self, status: MerchantStatus) -> Merchant:
        return replace(self, status=status)


def legal_name(value: str, violations: Violations, field: str = "legal_name") -> str:
    name = " ".join(value.split())
    if not name:
        violations.add(field, "is required")
    elif len(name) > MAX_NAME_CHARS:
        violations.add(field, f"must be at most {MAX_NAME_CHARS} characters, got {len(name)}")
    return name


def country(value: str, violations: Violations, field: str = "country") -> str:
    code = value.strip().upper()
    if not _COUNTRY.match(code):
        violations.add(field, f"must be an ISO 3166-1 alpha-2 code such as CN, got {value!r}")
    return code


def uscc(value: str, country_code: str, violations: Violations, field: str = "uscc") -> str:
    """The USCC, compact and upper-case: required for CN (check character verified), refused elsewhere."""
    code = value.strip().upper().replace(" ", "").replace("-", "")
    if country_code != "CN":
        if code:
            violations.add(field, "only CN entities have a unified social credit code; leave it empty")
        return ""
    if not code:
        violations.add(field, "is required for a CN entity (the 18-character unified social credit code)")
        return ""
    try:
        return str(stdnum_uscc.validate(code))
    except StdnumInvalid as invalid:
        violations.add(field, f"not a valid unified social credit code (GB 32100-2015): {invalid}")
        return ""


def contact(name: str, email: str, phone: str, role: str, index: int, violations: Violations) -> Contact:
    prefix = f"contacts[{index}]"
    name = " ".join(name.split())
    if not name:
        violations.add(f"{prefix}.name", "is required")
    if email and not _EMAIL.match(email.strip()):
        violations.add(f"{prefix}.email", f"is not an e-mail address: {email!r}")
    role = role.strip().lower() or "business"
    if role not in CONTACT_ROLES:
        violations.add(f"{prefix}.role", f"must be one of {', '.join(sorted(CONTACT_ROLES))}, got {role!r}")
    return Contact(name, email.strip(), phone.strip(), role)


def default_settlement_currency(country_code: str) -> str:
    return "CNY" if country_code == "CN" else "USD"
