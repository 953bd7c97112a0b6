"""Key ring loading: inline keys, files with 0600, the embedded default, minimum versions, no key leaks."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from services.shared.crypto import Binding, EnvelopeCipher, KeyRing
from services.shared.crypto.config import load_key_ring
from services.shared.errors import ConfigurationError
from services.shared.settings import Settings

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
INDEX = base64.b64encode(b"i" * 32).decode()
HERE = Binding("MC1", "bank_account", "PY1", "iban", "PERSONAL_SENSITIVE")


def test_embedded_default_generates_one_ring_with_owner_only_permissions(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    first = load_key_ring(settings)
    path = tmp_path / "var" / "keys" / "keyring.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_key_ring(settings)
    assert first.newest.key == second.newest.key and first.index_key == second.index_key
    token = EnvelopeCipher(first).encrypt_text("v", HERE)
    assert EnvelopeCipher(second).decrypt_text(token, HERE) == "v"


def test_processes_racing_to_create_the_default_ring_agree(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    rings: list[KeyRing] = []
    threads = [threading.Thread(target=lambda: rings.append(KeyRing.load_or_create(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.newest.key for r in rings}) == 1
    assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]


def test_a_ring_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    KeyRing.generate().save(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_key_ring(Settings(var_dir=tmp_path, kek_ring=str(path)))


def test_production_without_a_ring_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="XB_KEK_RING is required in production"):
        load_key_ring(Settings(env="prod", var_dir=tmp_path))


def test_inline_ring_from_env_uses_the_newest_version() -> None:
    settings = Settings.from_env(
        {"XB_KEK_RING": f"old:1:{KEY_A},new:2:{KEY_B}", "XB_BLIND_INDEX_KEY": INDEX, "XB_KEK_MIN_VERSION": "1"}
    )
    ring = load_key_ring(settings)
    assert (ring.newest.kek_id, ring.newest.version, ring.newest.key) == ("new", 2, b"b" * 32)
    assert ring.index_key == b"i" * 32


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"XB_KEK_RING": f"k:1:{KEY_A}"}, "XB_BLIND_INDEX_KEY is required"),
        ({"XB_KEK_RING": "k:one:abc", "XB_BLIND_INDEX_KEY": INDEX}, "entry 1 must be id:version:base64key"),
        ({"XB_KEK_RING": "k:1:not-base64!", "XB_BLIND_INDEX_KEY": INDEX}, "entry 1 key is not base64"),
        ({"XB_KEK_RING": f"k:1:{base64.b64encode(b'short').decode()}", "XB_BLIND_INDEX_KEY": INDEX}, "32 bytes"),
        ({"XB_KEK_RING": f"k:1:{KEY_A},j:1:{KEY_B}", "XB_BLIND_INDEX_KEY": INDEX}, "share a version"),
        ({"XB_KEK_RING": f"k:1:{KEY_A}", "XB_BLIND_INDEX_KEY": INDEX, "XB_KEK_MIN_VERSION": "2"}, "retires every"),
    ],
)
def test_bad_ring_configuration_names_the_problem(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_key_ring(Settings.from_env(env))


def test_min_version_must_be_a_positive_integer() -> None:
    with pytest.raises(ConfigurationError, match="XB_KEK_MIN_VERSION"):
        Settings.from_env({"XB_KEK_MIN_VERSION": "0"})


def test_keys_never_print() -> None:
    settings = Settings.from_env({"XB_KEK_RING": f"k:1:{KEY_A}", "XB_BLIND_INDEX_KEY": INDEX})
    ring = load_key_ring(settings)
    for text in (repr(settings), str(settings.masked()), repr(ring), repr(ring.newest)):
        assert KEY_A not in text and INDEX not in text


def test_saved_ring_round_trips_with_rotation(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    ring = KeyRing.generate().with_new_version()
    ring.save(path)
    loaded = KeyRing.load_file(path, min_version=2)
    assert [k.version for k in loaded.keks] == [1, 2] and loaded.min_version == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_deploy_placeholder_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings.from_env({"XB_ENV": "prod", "XB_KEK_RING": "CHANGE-ME", "XB_VAR_DIR": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="a placeholder"):
        load_key_ring(settings)
    with pytest.raises(ConfigurationError, match="no such file"):
        load_key_ring(Settings(var_dir=tmp_path, kek_ring=str(tmp_path / "missing.json")))
