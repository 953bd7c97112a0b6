"""Where identity stores PERSONAL_SENSITIVE values: operators' TOTP secrets, envelope-encrypted.

Ops staff's passwords are kept only as argon2id hashes, TOTP codes are checked and dropped, and single
sign-on ID tokens are verified and dropped (only a hash of each is kept, to refuse a replay). A TOTP
secret must be read back in clear to check a code, so it is sealed (adapters/totp_secrets.py) in
`operators.totp_secret`, bound to the platform tenant, the operator's login and the field; declaring the
column here is what makes `xborder keys rotate` re-wrap it. No proto field carries the secret (the
enrolment URI is answered once and never stored).
"""

from __future__ import annotations

from services.identity.adapters.tables import operators
from services.shared.crypto.fields import EncryptedColumn, NotStored, StorageDeclaration

SERVICE = "identity"
_PB = "xborder.identity.v1"

TOTP_SECRET = EncryptedColumn(
    SERVICE,
    operators,
    "totp_secret",
    (),
    entity="operator",
    field="totp_secret",
    tenant_column="",
    record_column="login",
    tenant="platform",
)

SENSITIVE_STORAGE: tuple[StorageDeclaration, ...] = (
    TOTP_SECRET,
    NotStored(f"{_PB}.AddOperatorRequest.password", "kept only as its argon2id hash"),
    NotStored(f"{_PB}.LoginRequest.password", "checked against the argon2id hash"),
    NotStored(f"{_PB}.LoginRequest.totp_code", "checked against the TOTP secret; only the last used step is kept"),
    NotStored(
        f"{_PB}.LoginWithIdTokenRequest.id_token",
        "verified and dropped; only the SHA-256 of its issuer and jti (or of the token) is kept, against replay",
    ),
    NotStored(f"{_PB}.StepUpRequest.totp_code", "checked against the TOTP secret; only the last used step is kept"),
)
