"""Single sign-on of ops staff with an OpenID Connect ID token: which operator it names, and what it proves.

The identity provider (IdP) authenticates the person; the platform checks the ID token (adapters/oidc.py)
and then decides here, with no I/O:

- **Who.** An IdP identity signs in only as an operator an admin added and linked to it, by the verified
  email address (`email` with `email_verified: true`) or by a subject claim (`sub`, or a configured claim
  such as Entra ID's `oid`). Nobody is created on first sign-in.
- **Role.** The operator's own role, unless a group claim is mapped to roles: then the first mapping (in
  the configured order) whose group the token carries gives the session's role, and a token with none of
  the mapped groups is refused.
- **Second factor.** The IdP's authentication counts as two factors when the token's `amr` says "mfa" or
  names methods of two different kinds (RFC 8176 section 2: something known, something held, something
  one is), or its `acr` is one of the configured multi-factor classes. The session's step-up window then
  starts at the token's `auth_time` (when the IdP authenticated, not when it issued this token), and without
  `auth_time` the session steps up with a TOTP code before a sensitive call, as a session without MFA does.
- **Once.** A token is used once: its replay key (the hash of the issuer and `jti`, or of the token's signed
  part when it has no `jti`) is kept until the token could no longer be accepted anyway.

Every refusal is the same `SSO_REFUSED`, so the answer does not tell an unknown identity from a disabled
operator, a replay or a bad signature.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from services.identity.domain.roles import Role
from services.shared.errors import Unauthenticated, Violations

SSO_REFUSED = "sign-in refused: the ID token is not valid here, or names no active operator"
MAX_ID_TOKEN_CHARS = 16_384
MAX_SUBJECT_CHARS = 255  # OpenID Connect Core 1.0 section 2: sub is at most 255 ASCII characters
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")

# RFC 8176 section 2: the methods that are a factor, by kind. "mfa" says so outright; the others
# ("rba", "mca", "geo", "user", "wia") are not a factor of their own.
KNOWN = frozenset({"pwd", "pin", "kba"})
HELD = frozenset({"hwk", "swk", "otp", "sms", "tel", "sc", "pop"})
INHERENT = frozenset({"fpt", "face", "iris", "retina", "vbm"})


class MapBy(enum.Enum):
    EMAIL = "email"
    SUBJECT = "sub"


@dataclass(frozen=True)
class IdTokenClaims:
    """What a verified ID token says (adapters/oidc.py has checked signature, issuer, audience and times)."""

    subject: str
    email: str | None
    email_verified: bool
    amr: tuple[str, ...]
    acr: str | None
    auth_time: datetime | None
    groups: tuple[str, ...]
    replay_key: str
    usable_until: datetime
    """After this (expiry plus clock skew) the token is refused anyway: its replay key may be forgotten."""


@dataclass(frozen=True)
class SsoRules:
    """How tokens map to operators and sessions (from the XB_OIDC_* settings)."""

    map_by: MapBy = MapBy.SUBJECT
    group_roles: tuple[tuple[str, Role], ...] = ()
    mfa_acrs: frozenset[str] = frozenset()
    require_mfa: bool = False


def refused() -> Unauthenticated:
    return Unauthenticated(SSO_REFUSED)


def replay_key(issuer: str, jti: str | None, token: str) -> str:
    if jti:
        return hashlib.sha256(f"jti\0{issuer}\0{jti}".encode()).hexdigest()
    # The signed part only: base64url's last character may carry unused bits, so a signature can be
    # re-spelled and still verify, while any change to the signed part breaks the signature.
    signed = token.rpartition(".")[0]
    return hashlib.sha256(f"token\0{signed}".encode()).hexdigest()


def multi_factor(amr: tuple[str, ...], acr: str | None, mfa_acrs: frozenset[str]) -> bool:
    if "mfa" in amr or (acr is not None and acr in mfa_acrs):
        return True
    methods = set(amr)
    return sum(1 for kind in (KNOWN, HELD, INHERENT) if methods & kind) >= 2


def second_factor_at(claims: IdTokenClaims, rules: SsoRules, now: datetime) -> datetime | None:
    """When the session's second factor was checked: the IdP's MFA time, or None (a TOTP step-up is due)."""
    if not multi_factor(claims.amr, claims.acr, rules.mfa_acrs) or claims.auth_time is None:
        return None
    return min(claims.auth_time, now)  # an auth_time in the future must not stretch the window


def identity_of(claims: IdTokenClaims, rules: SsoRules) -> str:
    """The linked identity to look the operator up by; refused when the token does not prove one."""
    if rules.map_by is MapBy.SUBJECT:
        return claims.subject
    if claims.email is None or not claims.email_verified:
        raise refused()
    return normal_email(claims.email)


def session_role(claims: IdTokenClaims, rules: SsoRules, operator_role: Role) -> Role:
    if not rules.group_roles:
        return operator_role
    carried = set(claims.groups)
    for group, role in rules.group_roles:
        if group in carried:
            return role
    raise refused()


def normal_email(value: str) -> str:
    return value.strip().lower()


def email(value: str, violations: Violations, field: str = "email") -> str | None:
    address = normal_email(value)
    if not address:
        return None
    if not _EMAIL.match(address):
        violations.add(field, "must be an email address (name@domain)")
    return address


def subject(value: str, violations: Violations, field: str = "subject") -> str | None:
    if not value:
        return None
    if value != value.strip() or len(value) > MAX_SUBJECT_CHARS or not value.isprintable():
        violations.add(field, f"must be the IdP's subject identifier, 1-{MAX_SUBJECT_CHARS} printable characters")
    return value


def id_token(value: str, violations: Violations, field: str = "id_token") -> str:
    token = value.strip()
    if not token:
        violations.add(field, "is required (the ID token your identity provider issued)")
    elif len(token) > MAX_ID_TOKEN_CHARS or token.count(".") != 2:
        violations.add(field, f"must be a signed JWT (three dot-separated parts), at most {MAX_ID_TOKEN_CHARS}")
    return token
