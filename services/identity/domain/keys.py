"""API keys: their shape, how a presented key is split, and when a stored key is valid.

A key is `xbk_live_<key id>_<secret>`: the fixed prefix lets secret scanners (GitHub push protection,
gitleaks, trufflehog) recognise a leaked key, the key id (16 hex digits) finds the one stored row, and
only the secret's argon2id hash is stored. The secret is 32 random bytes (256 bits), so the hash guards
the stored copy, not a guessable password.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.shared.errors import Unauthenticated

PREFIX = "xbk_live_"
KEY_ID_HEX = 16
_KEY = re.compile(r"^xbk_live_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
MAX_OVERLAP = timedelta(days=7)
DEFAULT_OVERLAP = timedelta(days=1)


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: the id to store, the secret to hash, and the whole key to show once."""

    key_id: str
    secret: str

    @property
    def presented(self) -> str:
        return f"{PREFIX}{self.key_id}_{self.secret}"


def generate() -> NewKey:
    return NewKey(secrets.token_hex(KEY_ID_HEX // 2), secrets.token_urlsafe(32))


def split(presented: str) -> tuple[str, str]:
    """(key id, secret) of a presented key; Unauthenticated when it does not have the key's shape."""
    found = _KEY.match(presented)
    if found is None:
        raise Unauthenticated("the credential is not an xborder API key (xbk_live_...)")
    return found.group(1), found.group(2)


@dataclass(frozen=True)
class ApiKey:
    """A stored key. `merchant_code` is None for an operator key."""

    key_id: str
    secret_hash: str
    merchant_code: str | None
    scopes: tuple[str, ...]
    created_at: datetime
    label: str = ""
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or now < self.expires_at

    def revoked(self, now: datetime) -> ApiKey:
        """Revoking twice keeps the first time."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)

    def ending(self, at: datetime) -> ApiKey:
        """The key as it is after a rotation: valid until `at` (never extended past an earlier end)."""
        end = at if self.expires_at is None else min(self.expires_at, at)
        return replace(self, expires_at=end)
