"""Where compliance stores PERSONAL_SENSITIVE fields: all envelope-encrypted (services/shared/crypto/fields.py).

A screening keeps the party's date of birth and identifiers (for re-screening when the lists change) and
the answer as first given (for replays and reads), which echoes them; both are sealed per screening.
No look-up compares them for equality, so neither has a blind index.
"""

from __future__ import annotations

from services.compliance.adapters.screening_tables import screenings
from services.shared.crypto.fields import EncryptedColumn, StorageDeclaration

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
    (f"{_PB}.ScreenedParty.date_of_birth", f"{_PB}.PartyIdentifier.value"),
    entity="screening",
    field="response",
    tenant_column="merchant_code",
    record_column="code",
)

SENSITIVE_STORAGE: tuple[StorageDeclaration, ...] = (SCREENED_PARTY, SCREENING_ANSWER)
