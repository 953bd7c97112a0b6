"""A stand-in OpenID Connect identity provider for tests: its own RSA and EC keys, a JWKS file, ID tokens.

Keys are generated here (cryptography) and published as a JWKS file, as the company's IdP publishes its
jwks_uri; nothing goes over the network.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example.test/realms/ops"
CLIENT_ID = "xborder-ops"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str | None) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig"})
    if alg is not None:
        jwk["alg"] = alg
    return dict(jwk)


@dataclass
class Idp:
    jwks_path: Path
    rsa: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    ec: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    issuer: str = ISSUER
    client_id: str = CLIENT_ID

    def __post_init__(self) -> None:
        self.publish()

    def publish(self, *extra: dict[str, Any]) -> None:
        keys = [public_jwk(self.rsa, "rsa-1", "RS256"), public_jwk(self.ec, "ec-1", None), *extra]
        self.jwks_path.write_text(json.dumps({"keys": keys}), encoding="utf-8")

    def env(self, **more: str) -> dict[str, str]:
        """The XB_OIDC_* settings of a platform that trusts this IdP."""
        return {
            "XB_OIDC_ISSUER": self.issuer,
            "XB_OIDC_CLIENT_ID": self.client_id,
            "XB_OIDC_JWKS": str(self.jwks_path),
            "XB_OIDC_ALGORITHMS": "RS256,ES256",
            **{f"XB_OIDC_{k.upper()}": v for k, v in more.items()},
        }

    def claims(self, sub: str = "00u-li-wei", **more: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "auth_time": now - 5,
            "jti": secrets.token_hex(12),
            "amr": ["pwd", "otp"],
            "email": "li.wei@example.com",
            "email_verified": True,
        }
        claims.update(more)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, sub: str = "00u-li-wei", *, alg: str = "RS256", kid: str | None = None, **more: Any) -> str:
        """An ID token signed with this IdP's key (RSA for RS256, EC for ES256); claims set to None are left out."""
        key: Any = self.ec if alg == "ES256" else self.rsa
        headers = {"kid": kid or ("ec-1" if alg == "ES256" else "rsa-1")}
        return jwt.encode(self.claims(sub, **more), key, algorithm=alg, headers=headers)
