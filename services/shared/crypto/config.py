"""The key ring a process uses, from XB_KEK_RING / XB_KEK_MIN_VERSION / XB_BLIND_INDEX_KEY."""

from __future__ import annotations

from pathlib import Path

from services.shared.crypto.fields import FieldCrypto
from services.shared.crypto.keyring import KeyRing
from services.shared.errors import ConfigurationError
from services.shared.settings import Settings

DEFAULT_RING_FILE = Path("keys") / "keyring.json"


def load_key_ring(settings: Settings) -> KeyRing:
    """Inline keys, a ring file, or (outside production) a ring generated once into var/keys/ with 0600.

    Production must say where its keys are: a KMS/HSM-backed deployment mounts a ring file the KMS
    agent writes, and never relies on a generated development ring (docs/crypto.md).
    """
    spec = settings.kek_ring
    if spec is None:
        if settings.env == "prod":
            raise ConfigurationError("XB_KEK_RING is required in production (a key ring file or inline keys)")
        return KeyRing.load_or_create(settings.var_dir / DEFAULT_RING_FILE, settings.kek_min_version)
    path = Path(spec).expanduser()
    if ":" in spec and not path.exists():
        return KeyRing.parse_inline(spec, settings.blind_index_key, settings.kek_min_version)
    if not path.exists():
        raise ConfigurationError(
            "XB_KEK_RING must be a key ring file that exists or inline keys id:version:base64key[,...] "
            f"(got neither: {'a placeholder' if spec == 'CHANGE-ME' else 'no such file'})"
        )
    return KeyRing.load_file(path, settings.kek_min_version)


def ring_file(settings: Settings) -> Path | None:
    """The ring file this process reads (None when XB_KEK_RING lists keys inline)."""
    spec = settings.kek_ring
    if spec is None:
        return settings.var_dir / DEFAULT_RING_FILE
    path = Path(spec).expanduser()
    if ":" in spec and not path.exists():
        return None
    return path


def field_crypto(settings: Settings) -> FieldCrypto:
    """The helper every service seals and opens its PERSONAL_SENSITIVE columns with.

    With a ring file it re-reads the file when it meets a KEK version newer than it knows, so
    `xborder keys rotate` (which adds the version to the file, then re-wraps) fails no read in a service
    started before it. Inline keys cannot change under a running process: rotate by restarting with the
    new version listed first, then re-wrap.
    """
    ring = load_key_ring(settings)
    path = ring_file(settings)
    if path is None:
        return FieldCrypto(ring)
    return FieldCrypto(ring, lambda: KeyRing.load_file(path, settings.kek_min_version))
