"""Where identity stores PERSONAL_SENSITIVE fields: it does not. Ops staff's passwords are kept only as
argon2id hashes, TOTP codes are checked against the (envelope-encrypted) TOTP secret and dropped, and
single sign-on ID tokens are verified and dropped."""

from __future__ import annotations

from services.shared.crypto.fields import NotStored, StorageDeclaration

_PB = "xborder.identity.v1"

SENSITIVE_STORAGE: tuple[StorageDeclaration, ...] = (
    NotStored(f"{_PB}.AddOperatorRequest.password", "kept only as its argon2id hash"),
    NotStored(f"{_PB}.LoginRequest.password", "checked against the argon2id hash"),
    NotStored(f"{_PB}.LoginRequest.totp_code", "checked against the TOTP secret; only the last used step is kept"),
    NotStored(
        f"{_PB}.LoginWithIdTokenRequest.id_token",
        "verified and dropped; only the SHA-256 of its issuer and jti (or of the token) is kept, against replay",
    ),
    NotStored(f"{_PB}.StepUpRequest.totp_code", "checked against the TOTP secret; only the last used step is kept"),
)
