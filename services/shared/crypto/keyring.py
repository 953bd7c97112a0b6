"""Versioned key-encryption keys (KEKs) and the blind-index key, for development and tests.

Production keeps the KEK in a KMS or HSM and only sends it data keys to wrap (docs/crypto.md); this local
ring is the development stand-in with the same contract: every KEK has an id and a version, writes use the
newest version, and versions below a configured minimum are refused for decryption so old keys can be
retired once everything has been re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.shared.crypto.errors import KeyRetired, KeyUnavailable
from services.shared.errors import ConfigurationError

KEY_BYTES = 32  # AES-256 and HMAC-SHA256 keys
FILE_FORMAT = "xborder.keyring.v1"
MAX_KEK_ID = 64


@dataclass(frozen=True)
class Kek:
    kek_id: str
    version: int
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.kek_id or len(self.kek_id) > MAX_KEK_ID or not self.kek_id.isascii():
            raise ConfigurationError(f"a KEK id must be 1-{MAX_KEK_ID} ASCII characters, got {self.kek_id!r}")
        if not 1 <= self.version < 2**32:
            raise ConfigurationError(f"KEK {self.kek_id} version must be 1..2^32-1, got {self.version}")
        if len(self.key) != KEY_BYTES:
            raise ConfigurationError(f"KEK {self.kek_id} v{self.version} must be {KEY_BYTES} bytes")


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{what} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(f"{what} must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _parse_index_keys(spec: str) -> dict[int, bytes]:
    """XB_BLIND_INDEX_KEY: a bare base64 key is version 1; `2:base64,1:base64` lists versions."""
    if ":" not in spec:
        return {1: _decode_key(spec.strip(), "XB_BLIND_INDEX_KEY")}
    keys: dict[int, bytes] = {}
    for n, item in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        version, _, key = item.partition(":")
        if not version.isdigit():
            raise ConfigurationError(f"XB_BLIND_INDEX_KEY entry {n + 1} must be version:base64key")
        if int(version) in keys:
            raise ConfigurationError(f"XB_BLIND_INDEX_KEY lists version {version} twice")
        keys[int(version)] = _decode_key(key, f"XB_BLIND_INDEX_KEY entry {n + 1} key")
    return keys


def _encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


class KeyRing:
    """KEK versions of one logical key (versions are unique across the ring; the id says where each lives)."""

    def __init__(self, keks: Iterable[Kek], index_key: bytes | Mapping[int, bytes], min_version: int = 1) -> None:
        listed = list(keks)
        if not listed:
            raise ConfigurationError("the key ring holds no KEK")
        self._check_unique(listed)
        self._keks = {k.version: k for k in listed}
        index_keys = {1: index_key} if isinstance(index_key, bytes) else dict(index_key)
        if not index_keys:
            raise ConfigurationError("the key ring holds no blind-index key")
        for version, key in index_keys.items():
            if not 1 <= version < 2**32:
                raise ConfigurationError(f"blind-index key version must be 1..2^32-1, got {version}")
            if len(key) != KEY_BYTES:
                raise ConfigurationError(f"the blind-index key v{version} must be {KEY_BYTES} bytes")
        if min_version < 1:
            raise ConfigurationError("XB_KEK_MIN_VERSION must be >= 1")
        self.index_keys = dict(sorted(index_keys.items()))
        """Blind-index keys by version: indexes are written under the newest, looked up under every one."""
        self.newest_index_version = max(index_keys)
        self.index_key = index_keys[self.newest_index_version]
        self.min_version = min_version
        newest = self._keks[max(self._keks)]
        if newest.version < min_version:
            raise ConfigurationError(
                f"XB_KEK_MIN_VERSION={min_version} retires every KEK (newest is v{newest.version})"
            )
        self.newest = newest

    def __repr__(self) -> str:
        versions = ", ".join(f"{k.kek_id}:v{k.version}" for k in self.keks)
        indexes = ", ".join(f"v{v}" for v in self.index_keys)
        return f"KeyRing([{versions}], index keys [{indexes}], min_version={self.min_version})"

    @property
    def keks(self) -> list[Kek]:
        return [self._keks[v] for v in sorted(self._keks)]

    def for_decryption(self, kek_id: str, version: int) -> Kek:
        """The KEK a ciphertext names; refused if retired (below the minimum) or not in this ring."""
        if version < self.min_version:
            raise KeyRetired(
                f"KEK {kek_id} v{version} is retired (minimum decryption version {self.min_version}); "
                "re-encrypt the record with a current key",
                metadata={"kek_id": kek_id, "kek_version": str(version)},
            )
        kek = self._keks.get(version)
        if kek is None or kek.kek_id != kek_id:
            raise KeyUnavailable(
                f"KEK {kek_id} v{version} is not in the key ring",
                metadata={"kek_id": kek_id, "kek_version": str(version)},
            )
        return kek

    def with_new_version(self, kek_id: str | None = None) -> KeyRing:
        """A ring with one more, freshly generated, KEK version that becomes the one used for writes."""
        kek = Kek(kek_id or self.newest.kek_id, self.newest.version + 1, secrets.token_bytes(KEY_BYTES))
        return KeyRing([*self.keks, kek], self.index_keys, self.min_version)

    def with_min_version(self, min_version: int) -> KeyRing:
        return KeyRing(self.keks, self.index_keys, min_version)

    def with_new_index_key(self) -> KeyRing:
        """A ring with one more, freshly generated, blind-index key version that new indexes are made with;
        the older versions stay, so look-ups still find rows indexed under them."""
        keys = {**self.index_keys, self.newest_index_version + 1: secrets.token_bytes(KEY_BYTES)}
        return KeyRing(self.keks, keys, self.min_version)

    def without_index_key(self, version: int) -> KeyRing:
        """The ring with one older blind-index key removed (the caller checks no stored index uses it)."""
        if version not in self.index_keys:
            raise ConfigurationError(f"the key ring holds no blind-index key v{version}")
        if version == self.newest_index_version:
            raise ConfigurationError(f"blind-index key v{version} is the newest: new indexes are made with it")
        return KeyRing(self.keks, {v: k for v, k in self.index_keys.items() if v != version}, self.min_version)

    # --- text forms --------------------------------------------------------------------------------

    @classmethod
    def generate(cls, kek_id: str = "local-dev") -> KeyRing:
        return cls([Kek(kek_id, 1, secrets.token_bytes(KEY_BYTES))], secrets.token_bytes(KEY_BYTES))

    @classmethod
    def parse_inline(cls, spec: str, index_key: str | None, min_version: int = 1) -> KeyRing:
        """`id:version:base64key[,id:version:base64key...]` (XB_KEK_RING) plus XB_BLIND_INDEX_KEY, either one
        base64 key (version 1) or `version:base64key[,version:base64key...]`."""
        keks = []
        for n, item in enumerate(p.strip() for p in spec.split(",") if p.strip()):
            parts = item.split(":")
            if len(parts) != 3 or not parts[1].isdigit():
                raise ConfigurationError(f"XB_KEK_RING entry {n + 1} must be id:version:base64key")
            keks.append(Kek(parts[0], int(parts[1]), _decode_key(parts[2], f"XB_KEK_RING entry {n + 1} key")))
        if index_key is None:
            raise ConfigurationError("XB_BLIND_INDEX_KEY is required when XB_KEK_RING lists keys inline")
        return cls(keks, _parse_index_keys(index_key), min_version)

    @staticmethod
    def _check_unique(keks: list[Kek]) -> None:
        versions = [k.version for k in keks]
        if len(set(versions)) != len(versions):
            raise ConfigurationError("two KEKs in the key ring share a version")

    def to_json(self) -> str:
        body: dict[str, object] = {
            "format": FILE_FORMAT,
            "keks": [{"id": k.kek_id, "version": k.version, "key": _encode_key(k.key)} for k in self.keks],
        }
        if list(self.index_keys) == [1]:
            body["index_key"] = _encode_key(self.index_key)
        else:
            # No `index_key` once the index key has versions: a process too old to read them refuses the
            # file instead of indexing with a key it would take for version 1.
            body["index_keys"] = [{"version": v, "key": _encode_key(k)} for v, k in self.index_keys.items()]
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, min_version: int = 1, *, source: str = "key ring") -> KeyRing:
        try:
            body = json.loads(text)
            if body.get("format") != FILE_FORMAT:
                raise ConfigurationError(f"{source}: format must be {FILE_FORMAT!r}")
            keks = [
                Kek(str(k["id"]), int(k["version"]), _decode_key(str(k["key"]), f"{source}: KEK v{k['version']}"))
                for k in body["keks"]
            ]
            index_keys: dict[int, bytes] | bytes
            if "index_keys" in body:
                index_keys = {
                    int(k["version"]): _decode_key(str(k["key"]), f"{source}: index key v{k['version']}")
                    for k in body["index_keys"]
                }
            else:
                index_keys = _decode_key(str(body["index_key"]), f"{source}: index_key")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, ConfigurationError):
                raise
            raise ConfigurationError(f"{source}: not a key ring file ({type(error).__name__})") from None
        return cls(keks, index_keys, min_version)

    # --- files -------------------------------------------------------------------------------------

    @classmethod
    def load_file(cls, path: Path, min_version: int = 1) -> KeyRing:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConfigurationError(f"XB_KEK_RING file {path} does not exist") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(f"key ring file {path} must not be readable by group or others (chmod 600)")
        return cls.from_json(path.read_text("utf-8"), min_version, source=str(path))

    def save(self, path: Path) -> None:
        """Write atomically with 0600 permissions (the file holds raw keys)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self.to_json())
        os.replace(tmp, path)

    @classmethod
    def load_or_create(cls, path: Path, min_version: int = 1) -> KeyRing:
        """The embedded default: generated once into var/, then reused (two processes racing agree)."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(cls.generate().to_json())
            try:
                os.link(tmp, path)  # atomic create-if-absent: a reader never sees a half-written file
            except FileExistsError:
                pass  # another process won the race; use its ring
            finally:
                tmp.unlink()
        return cls.load_file(path, min_version)
