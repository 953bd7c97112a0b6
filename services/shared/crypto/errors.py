"""Why a ciphertext could not be opened. Messages name the record and field, never the plaintext or key."""

from __future__ import annotations

from services.shared.errors import XborderError


class DecryptionFailed(XborderError):
    """The ciphertext does not open under this binding: tampered, truncated, or moved to another place.

    Answered as DATA_LOSS rather than INVALID_ARGUMENT (services/shared/error_statuses.py): the caller did
    nothing wrong, stored data is not what was written.
    """

    reason = "DECRYPTION_FAILED"


class KeyUnavailable(XborderError):
    """The key-encryption key named in a ciphertext is not in the key ring."""

    reason = "KEY_UNAVAILABLE"


class KeyRetired(KeyUnavailable):
    """The ciphertext's key version is below the configured minimum decryption version."""

    reason = "KEY_RETIRED"
