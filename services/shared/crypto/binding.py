"""Where a ciphertext belongs: the associated data that ties it to one tenant, record, field and data class.

AES-GCM authenticates these bytes without storing them; decrypting with any other binding fails the tag, so
a ciphertext copied to another row, field or tenant cannot be opened there (docs/crypto.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# The names of `xborder.common.v1.DataClass` without their prefix (protos/xborder/common/v1/options.proto).
DATA_CLASSES = frozenset({"PUBLIC", "BUSINESS", "PERSONAL", "PERSONAL_SENSITIVE", "IMPORTANT", "CORE"})

_DOMAIN_TAG = b"xborder.envelope.aad"


def _part(value: str) -> bytes:
    raw = value.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


_VERSION_PARTS = {v: _part(str(v)) for v in range(1, 4)}


@dataclass(frozen=True)
class Binding:
    """tenant (e.g. the merchant code), entity type, record code, field path (dotted) and data class."""

    tenant: str
    entity: str
    record: str
    field: str
    data_class: str

    def __post_init__(self) -> None:
        for name in ("tenant", "entity", "record", "field"):
            if not getattr(self, name):
                raise ValueError(f"a ciphertext binding needs a non-empty {name}")
        if self.data_class not in DATA_CLASSES:
            raise ValueError(f"data_class must be one of {sorted(DATA_CLASSES)}, got {self.data_class!r}")

    def canonical(self, format_version: int) -> bytes:
        """Length-prefixed UTF-8 parts: no two different bindings give the same bytes (no separator games)."""
        version = _VERSION_PARTS.get(format_version) or _part(str(format_version))
        return b"".join(
            (
                _DOMAIN_TAG,
                version,
                _part(self.tenant),
                _part(self.entity),
                _part(self.record),
                _part(self.field),
                _part(self.data_class),
            )
        )

    def describe(self) -> str:
        return f"{self.entity} {self.record} field {self.field} (tenant {self.tenant})"
