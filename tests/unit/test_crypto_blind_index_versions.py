"""Versioned blind indexes: writes name the index-key version, look-ups try every version the ring holds,
and the key ring adds, keeps, stores and retires index-key versions."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shared.crypto import BlindIndex, KeyRing
from services.shared.crypto.blind_index import VersionedBlindIndex, stored_version
from services.shared.crypto.fields import FieldCrypto, KeyedFingerprints
from services.shared.errors import ConfigurationError

SCOPE = {"tenant": "MC1", "entity": "bank_account", "field": "iban"}
IBAN = "DE89370400440532013000"
RING = KeyRing.generate()
ROTATING = RING.with_new_index_key()


def test_a_stored_index_names_the_newest_version_and_is_the_keyed_hash_under_it() -> None:
    stored = VersionedBlindIndex(ROTATING.index_keys).compute(IBAN, **SCOPE)
    assert stored == "v2:" + BlindIndex(ROTATING.index_keys[2]).compute(IBAN, **SCOPE)
    assert stored_version(stored) == 2


def test_look_up_candidates_cover_every_version_and_the_unversioned_form_of_version_1() -> None:
    old = VersionedBlindIndex(RING.index_keys)
    both = VersionedBlindIndex(ROTATING.index_keys)
    written_before = old.compute(IBAN, **SCOPE)
    unversioned = written_before.partition(":")[2]
    written_after = both.compute(IBAN, **SCOPE)
    assert {written_before, unversioned, written_after} <= set(both.candidates(IBAN, **SCOPE))
    assert written_after not in old.candidates(IBAN, **SCOPE)


def test_another_value_has_no_candidate_in_common() -> None:
    both = VersionedBlindIndex(ROTATING.index_keys)
    assert not set(both.candidates(IBAN, **SCOPE)) & set(both.candidates("DE89370400440532013001", **SCOPE))


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_matches_under_the_version_the_stored_value_names(value: str, other: str) -> None:
    old = VersionedBlindIndex(RING.index_keys)
    both = VersionedBlindIndex(ROTATING.index_keys)
    for stored in (old.compute(value, **SCOPE), both.compute(value, **SCOPE)):
        assert both.matches(stored, value, **SCOPE)
        assert both.matches(stored, other, **SCOPE) == (value == other)


def test_an_index_under_a_retired_or_unknown_version_matches_nothing() -> None:
    retired = VersionedBlindIndex(ROTATING.without_index_key(1).index_keys)
    assert not retired.matches(VersionedBlindIndex(RING.index_keys).compute(IBAN, **SCOPE), IBAN, **SCOPE)
    assert not retired.matches("vx:00", IBAN, **SCOPE)
    assert stored_version("vx:00") is None and stored_version("ab" * 16) == 1


def test_kept_fingerprints_keyed_before_a_rotation_still_match_after_it() -> None:
    before = KeyedFingerprints(lambda: FieldCrypto(RING)).keyed("scope", "f" * 64)
    during = KeyedFingerprints(lambda: FieldCrypto(ROTATING))
    assert before.startswith("v1:") and during.keyed("scope", "f" * 64).startswith("v2:")
    assert during.matches("scope", before, "f" * 64)
    assert not during.matches("scope", before, "e" * 64)
    assert not during.matches("other-scope", before, "f" * 64)


def test_the_ring_adds_index_key_versions_and_keeps_the_old_ones() -> None:
    assert (RING.newest_index_version, list(ROTATING.index_keys)) == (1, [1, 2])
    assert ROTATING.index_keys[1] == RING.index_key and ROTATING.index_key == ROTATING.index_keys[2]
    assert ROTATING.newest == RING.newest  # the KEKs are untouched
    assert ROTATING.with_new_version().index_keys == ROTATING.index_keys
    assert "index keys [v1, v2]" in repr(ROTATING) and "key" not in repr(ROTATING).replace("keys", "")


def test_the_newest_or_a_missing_index_key_cannot_be_retired() -> None:
    with pytest.raises(ConfigurationError, match="v2 is the newest"):
        ROTATING.without_index_key(2)
    with pytest.raises(ConfigurationError, match="no blind-index key v7"):
        ROTATING.without_index_key(7)
    assert list(ROTATING.without_index_key(1).index_keys) == [2]


def test_ring_file_keeps_every_index_key_version_and_a_single_v1_in_the_old_form(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    RING.save(path)
    assert "index_key" in json.loads(path.read_text())
    ROTATING.save(path)
    body = json.loads(path.read_text())
    # Without `index_key`, a process too old to know versions refuses the file instead of mis-indexing.
    assert "index_key" not in body and [k["version"] for k in body["index_keys"]] == [1, 2]
    loaded = KeyRing.load_file(path)
    assert loaded.index_keys == ROTATING.index_keys and loaded.newest_index_version == 2


def test_inline_index_keys_list_versions_or_give_one_key_as_version_1() -> None:
    one, two = base64.b64encode(b"1" * 32).decode(), base64.b64encode(b"2" * 32).decode()
    kek = f"k:1:{base64.b64encode(b'k' * 32).decode()}"
    assert KeyRing.parse_inline(kek, one).index_keys == {1: b"1" * 32}
    assert KeyRing.parse_inline(kek, f"2:{two},1:{one}").index_keys == {1: b"1" * 32, 2: b"2" * 32}
    with pytest.raises(ConfigurationError, match="entry 1 must be version:base64key"):
        KeyRing.parse_inline(kek, f"x:{two}")
    with pytest.raises(ConfigurationError, match="lists version 1 twice"):
        KeyRing.parse_inline(kek, f"1:{one},1:{two}")


def test_field_crypto_learns_an_index_key_version_added_to_the_ring_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    RING.save(path)
    crypto = FieldCrypto(KeyRing.load_file(path), lambda: KeyRing.load_file(path), refresh_s=0)
    assert crypto.indexes.versions == [1]
    ROTATING.save(path)
    assert crypto.indexes.versions == [1, 2]
