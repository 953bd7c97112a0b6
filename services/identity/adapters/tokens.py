"""OAuth2 access tokens as JWTs (RFC 7519, PyJWT), HS256 with a key id (`kid`) so keys can rotate.

Verification pins the algorithm (a token with `alg: none` or any other algorithm is refused before its
signature is looked at), requires iss, aud, sub, exp, iat, nbf and jti, checks the issuer and audience,
and picks the key by `kid` only among the configured ones (a token naming an unknown kid is refused). No
leeway: the identity service both signs and verifies, so there is one clock.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt

from services.identity.domain.clients import OAuthClient, TokenClaims
from services.identity.settings import IdentitySettings
from services.shared.errors import Unauthenticated

ALGORITHM = "HS256"
_REQUIRED = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti"]
INVALID = "the access token is not valid (malformed, forged, expired, or for another audience)"


class JwtSigner:
    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings

    def sign(self, client: OAuthClient, scopes: tuple[str, ...], now: datetime) -> tuple[str, datetime]:
        s = self.settings
        expires = now + timedelta(seconds=s.access_token_ttl_s)
        claims = {
            "iss": s.jwt_issuer,
            "aud": s.jwt_audience,
            "sub": client.client_id,
            "mc": client.merchant_code,
            "scope": " ".join(scopes),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_hex(16),
        }
        kid = s.active_kid
        token = jwt.encode(claims, s.jwt_signing_keys[kid], algorithm=ALGORITHM, headers={"kid": kid})
        return token, datetime.fromtimestamp(int(expires.timestamp()), UTC)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; Unauthenticated (one message for every failure) otherwise."""
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("alg") != ALGORITHM or not isinstance(kid, str) or kid not in s.jwt_signing_keys:
                raise Unauthenticated(INVALID)
            claims = jwt.decode(
                token,
                s.jwt_signing_keys[kid],
                algorithms=[ALGORITHM],
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError:
            raise Unauthenticated(INVALID) from None
        subject, merchant, scope = claims.get("sub"), claims.get("mc"), claims.get("scope", "")
        if not isinstance(subject, str) or not isinstance(merchant, str) or not isinstance(scope, str):
            raise Unauthenticated(INVALID)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return TokenClaims(subject, merchant, tuple(scope.split()), expires)


def looks_like_jwt(presented: str) -> bool:
    return presented.count(".") == 2 and presented.startswith("ey")
