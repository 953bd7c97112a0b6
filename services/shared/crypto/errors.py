"""Why a ciphertext could not be opened. Messages name the record and field, never the plaintext or key."""

from __future__ import annotations

import grpc

from services.shared.errors import XborderError


class DecryptionFailed(XborderError):
    """The ciphertext does not open under this binding: tampered, truncated, or moved to another place.

    DATA_LOSS rather than INVALID_ARGUMENT: the caller did nothing wrong, stored data is not what was written.
    """

    reason = "DECRYPTION_FAILED"
    status = grpc.StatusCode.DATA_LOSS


class KeyUnavailable(XborderError):
    """The key-encryption key named in a ciphertext is not in the key ring."""

    reason = "KEY_UNAVAILABLE"
    status = grpc.StatusCode.FAILED_PRECONDITION


class KeyRetired(KeyUnavailable):
    """The ciphertext's key version is below the configured minimum decryption version."""

    reason = "KEY_RETIRED"
