"""Where compliance stores PERSONAL_SENSITIVE fields: all envelope-encrypted (services/shared/crypto/fields.py).

A screening keeps the party's date of birth and identifiers (for re-screening when the lists change) and
the answer as first given (for reads), which shows them only masked (year of birth, last four characters)
but held them in clear before answers were masked; both are sealed per screening. The answer kept for
idempotent replays (`idempotency_keys.response`) is sealed per (scope, key) by the unit of work, and the
request's fingerprint there is keyed (services.shared.crypto.fields.KeyedFingerprints). No look-up
compares them for equality, so neither has a blind index.
"""

from __future__ import annotations

from services.compliance.adapters.screening_tables import screenings
from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
from services.shared.crypto.fields import IDEMPOTENT_RESPONSE, EncryptedColumn, StorageDeclaration

SERVICE = "compliance"
_PB = "xborder.compliance.v1"

SCREENED_PARTY = EncryptedColumn(
    SERVICE,
    screenings,
    "party_sensitive_enc",
    (f"{_PB}.ScreenPartyRequest.date_of_birth", f"{_PB}.PartyIdentifier.value"),
    entity="screening",
    field="party",
    tenant_column="merchant_code",
    record_column="code",
)
SCREENING_ANSWER = EncryptedColumn(
    SERVICE,
    screenings,
    "response_enc",
    (f"{_PB}.ScreenedParty.date_of_birth", f"{_PB}.ScreenedIdentifier.value"),
    entity="screening",
    field="response",
    tenant_column="merchant_code",
    record_column="code",
)

KEPT_ANSWER = EncryptedColumn(
    SERVICE,
    IDEMPOTENCY_KEYS,
    "response",
    (f"{_PB}.ScreenedParty.date_of_birth", f"{_PB}.ScreenedIdentifier.value"),
    entity=IDEMPOTENT_RESPONSE,
    field="response",
    tenant_column="scope",
    record_column="key",
)

SENSITIVE_STORAGE: tuple[StorageDeclaration, ...] = (SCREENED_PARTY, SCREENING_ANSWER, KEPT_ANSWER)

KEYED_FINGERPRINTS = IDEMPOTENCY_KEYS
"""Its `fingerprint` column holds keyed request fingerprints (`v<version>:<hex>`, KeyedFingerprints): counted
by index-key version in `xborder keys status`; they age out rather than being re-keyed (docs/crypto.md)."""
