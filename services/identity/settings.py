"""Identity settings, read from XB_* variables (docs/identity.md, "OAuth2 clients" and "Ops staff").

`XB_JWT_SIGNING_KEYS` is `kid:base64url-secret[,kid:secret...]`, each secret at least 32 bytes (HS256,
RFC 7518 section 3.2); tokens are signed with `XB_JWT_ACTIVE_KID` (default: the first) and verified
with whichever key their `kid` header names, so a new key is added first, made active, and the old one
removed once the tokens it signed have expired. Unset, a random key is made for the process: tokens
then end when the identity service restarts (fine for the embedded demo, not for several replicas).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.shared.errors import ConfigurationError
from services.shared.settings import SECONDS, env_setting, positive_finite

MIN_KEY_BYTES = 32
_KIDS = "kid:secret pairs, comma-separated (kid of letters, digits, '.', '_', '-'; base64url secret >= 32 bytes)"


def parse_signing_keys(raw: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in raw.split(","):
        kid, sep, secret = part.strip().partition(":")
        if not sep or not kid or not all(c.isalnum() or c in "._-" for c in kid) or kid in keys:
            raise ValueError(part)
        try:
            key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
        except (binascii.Error, ValueError):
            raise ValueError(part) from None
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(part)
        keys[kid] = key
    return keys


_PROCESS_KEYS: dict[str, bytes] = {f"process-{secrets.token_hex(4)}": secrets.token_bytes(32)}
"""One random key per process when none is configured, so every reading of the settings signs alike."""


def _random_keys() -> dict[str, bytes]:
    return dict(_PROCESS_KEYS)


@dataclass(frozen=True)
class IdentitySettings:
    jwt_signing_keys: Mapping[str, bytes] = field(default_factory=_random_keys, repr=False)
    jwt_active_kid: str = ""  # "" means the first of jwt_signing_keys
    jwt_issuer: str = "xborder-identity"
    jwt_audience: str = "xborder-api"
    access_token_ttl_s: float = 600.0  # RFC 6749 recommends short-lived tokens; the client asks again
    ops_session_ttl_s: float = 3600.0
    step_up_window_s: float = 300.0  # a sensitive call needs a TOTP code checked this recently
    login_max_failures: int = 5
    login_lock_s: float = 900.0

    @property
    def active_kid(self) -> str:
        return self.jwt_active_kid or next(iter(self.jwt_signing_keys))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IdentitySettings:
        values: dict[str, Any] = {}
        keys = env_setting(environ, "jwt_signing_keys", parse_signing_keys, _KIDS)
        if keys is not None:
            values["jwt_signing_keys"] = keys
        read = {
            "jwt_active_kid": (str, "a kid of XB_JWT_SIGNING_KEYS", lambda v: bool(v.strip())),
            "jwt_issuer": (str, "an issuer name", lambda v: bool(v.strip())),
            "jwt_audience": (str, "an audience name", lambda v: bool(v.strip())),
            "access_token_ttl_s": (float, SECONDS, lambda v: positive_finite(v) and v <= 3600),
            "ops_session_ttl_s": (float, SECONDS, lambda v: positive_finite(v) and v <= 86400),
            "step_up_window_s": (float, SECONDS, positive_finite),
            "login_max_failures": (int, "an integer >= 1", lambda v: v >= 1),
            "login_lock_s": (float, SECONDS, positive_finite),
        }
        for name, (convert, what, valid) in read.items():
            value = env_setting(environ, name, convert, what, valid)
            if value is not None:
                values[name] = value
        settings = cls(**values)
        if settings.jwt_active_kid and settings.jwt_active_kid not in settings.jwt_signing_keys:
            raise ConfigurationError("XB_JWT_ACTIVE_KID must name a key of XB_JWT_SIGNING_KEYS")
        return settings
