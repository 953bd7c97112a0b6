"""Identity settings, read from XB_* variables (docs/identity.md, "OAuth2 clients" and "Ops staff").

`XB_JWT_SIGNING_KEYS` is `kid:base64url-secret[,kid:secret...]`, each secret at least 32 bytes (HS256,
RFC 7518 section 3.2); tokens are signed with `XB_JWT_ACTIVE_KID` (default: the first) and verified
with whichever key their `kid` header names, so a new key is added first, made active, and the old one
removed once the tokens it signed have expired. Unset, a random key is made for the process: tokens
then end when the identity service restarts (fine for the embedded demo, not for several replicas).

Single sign-on of ops staff (docs/identity.md, "Single sign-on") is off until `XB_OIDC_ISSUER` is set; then
`XB_OIDC_CLIENT_ID` and `XB_OIDC_JWKS` are required and every other XB_OIDC_* setting has a safe default.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.identity.domain.roles import Role
from services.identity.domain.sso import MapBy, SsoRules
from services.shared.errors import ConfigurationError
from services.shared.settings import SECONDS, boolean, env_setting, positive_finite

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


ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
"""RFC 7518 section 3.1's public-key signatures: a symmetric (HS*) or `none` algorithm is never accepted."""
MAX_CLOCK_SKEW_S = 300.0


def _algorithms(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(a.strip() for a in raw.split(",") if a.strip()))
    if not names or any(a not in ASYMMETRIC for a in names):
        raise ValueError(raw)
    return names


def _jwks(raw: str) -> str:
    """An https:// URL, or the path of a readable file (checked at start, so a typo does not wait for a login)."""
    value = raw.strip()
    if value.startswith("https://"):
        return value
    if "://" in value or not Path(value).expanduser().is_file():
        raise ValueError(raw)
    return str(Path(value).expanduser().resolve())


def _group_roles(raw: str) -> tuple[tuple[str, Role], ...]:
    pairs: list[tuple[str, Role]] = []
    for part in raw.split(","):
        group, sep, role = part.strip().rpartition("=")
        if not sep or not group.strip():
            raise ValueError(part)
        pairs.append((group.strip(), Role(role.strip())))  # an unknown role is a ValueError
    return tuple(pairs)


def _names(raw: str) -> frozenset[str]:
    return frozenset(v.strip() for v in raw.split(",") if v.strip())


@dataclass(frozen=True)
class OidcSettings:
    """The company's OpenID Connect identity provider, for single sign-on of ops staff."""

    issuer: str
    client_id: str
    jwks: str  # https:// URL of the IdP's jwks_uri, or the path of a JWKS file
    algorithms: tuple[str, ...] = ("RS256",)
    clock_skew_s: float = 60.0
    max_token_age_s: float = 600.0  # an ID token issued longer ago is refused (the CLI posts it at once)
    jwks_cache_s: float = 300.0
    subject_claim: str = "sub"
    groups_claim: str = ""
    rules: SsoRules = field(default_factory=SsoRules)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None) -> OidcSettings | None:
        issuer = env_setting(environ, "oidc_issuer", str.strip, "the IdP's issuer URL", bool)
        if issuer is None:
            return None
        required = {
            "client_id": env_setting(environ, "oidc_client_id", str.strip, "the client id the IdP gave", bool),
            "jwks": env_setting(environ, "oidc_jwks", _jwks, "an https:// URL or the path of a JWKS file"),
        }
        for name, value in required.items():
            if value is None:
                raise ConfigurationError(f"XB_OIDC_{name.upper()} is required when XB_OIDC_ISSUER is set")
        values: dict[str, Any] = {"issuer": issuer, **required}
        read: dict[str, tuple[Any, str, Any]] = {
            "algorithms": (_algorithms, f"a comma-separated list of {', '.join(ASYMMETRIC)}", lambda _: True),
            "clock_skew_s": (float, "0 to 300 seconds", lambda v: 0 <= v <= MAX_CLOCK_SKEW_S),
            "max_token_age_s": (float, SECONDS, positive_finite),
            "jwks_cache_s": (float, SECONDS, positive_finite),
            "subject_claim": (str.strip, "a claim name", bool),
            "groups_claim": (str.strip, "a claim name", bool),
        }
        for name, (convert, what, valid) in read.items():
            value = env_setting(environ, f"oidc_{name}", convert, what, valid)
            if value is not None:
                values[name] = value
        rules: dict[str, Any] = {}
        map_by = env_setting(environ, "oidc_map_by", MapBy, "email or sub")
        if map_by is not None:
            rules["map_by"] = map_by
        group_roles = env_setting(
            environ, "oidc_group_roles", _group_roles, "group=role pairs, comma-separated (roles as in roles.py)"
        )
        if group_roles is not None:
            rules["group_roles"] = group_roles
        if (acrs := env_setting(environ, "oidc_mfa_acr", _names, "acr values, comma-separated")) is not None:
            rules["mfa_acrs"] = acrs
        if (flag := env_setting(environ, "oidc_require_mfa", boolean, "true or false")) is not None:
            rules["require_mfa"] = flag
        if bool(values.get("groups_claim")) != bool(rules.get("group_roles")):
            raise ConfigurationError("XB_OIDC_GROUPS_CLAIM and XB_OIDC_GROUP_ROLES are set together or not at all")
        return cls(**values, rules=SsoRules(**rules))


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
    oidc: OidcSettings | None = None  # single sign-on of ops staff; None: off

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
        values["oidc"] = OidcSettings.from_env(environ)
        settings = cls(**values)
        if settings.jwt_active_kid and settings.jwt_active_kid not in settings.jwt_signing_keys:
            raise ConfigurationError("XB_JWT_ACTIVE_KID must name a key of XB_JWT_SIGNING_KEYS")
        return settings
