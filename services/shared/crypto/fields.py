"""Where each service stores its PERSONAL_SENSITIVE fields, and the one helper that seals and opens them.

Every service declares, in `<service>/sensitive_fields.py`, a `SENSITIVE_STORAGE` of:

- `EncryptedColumn`: a text column of one table holding envelopes (docs/crypto.md), the proto fields
  whose values it stores, and how a row names its binding (tenant column, record column, field path);
  equality look-ups go through its `index_column` (a blind index), never the clear value;
- `NotStored`: a proto field the service receives or answers but never writes down (say why).

`tests/contract/test_sensitive_storage.py` walks every descriptor and fails when a PERSONAL_SENSITIVE field
is not declared, when a declared column is missing or not text, or when a table holds a column named
like a sensitive field that is not declared encrypted. Key rotation (rotation.py) re-wraps exactly the
declared columns, so a column it does not know about could never be rotated either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from services.shared.crypto.binding import Binding
from services.shared.crypto.blind_index import VersionedBlindIndex
from services.shared.crypto.envelope import RING_REFRESH_S, EnvelopeCipher
from services.shared.crypto.keyring import KeyRing

SENSITIVE = "PERSONAL_SENSITIVE"


@dataclass(frozen=True)
class EncryptedColumn:
    """`table.column` holds one envelope per row, bound to (row[tenant_column], entity, row[record_column],
    field path, PERSONAL_SENSITIVE). `field` may be "{column_name}" to take the path from another column of
    the row (the vault keeps "iban" or "account_number" in `number_field`). `tenant` names a fixed tenant
    instead of `tenant_column`, for rows that belong to no merchant (the platform's own ops staff)."""

    service: str
    table: sa.Table
    column: str
    proto_fields: tuple[str, ...]
    entity: str
    field: str
    tenant_column: str
    record_column: str
    index_column: str | None = None
    tenant: str | None = None

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    def field_of(self, row: Any) -> str:
        if self.field.startswith("{") and self.field.endswith("}"):
            return str(getattr(row, self.field[1:-1]))
        return self.field

    def binding(self, row: Any) -> Binding:
        """The binding of this column in `row` (any object with the tenant and record attributes)."""
        return Binding(
            self.tenant if self.tenant is not None else str(getattr(row, self.tenant_column)),
            self.entity,
            str(getattr(row, self.record_column)),
            self.field_of(row),
            SENSITIVE,
        )

    def bound(self, tenant: str, record: str, field: str | None = None) -> Binding:
        return Binding(tenant, self.entity, record, field or self.field, SENSITIVE)

    @property
    def key_columns(self) -> list[sa.Column[Any]]:
        return list(self.table.primary_key.columns)


@dataclass(frozen=True)
class NotStored:
    """A PERSONAL_SENSITIVE proto field this service never writes down in clear."""

    proto_field: str
    why: str


StorageDeclaration = EncryptedColumn | NotStored


class FieldCrypto:
    """The one helper every service uses for its PERSONAL_SENSITIVE columns (not a cipher per service)."""

    def __init__(
        self, ring: KeyRing, reload: Callable[[], KeyRing] | None = None, *, refresh_s: float = RING_REFRESH_S
    ) -> None:
        self.cipher = EnvelopeCipher(ring, reload, refresh_s=refresh_s)
        self._indexed_ring = ring
        self._indexes = VersionedBlindIndex(ring.index_keys)

    @property
    def indexes(self) -> VersionedBlindIndex:
        """Blind indexes under every index-key version of the ring as last read (the ring file is re-read
        every few seconds, so a process started before `xborder keys rotate --blind-index` learns the new
        version and looks rows up under both)."""
        ring = self.cipher.current_ring()
        if ring is not self._indexed_ring:
            self._indexed_ring, self._indexes = ring, VersionedBlindIndex(ring.index_keys)
        return self._indexes

    def seal(self, value: str, binding: Binding) -> str:
        return self.cipher.encrypt_text(value, binding)

    def open(self, token: str, binding: Binding) -> str:
        return self.cipher.decrypt_text(token, binding)

    def seal_bytes(self, value: bytes, binding: Binding) -> str:
        """Bytes (a serialised proto) as a text envelope, so every declared column has one form."""
        return self.cipher.encrypt_bytes_text(value, binding)

    def open_bytes(self, token: str, binding: Binding) -> bytes:
        return self.cipher.decrypt_bytes_text(token, binding)

    def seal_json(self, value: Any, binding: Binding) -> str:
        return self.seal(json.dumps(value, sort_keys=True, separators=(",", ":")), binding)

    def open_json(self, token: str, binding: Binding) -> Any:
        return json.loads(self.open(token, binding))

    def blind_index(self, normalised: str, binding: Binding) -> str:
        """The stored form (`v<version>:<hex>`) under the newest index key."""
        return self.indexes.compute(normalised, tenant=binding.tenant, entity=binding.entity, field=binding.field)


IDEMPOTENT_RESPONSE = "idempotent_response"


class SealedResponses:
    """Idempotency answers kept encrypted (the text envelope as ASCII bytes in `idempotency_keys.response`),
    bound to (tenant = the request's scope, which carries the merchant code, entity, record = the key)."""

    def __init__(self, crypto: Callable[[], FieldCrypto]) -> None:
        self._crypto = crypto

    @staticmethod
    def binding(scope: str, key: str) -> Binding:
        return Binding(scope, IDEMPOTENT_RESPONSE, key, "response", SENSITIVE)

    def seal(self, scope: str, key: str, response: bytes) -> bytes:
        return self._crypto().seal_bytes(response, self.binding(scope, key)).encode("ascii")

    def open(self, scope: str, key: str, stored: bytes) -> bytes:
        return self._crypto().open_bytes(stored.decode("ascii", "replace"), self.binding(scope, key))


IDEMPOTENT_REQUEST = "idempotent_request"


class KeyedFingerprints:
    """Request fingerprints kept as blind indexes (HMAC-SHA256 under a key derived from the ring's index
    key for the request's scope), so a stored fingerprint confirms no guess of the request's personal
    fields without the key, and equal requests in two scopes leave unrelated fingerprints."""

    def __init__(self, crypto: Callable[[], FieldCrypto]) -> None:
        self._crypto = crypto

    def keyed(self, scope: str, fingerprint: str) -> str:
        """`v<version>:<hex>` under the newest index key."""
        return self._crypto().indexes.compute(fingerprint, tenant=scope, entity=IDEMPOTENT_REQUEST, field="fingerprint")

    def matches(self, scope: str, stored: str, fingerprint: str) -> bool:
        """Whether a kept fingerprint is this request's, under the index-key version it names. A kept
        fingerprint cannot be re-keyed (it is an HMAC of a SHA-256 that is not kept), so one under an older
        version is compared under that version while the ring holds it (docs/crypto.md)."""
        return self._crypto().indexes.matches(
            stored, fingerprint, tenant=scope, entity=IDEMPOTENT_REQUEST, field="fingerprint"
        )
