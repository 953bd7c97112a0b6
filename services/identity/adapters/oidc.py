"""Verification of an OpenID Connect ID token (PyJWT) against the identity provider's published keys.

Checked in this order (OpenID Connect Core 1.0 section 3.1.3.7), every failure the same Unauthenticated:

1. the header's `alg` is one of the configured asymmetric algorithms (so `none`, and HS256 keyed with the
   IdP's public key, are refused before any key is looked at);
2. the key is the IdP's: the JWKS key with the header's `kid` (or the only usable key when the token names
   none), meant for signatures, whose algorithm is the header's; an unknown `kid` refreshes a JWKS URL once
   (PyJWKClient, at most once per cooldown) and re-reads a JWKS file when it changed;
3. signature, `iss`, `aud` (exactly the client id: a token for several audiences is refused), `exp`, `nbf`
   and `iat` with the configured clock skew; `iat` no older than the maximum token age; `azp`, when
   present, is the client id; `nonce` equals the one the caller sent, when it sent one.

A JWKS URL that cannot be fetched is Unavailable (503): the platform cannot tell, and says so.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from services.identity.domain.sso import IdTokenClaims, refused, replay_key
from services.identity.settings import OidcSettings
from services.shared.errors import Unavailable

log = logging.getLogger(__name__)
_REQUIRED = ["iss", "aud", "sub", "exp", "iat"]
JWKS_TIMEOUT_S = 5.0
REFRESH_COOLDOWN_S = 30.0


class KeySource(Protocol):
    def keys(self, refresh: bool) -> Sequence[PyJWK]:
        """The IdP's keys; `refresh` when none matched a token (a source may refetch, within its limits)."""
        ...


class JwksFile:
    """A JWKS document on disk, re-read when its modification time or size changes (key rotation)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._keys: list[PyJWK] = []
        self._lock = threading.Lock()

    def keys(self, refresh: bool) -> Sequence[PyJWK]:
        with self._lock:
            try:
                status = os.stat(self.path)
                seen = (status.st_mtime_ns, status.st_size)
                if seen != self._seen:
                    self._keys = list(PyJWKSet.from_json(self.path.read_text(encoding="utf-8")).keys)
                    self._seen = seen
            except (OSError, ValueError, jwt.PyJWTError) as error:
                log.warning("oidc jwks file unreadable: %s", type(error).__name__)
                raise Unavailable("the identity provider's keys cannot be read; try again later") from None
            return self._keys


class JwksUrl:
    """The IdP's jwks_uri, fetched and cached by PyJWKClient (refetched after `lifespan_s`)."""

    def __init__(self, url: str, lifespan_s: float, client: PyJWKClient | None = None) -> None:
        self.client = client or PyJWKClient(url, lifespan=lifespan_s, timeout=JWKS_TIMEOUT_S, cooldown_duration=0)
        self._refreshed = float("-inf")
        self._lock = threading.Lock()

    def keys(self, refresh: bool) -> Sequence[PyJWK]:
        with self._lock:
            # A made-up kid must not make every sign-in attempt fetch the JWKS again.
            now = time.monotonic()
            refresh = refresh and now - self._refreshed >= REFRESH_COOLDOWN_S
            if refresh:
                self._refreshed = now
            try:
                return list(self.client.get_jwk_set(refresh=refresh).keys)
            except jwt.PyJWKClientConnectionError:
                raise Unavailable("the identity provider's keys cannot be fetched; try again later") from None
            except (jwt.PyJWTError, ValueError) as error:
                log.warning("oidc jwks unusable: %s", type(error).__name__)
                raise Unavailable("the identity provider's keys cannot be used; try again later") from None


def key_source(settings: OidcSettings) -> KeySource:
    if settings.jwks.startswith("https://"):
        return JwksUrl(settings.jwks, settings.jwks_cache_s)
    return JwksFile(Path(settings.jwks))


def _matching(keys: Sequence[PyJWK], kid: str | None, alg: str) -> list[PyJWK]:
    usable = [k for k in keys if k.public_key_use in (None, "sig") and k.algorithm_name == alg]
    if kid is None:
        return usable if len(usable) == 1 else []
    return [k for k in usable if k.key_id == kid]


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


class IdTokenVerifier:
    def __init__(self, settings: OidcSettings, source: KeySource) -> None:
        self.settings = settings
        self.source = source

    def verify(self, token: str, nonce: str, now: datetime) -> IdTokenClaims:
        """The claims of a valid ID token; Unauthenticated (one message for every failure) otherwise."""
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise self._refuse("malformed") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in s.algorithms or (kid is not None and not isinstance(kid, str)):
            raise self._refuse("algorithm not allowed")
        found = _matching(self.source.keys(refresh=False), kid, alg)
        if not found:
            found = _matching(self.source.keys(refresh=True), kid, alg)
        if len(found) != 1:
            raise self._refuse("no key")
        try:
            claims = jwt.decode(
                token,
                found[0],
                algorithms=[alg],
                audience=s.client_id,
                issuer=s.issuer,
                leeway=s.clock_skew_s,
                options={"require": _REQUIRED, "verify_iat": True},
            )
        except jwt.PyJWTError as error:
            raise self._refuse(type(error).__name__) from None
        return self._claims(token, claims, nonce, now)

    def _claims(self, token: str, claims: dict[str, Any], nonce: str, now: datetime) -> IdTokenClaims:
        s = self.settings
        skew = timedelta(seconds=s.clock_skew_s)
        if claims["aud"] != s.client_id and claims["aud"] != [s.client_id]:
            raise self._refuse("other audiences")
        if "azp" in claims and claims["azp"] != s.client_id:
            raise self._refuse("azp")
        issued, expires = _instant(claims["iat"]), _instant(claims["exp"])
        if issued is None or expires is None or issued < now - skew - timedelta(seconds=s.max_token_age_s):
            raise self._refuse("too old")
        if nonce and not (isinstance(claims.get("nonce"), str) and hmac.compare_digest(claims["nonce"], nonce)):
            raise self._refuse("nonce")
        subject = claims.get(s.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise self._refuse("no subject")
        jti = claims.get("jti")
        email = claims.get("email")
        return IdTokenClaims(
            subject=subject,
            email=email if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") is True,
            amr=_strings(claims.get("amr")),
            acr=claims["acr"] if isinstance(claims.get("acr"), str) else None,
            auth_time=_instant(claims.get("auth_time")),
            groups=_strings(claims.get(s.groups_claim)) if s.groups_claim else (),
            replay_key=replay_key(s.issuer, jti if isinstance(jti, str) else None, token),
            usable_until=expires + skew,
        )

    @staticmethod
    def _refuse(why: str) -> Exception:
        # The reason goes to the log for the operator of the platform, never to the caller.
        log.info("oidc id token refused: %s", why)
        return refused()
