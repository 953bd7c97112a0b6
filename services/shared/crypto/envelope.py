"""Envelope encryption: a fresh AES-256-GCM data key per record, wrapped by a versioned KEK.

Stored format (docs/crypto.md; the Tink / Vault transit / KMS pattern), all integers big-endian:

    version     1 byte    FORMAT_VERSION
    algorithm   1 byte    Algorithm (1 = AES-256-GCM; 2 reserved for SM4-GCM, GB/T 39786)
    kek_id      1 byte length + ASCII
    kek_version 4 bytes
    wrapped_key 2 bytes length + the data key wrapped with AES key wrap (RFC 3394)
    nonce       12 bytes  random (96 bit, NIST SP 800-38D 8.2.2)
    ciphertext  n bytes
    tag         16 bytes

Format 2 (written today) authenticates `version | algorithm` followed by the canonical binding
(binding.py); the KEK id, KEK version and wrapped key stay outside the GCM associated data so that key
rotation re-wraps the 40-byte data key without touching the value (ADR 0027). They are still protected:
RFC 3394 unwrap checks its own integrity value, so a changed key id, version or wrapped key fails there,
and a wrapped key swapped in from another row yields another data key, which fails the tag. Format 1
(ADR 0018) authenticated the whole header; it is still read, and rotation turns it into format 2.
Each data key encrypts exactly one value, so the 2^32 random-nonce limit per key is never approached.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from services.shared.crypto.binding import Binding
from services.shared.crypto.errors import DecryptionFailed, KeyRetired, KeyUnavailable
from services.shared.crypto.keyring import Kek, KeyRing

FORMAT_VERSION = 2
HEADER_BOUND_VERSION = 1
"""Format 1 put the whole header into the associated data, so its data key cannot be re-wrapped alone."""
READABLE_VERSIONS = frozenset({HEADER_BOUND_VERSION, FORMAT_VERSION})
NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 32
RING_REFRESH_S = 5.0
TEXT_PREFIX = "xbe1."
"""The column (text) form: this prefix then the bytes in unpadded URL-safe base64."""


class Algorithm(IntEnum):
    AES_256_GCM = 1
    SM4_GCM = 2  # reserved: data kept in China under GB/T 39786 may need it; not implemented yet


_ALGORITHMS = {a.value: a for a in Algorithm}
_VERSION_AND_LENGTH = struct.Struct(">IH")


def _header(version: int, algorithm: int, kek_id: str, kek_version: int, wrapped_key: bytes) -> bytes:
    raw_id = kek_id.encode("ascii")
    return b"".join(
        (
            bytes((version, algorithm, len(raw_id))),
            raw_id,
            _VERSION_AND_LENGTH.pack(kek_version, len(wrapped_key)),
            wrapped_key,
        )
    )


def _malformed(why: str) -> DecryptionFailed:
    return DecryptionFailed(f"stored ciphertext is malformed: {why}")


@dataclass(frozen=True)
class Envelope:
    """One stored ciphertext, parsed. `header` is the authenticated prefix up to the nonce."""

    version: int
    algorithm: Algorithm
    kek_id: str
    kek_version: int
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes  # includes the 16-byte tag at its end, as AESGCM returns it
    header: bytes = b""  # filled in by __post_init__ when not given (parsing passes the slice it read)

    def __post_init__(self) -> None:
        if not self.header:
            object.__setattr__(
                self, "header", _header(self.version, self.algorithm, self.kek_id, self.kek_version, self.wrapped_key)
            )

    def to_bytes(self) -> bytes:
        return self.header + self.nonce + self.ciphertext

    def to_text(self) -> str:
        return TEXT_PREFIX + base64.urlsafe_b64encode(self.to_bytes()).rstrip(b"=").decode("ascii")

    @classmethod
    def from_bytes(cls, blob: bytes) -> Envelope:
        """Parse without decrypting; a malformed blob is DecryptionFailed (it was never ours or was cut)."""
        if len(blob) < 3:
            raise _malformed("too short")
        version, algorithm, id_len = blob[0], blob[1], blob[2]
        if version not in READABLE_VERSIONS:
            raise _malformed(f"unknown format version {version}")
        if algorithm not in _ALGORITHMS:
            raise _malformed(f"unknown algorithm {algorithm}")
        pos = 3 + id_len
        if id_len == 0 or len(blob) < pos + 6:
            raise _malformed("bad key id or too short")
        kek_id_raw = blob[3:pos]
        if not kek_id_raw.isascii():
            raise _malformed("bad key id")
        kek_version, wrapped_len = _VERSION_AND_LENGTH.unpack_from(blob, pos)
        pos += 6
        nonce_at = pos + wrapped_len
        body_at = nonce_at + NONCE_BYTES
        if len(blob) < body_at + TAG_BYTES:
            raise _malformed("too short")
        return cls(
            version,
            _ALGORITHMS[algorithm],
            kek_id_raw.decode("ascii"),
            kek_version,
            blob[pos:nonce_at],
            blob[nonce_at:body_at],
            blob[body_at:],
            blob[:nonce_at],
        )

    def authenticated_data(self, binding: Binding) -> bytes:
        if self.version == HEADER_BOUND_VERSION:
            return self.header + binding.canonical(self.version)
        return bytes((self.version, self.algorithm)) + binding.canonical(self.version)

    def with_wrapped_key(self, kek_id: str, kek_version: int, wrapped_key: bytes) -> Envelope:
        """The same nonce and ciphertext with the data key wrapped anew (format 2 only)."""
        return Envelope(self.version, self.algorithm, kek_id, kek_version, wrapped_key, self.nonce, self.ciphertext)

    @classmethod
    def from_text(cls, text: str) -> Envelope:
        if not text.startswith(TEXT_PREFIX):
            raise DecryptionFailed("stored ciphertext is malformed: not an xborder envelope")
        body = text[len(TEXT_PREFIX) :]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionFailed("stored ciphertext is malformed: not base64") from None
        return cls.from_bytes(raw)


class EnvelopeCipher:
    """Encrypts with the ring's newest KEK; decrypts any version the ring still allows."""

    def __init__(
        self, ring: KeyRing, reload: Callable[[], KeyRing] | None = None, *, refresh_s: float = RING_REFRESH_S
    ) -> None:
        self.ring = ring
        self._reload = reload
        self._refresh_s = refresh_s
        self._loaded_at = time.monotonic()

    def current_ring(self) -> KeyRing:
        """The ring, re-read from its file every `refresh_s`: a process that only writes (or only looks up
        blind indexes) moves to a version `xborder keys rotate` added within that time."""
        if self._reload is not None and time.monotonic() - self._loaded_at >= self._refresh_s:
            self._loaded_at = time.monotonic()
            self.ring = self._reload()
        return self.ring

    def _newest_for_writes(self) -> Kek:
        """The KEK to seal with; re-read as `current_ring` says, so rotation's last pass finds no stragglers."""
        return self.current_ring().newest

    def _kek_for(self, kek_id: str, version: int) -> Kek:
        """The KEK to unwrap with; a version newer than this process knows re-reads the ring once, so a
        rotation that added a KEK to the ring file never fails a read in a process started before it."""
        try:
            return self.ring.for_decryption(kek_id, version)
        except KeyRetired:
            raise
        except KeyUnavailable:
            if self._reload is None or version <= self.ring.newest.version:
                raise
            self.ring = self._reload()
            self._loaded_at = time.monotonic()
            return self.ring.for_decryption(kek_id, version)

    def encrypt(self, plaintext: bytes, binding: Binding) -> bytes:
        return self._seal(plaintext, binding).to_bytes()

    def encrypt_text(self, value: str, binding: Binding) -> str:
        return self._seal(value.encode("utf-8"), binding).to_text()

    def encrypt_bytes_text(self, plaintext: bytes, binding: Binding) -> str:
        """Bytes (a serialised message) in the text form, so every encrypted column is a text column."""
        return self._seal(plaintext, binding).to_text()

    def decrypt_bytes_text(self, token: str, binding: Binding) -> bytes:
        return self._open(Envelope.from_text(token), binding)

    def decrypt(self, blob: bytes, binding: Binding) -> bytes:
        return self._open(Envelope.from_bytes(blob), binding)

    def decrypt_text(self, token: str, binding: Binding) -> str:
        return self._open(Envelope.from_text(token), binding).decode("utf-8")

    def _seal(self, plaintext: bytes, binding: Binding) -> Envelope:
        kek = self._newest_for_writes()
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = aes_key_wrap(kek.key, data_key)
        nonce = secrets.token_bytes(NONCE_BYTES)
        unsealed = Envelope(FORMAT_VERSION, Algorithm.AES_256_GCM, kek.kek_id, kek.version, wrapped, nonce, b"\0")
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, unsealed.authenticated_data(binding))
        return Envelope(
            FORMAT_VERSION, Algorithm.AES_256_GCM, kek.kek_id, kek.version, wrapped, nonce, ciphertext, unsealed.header
        )

    def _data_key(self, envelope: Envelope, binding: Binding) -> bytes:
        if envelope.algorithm is not Algorithm.AES_256_GCM:
            raise DecryptionFailed(f"{envelope.algorithm.name} is not supported by this build")
        kek = self._kek_for(envelope.kek_id, envelope.kek_version)
        try:
            data_key = aes_key_unwrap(kek.key, envelope.wrapped_key)
        except InvalidUnwrap:
            raise _not_authentic(binding) from None
        if len(data_key) != DATA_KEY_BYTES:
            raise _not_authentic(binding)
        return data_key

    def _open(self, envelope: Envelope, binding: Binding) -> bytes:
        data_key = self._data_key(envelope, binding)
        try:
            return AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, envelope.authenticated_data(binding))
        except InvalidTag:
            raise _not_authentic(binding) from None

    # --- rotation ----------------------------------------------------------------------------------

    def is_current(self, token: str) -> bool:
        """Whether a stored text envelope is already under the newest KEK in format 2 (header only)."""
        envelope = Envelope.from_text(token)
        return envelope.version == FORMAT_VERSION and envelope.kek_version == self.ring.newest.version

    def rewrap_text(self, token: str, binding: Binding) -> str:
        """The envelope under the newest KEK, the value untouched.

        Format 2: unwrap the data key with its KEK (RFC 3394 checks its integrity), wrap it with the
        newest; the nonce, ciphertext and tag stay as they are and the value is never decrypted. A
        ciphertext altered or moved elsewhere keeps failing its tag after a re-wrap, so rotation cannot
        launder it. Format 1 binds its header, so it is decrypted and encrypted again as format 2.
        """
        envelope = Envelope.from_text(token)
        if envelope.version == HEADER_BOUND_VERSION:
            return self._seal(self._open(envelope, binding), binding).to_text()
        data_key = self._data_key(envelope, binding)
        kek = self.ring.newest
        return envelope.with_wrapped_key(kek.kek_id, kek.version, aes_key_wrap(kek.key, data_key)).to_text()

    def reencrypt_text(self, token: str, binding: Binding) -> str:
        """Decrypt and encrypt again with a fresh data key: what rotation costs when the header is bound."""
        return self._seal(self._open(Envelope.from_text(token), binding), binding).to_text()


def _not_authentic(binding: Binding) -> DecryptionFailed:
    return DecryptionFailed(
        f"the ciphertext of {binding.describe()} does not authenticate: it was altered or belongs to "
        "another record, field, tenant or data class",
        metadata={"entity": binding.entity, "record": binding.record, "field": binding.field},
    )
