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


VERSION_SEPARATOR = ":"
"""A stored index is `v<version>:<hex>`; a bare hex value predates versioning and is version 1."""
LEGACY_VERSION = 1


def stored_version(stored: str) -> int | None:
    """The index-key version a stored index (or keyed fingerprint) names; None when it names none it could."""
    head, sep, _ = stored.partition(VERSION_SEPARATOR)
    if not sep:
        return LEGACY_VERSION
    if len(head) < 2 or head[0] != "v" or not head[1:].isdigit():
        return None
    return int(head[1:])


class VersionedBlindIndex:
    """Blind indexes under every index-key version the ring holds: writes use the newest, look-ups try each.

    While the index key is being rotated, a row is indexed under either the old or the new version (the
    rotation job recomputes them in batches), so an equality look-up asks for every version's hash of
    the value (`candidates`) and finds the row whichever one it holds (docs/crypto.md#blind-index-key-rotation).
    """

    def __init__(self, keys: dict[int, bytes], length: int = INDEX_BYTES) -> None:
        if not keys:
            raise ValueError("a versioned blind index needs at least one key")
        self._by_version = {v: BlindIndex(k, length) for v, k in sorted(keys.items())}
        self.newest_version = max(keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._by_version)

    def compute_under(self, version: int, normalised: str, *, tenant: str, entity: str, field: str) -> str:
        """`v<version>:<hex>` under one version (KeyError when the ring does not hold it)."""
        digest = self._by_version[version].compute(normalised, tenant=tenant, entity=entity, field=field)
        return f"v{version}{VERSION_SEPARATOR}{digest}"

    def compute(self, normalised: str, *, tenant: str, entity: str, field: str) -> str:
        """The stored form under the newest version: what a write puts down."""
        return self.compute_under(self.newest_version, normalised, tenant=tenant, entity=entity, field=field)

    def candidates(self, normalised: str, *, tenant: str, entity: str, field: str) -> list[str]:
        """Every stored form the value may have now: one per version held, newest first, and the bare hex of
        version 1 as written before indexes carried their version."""
        out = [
            self.compute_under(v, normalised, tenant=tenant, entity=entity, field=field)
            for v in sorted(self._by_version, reverse=True)
        ]
        if LEGACY_VERSION in self._by_version:
            out.append(out[-1].partition(VERSION_SEPARATOR)[2])
        return out

    def matches(self, stored: str, normalised: str, *, tenant: str, entity: str, field: str) -> bool:
        """Whether `stored` is this value's index under the version it names (constant-time compare). An
        index under a version the ring no longer holds matches nothing."""
        version = stored_version(stored)
        if version is None or version not in self._by_version:
            return False
        expected = self.compute_under(version, normalised, tenant=tenant, entity=entity, field=field)
        if VERSION_SEPARATOR not in stored:
            expected = expected.partition(VERSION_SEPARATOR)[2]
        return hmac.compare_digest(stored, expected)
