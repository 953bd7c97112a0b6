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

The GCM associated data is the header above (version .. wrapped_key) followed by the canonical binding
(binding.py), so changing any header byte, or opening the ciphertext at another record, field, tenant or
data class, fails the tag. Each data key encrypts exactly one value, so the 2^32 random-nonce limit per
key is never approached; the KEK only wraps keys (deterministic RFC 3394, no nonce).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from services.shared.crypto.binding import Binding
from services.shared.crypto.errors import DecryptionFailed
from services.shared.crypto.keyring import KeyRing

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 32
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
        if version != FORMAT_VERSION:
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

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def encrypt(self, plaintext: bytes, binding: Binding) -> bytes:
        return self._seal(plaintext, binding).to_bytes()

    def encrypt_text(self, value: str, binding: Binding) -> str:
        return self._seal(value.encode("utf-8"), binding).to_text()

    def decrypt(self, blob: bytes, binding: Binding) -> bytes:
        return self._open(Envelope.from_bytes(blob), binding)

    def decrypt_text(self, token: str, binding: Binding) -> str:
        return self._open(Envelope.from_text(token), binding).decode("utf-8")

    def _seal(self, plaintext: bytes, binding: Binding) -> Envelope:
        kek = self.ring.newest
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = aes_key_wrap(kek.key, data_key)
        header = _header(FORMAT_VERSION, Algorithm.AES_256_GCM, kek.kek_id, kek.version, wrapped)
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, header + binding.canonical(FORMAT_VERSION))
        return Envelope(
            FORMAT_VERSION, Algorithm.AES_256_GCM, kek.kek_id, kek.version, wrapped, nonce, ciphertext, header
        )

    def _open(self, envelope: Envelope, binding: Binding) -> bytes:
        if envelope.algorithm is not Algorithm.AES_256_GCM:
            raise DecryptionFailed(f"{envelope.algorithm.name} is not supported by this build")
        kek = self.ring.for_decryption(envelope.kek_id, envelope.kek_version)
        try:
            data_key = aes_key_unwrap(kek.key, envelope.wrapped_key)
            if len(data_key) != DATA_KEY_BYTES:
                raise InvalidUnwrap
            return AESGCM(data_key).decrypt(
                envelope.nonce, envelope.ciphertext, envelope.header + binding.canonical(envelope.version)
            )
        except (InvalidUnwrap, InvalidTag):
            raise DecryptionFailed(
                f"the ciphertext of {binding.describe()} does not authenticate: it was altered or belongs to "
                "another record, field, tenant or data class",
                metadata={"entity": binding.entity, "record": binding.record, "field": binding.field},
            ) from None
