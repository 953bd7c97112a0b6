"""OAuth2 clients of merchants (RFC 6749 section 4.4, client credentials) and the claims of their tokens.

A client id is `xbc_<16 hex digits>`; its secret `xbcs_<32 random bytes, base64url>` is shown once and
stored as an argon2id hash, like an API key's. The prefixes let secret scanners find leaked secrets
(`xbcs_[A-Za-z0-9_-]{43}`). An access token is a short-lived JWT whose subject is the client id: the
identity service signs it and is the one that verifies it, so a revoked client's tokens stop working
within the gateway's cache period, not at their expiry.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from services.shared.errors import ValidationError

CLIENT_PREFIX = "xbc_"
SECRET_PREFIX = "xbcs_"  # noqa: S105 (the prefix secret scanners look for)
_CLIENT_ID = re.compile(r"^xbc_[0-9a-f]{16}$")
_SECRET = re.compile(r"^xbcs_[A-Za-z0-9_-]{43}$")
MAX_SCOPE_CHARS = 4096


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    secret_hash: str
    merchant_code: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def revoked(self, now: datetime) -> OAuthClient:
        """Revoking twice keeps the first time."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)


def new_client_id() -> str:
    return CLIENT_PREFIX + secrets.token_hex(8)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def is_client_id(value: str) -> bool:
    return bool(_CLIENT_ID.match(value))


def is_secret(value: str) -> bool:
    return bool(_SECRET.match(value))


def requested_scopes(scope: str, held: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes a token asks for (RFC 6749 section 3.3: space-delimited); all the client's when empty.

    A scope the client does not hold is a ValidationError on `scope` (the token endpoint's invalid_scope).
    """
    if len(scope) > MAX_SCOPE_CHARS:
        raise ValidationError.single("scope", f"at most {MAX_SCOPE_CHARS} characters")
    asked = tuple(sorted(set(scope.split())))
    if not asked:
        return held
    beyond = sorted(set(asked) - set(held))
    if beyond:
        raise ValidationError.single("scope", f"the client does not hold: {', '.join(beyond)}")
    return asked


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says: the client, its merchant, its scopes and when it ends."""

    client_id: str
    merchant_code: str
    scopes: tuple[str, ...]
    expires_at: datetime
