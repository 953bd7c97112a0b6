"""Ops staff: who they are, how a login is checked, and their sessions.

A login needs the password (argon2id hash) and a TOTP code (RFC 6238: 6 digits, 30-second steps, one
step of clock drift either way). A code is accepted once: the step of the last accepted code is stored
and a code of that step or an earlier one is refused, so a code seen over a shoulder or in a log cannot
be replayed. After `max_failures` failed logins in a row the login is locked for `lock`; the answer to a
locked login is the same as to a wrong password, so the lock does not tell whether a login exists.

Single sign-on (domain/sso.py) opens the same session for an operator linked to an identity of the
company's identity provider.

A session token is `xbo_sess_<session id>_<secret>`; the secret is 32 random bytes, so its SHA-256 is
what is stored (a KDF protects guessable secrets; this one is not). A session is short-lived and carries
the time its last TOTP code was checked: sensitive calls need that within the step-up window.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.identity.domain.roles import Role
from services.shared.errors import Unauthenticated, Violations

SESSION_PREFIX = "xbo_sess_"
_SESSION = re.compile(r"^xbo_sess_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_SESSION_ID = re.compile(r"^[0-9a-f]{16}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 200
LOGIN_REFUSED = "login refused: wrong login, password or TOTP code, or the login is locked or disabled"


@dataclass(frozen=True)
class Operator:
    login: str
    display_name: str
    role: Role
    password_hash: str
    totp_secret: str
    created_at: datetime
    disabled_at: datetime | None = None
    last_totp_step: int = 0
    failed_logins: int = 0
    locked_until: datetime | None = None
    sso_email: str | None = None
    sso_subject: str | None = None

    def locked(self, now: datetime) -> bool:
        return self.disabled_at is not None or (self.locked_until is not None and now < self.locked_until)

    def failed(self, now: datetime, max_failures: int, lock: timedelta) -> Operator:
        """The operator after one more failed login: locked for `lock` when it reaches `max_failures`."""
        count = self.failed_logins + 1
        if count >= max_failures:
            return replace(self, failed_logins=0, locked_until=now + lock)
        return replace(self, failed_logins=count)

    def succeeded(self, totp_step: int) -> Operator:
        return replace(self, failed_logins=0, locked_until=None, last_totp_step=totp_step)


@dataclass(frozen=True)
class Session:
    session_id: str
    token_hash: str
    login: str
    role: Role
    created_at: datetime
    expires_at: datetime
    second_factor_at: datetime | None
    """When a second factor was last checked (a TOTP code, or the IdP's multi-factor sign-in); None for a
    single sign-on session without one, which steps up with a TOTP code before any sensitive call."""
    ended_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at

    def step_up_until(self, window: timedelta) -> datetime | None:
        if self.second_factor_at is None:
            return None
        return min(self.second_factor_at + window, self.expires_at)


@dataclass(frozen=True)
class NewSession:
    session_id: str
    secret: str

    @property
    def presented(self) -> str:
        return f"{SESSION_PREFIX}{self.session_id}_{self.secret}"


def new_session() -> NewSession:
    return NewSession(secrets.token_hex(8), secrets.token_urlsafe(32))


def split_session(presented: str) -> tuple[str, str]:
    found = _SESSION.match(presented)
    if found is None:
        raise Unauthenticated("the credential is not an xborder ops session token (xbo_sess_...)")
    return found.group(1), found.group(2)


def is_session_token(presented: str) -> bool:
    return presented.startswith(SESSION_PREFIX)


def login(value: str, violations: Violations, field: str = "login") -> str:
    name = value.strip().lower()
    if not _LOGIN.match(name):
        violations.add(field, "must be 3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return name


def session_id(value: str, violations: Violations, field: str = "session_id") -> str:
    if not _SESSION_ID.match(value):
        violations.add(field, "must be a session id (16 hex digits)")
    return value


def password(value: str, violations: Violations, field: str = "password") -> str:
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        violations.add(field, f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return value


def display_name(value: str, violations: Violations, field: str = "display_name") -> str:
    name = " ".join(value.split())
    if not name or len(name) > MAX_DISPLAY_NAME:
        violations.add(field, f"is required, at most {MAX_DISPLAY_NAME} characters")
    return name
