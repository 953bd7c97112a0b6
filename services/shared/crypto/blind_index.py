"""Blind index: a keyed hash of a normalised value, so equal values can be found without decrypting.

index = HMAC-SHA256(k_scope, normalised value) truncated to 16 bytes (128 bits: collisions are out of reach
for any realistic number of rows, so equality look-ups need no second check), with
k_scope = HKDF-SHA256(index key, info = tenant, entity, field). A per-tenant, per-field key means the same
IBAN gives unrelated indexes for two merchants, or in two fields, so indexes cannot be joined across them.

What it leaks (docs/crypto.md): to anyone who reads the table, which rows of one tenant's field hold equal
values, and so how often each value occurs (frequency). With the index key, anyone can test a guess; the
key must be kept like a KEK. Low-entropy values (a 4-digit PIN) would be brute-forced: index only
identifiers with real entropy (IBANs, account numbers).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INDEX_BYTES = 16
_INFO_TAG = b"xborder.blind-index.v1"


def normalise_identifier(value: str) -> str:
    """NFKC, every whitespace removed, upper case: ' de89 3704 ' and 'DE893704' index alike."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _part(value: str) -> bytes:
    raw = value.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


class BlindIndex:
    def __init__(self, index_key: bytes, length: int = INDEX_BYTES) -> None:
        if not 8 <= length <= 32:
            raise ValueError("a blind index keeps 8 to 32 bytes of the HMAC")
        self._length = length
        self._derive = lru_cache(maxsize=4096)(lambda info: _hkdf(index_key, info))

    def key_for(self, tenant: str, entity: str, field: str) -> bytes:
        return self._derive(_INFO_TAG + _part(tenant) + _part(entity) + _part(field))

    def compute(self, normalised: str, *, tenant: str, entity: str, field: str) -> str:
        """Hex of the truncated HMAC. The caller normalises (e.g. normalise_identifier) before calling."""
        digest = hmac.new(self.key_for(tenant, entity, field), normalised.encode("utf-8"), hashlib.sha256).digest()
        return digest[: self._length].hex()


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
