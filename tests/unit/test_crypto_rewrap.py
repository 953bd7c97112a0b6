"""Re-wrapping a data key under a new KEK (envelope format 2) and reading format 1, with tampering."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shared.crypto import Binding, DecryptionFailed, Envelope, EnvelopeCipher, KeyRing, KeyUnavailable
from services.shared.crypto.envelope import HEADER_BOUND_VERSION, _header

OLD = KeyRing.generate("test-kek")
NEW = OLD.with_new_version()
HERE = Binding("MC1", "screening", "SC1", "party", "PERSONAL_SENSITIVE")
ELSEWHERE = [
    dataclasses.replace(HERE, record="SC2"),
    dataclasses.replace(HERE, field="response"),
    dataclasses.replace(HERE, tenant="MC2"),
    dataclasses.replace(HERE, data_class="PERSONAL"),
]


def test_rewrap_moves_the_data_key_to_the_newest_kek_and_keeps_the_value_bytes() -> None:
    token = EnvelopeCipher(OLD).encrypt_text("1990-05-17", HERE)
    cipher = EnvelopeCipher(NEW)
    fresh = cipher.rewrap_text(token, HERE)
    before, after = Envelope.from_text(token), Envelope.from_text(fresh)
    assert (before.kek_version, after.kek_version) == (1, 2)
    assert (after.nonce, after.ciphertext) == (before.nonce, before.ciphertext)
    assert cipher.decrypt_text(fresh, HERE) == "1990-05-17"
    assert cipher.is_current(fresh) and not cipher.is_current(token)
    with pytest.raises(KeyUnavailable):  # a reader that has not seen v2 and cannot reload
        EnvelopeCipher(OLD).decrypt_text(fresh, HERE)


@pytest.mark.parametrize("other", ELSEWHERE, ids=["record", "field", "tenant", "class"])
def test_a_rewrapped_envelope_stays_bound_to_its_place(other: Binding) -> None:
    fresh = EnvelopeCipher(NEW).rewrap_text(EnvelopeCipher(OLD).encrypt_text("P1234567", HERE), HERE)
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        EnvelopeCipher(NEW).decrypt_text(fresh, other)


def test_a_wrapped_key_swapped_in_from_another_row_fails_the_tag() -> None:
    cipher = EnvelopeCipher(NEW)
    mine = Envelope.from_text(cipher.encrypt_text("mine", HERE))
    theirs = Envelope.from_text(cipher.encrypt_text("theirs", ELSEWHERE[0]))
    forged = mine.with_wrapped_key(theirs.kek_id, theirs.kek_version, theirs.wrapped_key)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt_text(forged.to_text(), HERE)


def test_a_kek_version_changed_to_another_key_of_the_ring_fails_the_unwrap() -> None:
    cipher = EnvelopeCipher(NEW)
    envelope = Envelope.from_text(cipher.encrypt_text("x", HERE))
    relabelled = envelope.with_wrapped_key(envelope.kek_id, 1, envelope.wrapped_key)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt_text(relabelled.to_text(), HERE)


def test_format_1_still_reads_and_rotation_turns_it_into_format_2() -> None:
    """Format 1 authenticated its whole header (ADR 0018): built here as it was written."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    kek = OLD.newest
    data_key, nonce = AESGCM.generate_key(bit_length=256), b"\x01" * 12
    wrapped = aes_key_wrap(kek.key, data_key)
    header = _header(HEADER_BOUND_VERSION, 1, kek.kek_id, kek.version, wrapped)
    body = AESGCM(data_key).encrypt(nonce, b"old", header + HERE.canonical(HEADER_BOUND_VERSION))
    token = Envelope(HEADER_BOUND_VERSION, 1, kek.kek_id, kek.version, wrapped, nonce, body).to_text()  # type: ignore[arg-type]
    cipher = EnvelopeCipher(NEW)
    assert cipher.decrypt_text(token, HERE) == "old"
    fresh = cipher.rewrap_text(token, HERE)
    assert Envelope.from_text(fresh).version == 2 and cipher.decrypt_text(fresh, HERE) == "old"
    with pytest.raises(DecryptionFailed):
        cipher.rewrap_text(token, ELSEWHERE[2])  # a format 1 row moved to another tenant is not re-sealed


def test_a_reader_with_a_reload_learns_a_newer_kek_once() -> None:
    loads = []

    def reload() -> KeyRing:
        loads.append(1)
        return NEW

    reader = EnvelopeCipher(OLD, reload)
    fresh = EnvelopeCipher(NEW).encrypt_text("v", HERE)
    assert reader.decrypt_text(fresh, HERE) == "v"
    assert reader.decrypt_text(fresh, HERE) == "v"
    assert loads == [1]


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0, max_value=10_000), st.integers(1, 255))
def test_any_changed_byte_of_a_rewrapped_envelope_is_refused(value: bytes, at: int, flip: int) -> None:
    cipher = EnvelopeCipher(NEW)
    token = cipher.rewrap_text(EnvelopeCipher(OLD).encrypt_bytes_text(value, HERE), HERE)
    raw = bytearray(Envelope.from_text(token).to_bytes())
    raw[at % len(raw)] ^= flip
    with pytest.raises((DecryptionFailed, KeyUnavailable)):
        cipher.decrypt(bytes(raw), HERE)


def test_a_writer_with_a_ring_file_moves_to_a_version_added_after_it_started() -> None:
    writer = EnvelopeCipher(OLD, lambda: NEW, refresh_s=0)
    assert Envelope.from_text(writer.encrypt_text("v", HERE)).kek_version == NEW.newest.version
    steady = EnvelopeCipher(OLD, lambda: NEW, refresh_s=3600)
    assert Envelope.from_text(steady.encrypt_text("v", HERE)).kek_version == OLD.newest.version
