"""Envelope encryption: round trips, tamper and move detection, KEK rotation, the stored format."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.shared.crypto import (
    DATA_CLASSES,
    Algorithm,
    Binding,
    DecryptionFailed,
    Envelope,
    EnvelopeCipher,
    KeyRetired,
    KeyRing,
    KeyUnavailable,
)

RING = KeyRing.generate("test-kek")
CIPHER = EnvelopeCipher(RING)
HERE = Binding("MC1234", "bank_account", "PY0001", "iban", "PERSONAL_SENSITIVE")

texts = st.text(min_size=1, max_size=40)
bindings = st.builds(Binding, texts, texts, texts, texts, st.sampled_from(sorted(DATA_CLASSES)))


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=2048), binding=bindings)
def test_round_trip_for_any_plaintext_and_binding(plaintext: bytes, binding: Binding) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(plaintext, binding), binding) == plaintext


@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=300), binding=bindings)
def test_text_form_round_trips_and_is_ascii(value: str, binding: Binding) -> None:
    token = CIPHER.encrypt_text(value, binding)
    assert token.isascii() and token.startswith("xbe1.")
    assert CIPHER.decrypt_text(token, binding) == value


def test_same_plaintext_encrypts_differently_each_time() -> None:
    first, second = CIPHER.encrypt(b"DE89370400440532013000", HERE), CIPHER.encrypt(b"DE89370400440532013000", HERE)
    assert first != second
    a, b = Envelope.from_bytes(first), Envelope.from_bytes(second)
    assert a.nonce != b.nonce and a.wrapped_key != b.wrapped_key  # fresh data key and nonce per record


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    secret = b"DE89370400440532013000"
    assert secret not in CIPHER.encrypt(secret, HERE)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_changing_any_byte_fails(data: st.DataObject) -> None:
    blob = bytearray(CIPHER.encrypt(b"account 0532013000", HERE))
    index = data.draw(st.integers(0, len(blob) - 1))
    flip = data.draw(st.integers(1, 255))
    blob[index] ^= flip
    with pytest.raises((DecryptionFailed, KeyUnavailable)):
        CIPHER.decrypt(bytes(blob), HERE)


def test_every_byte_of_a_stored_value_is_covered() -> None:
    # Exhaustive for one value: flipping any single bit of any byte (header, wrapped key, nonce, body, tag).
    blob = CIPHER.encrypt(b"DE89370400440532013000", HERE)
    for index in range(len(blob)):
        for bit in range(8):
            changed = bytearray(blob)
            changed[index] ^= 1 << bit
            with pytest.raises((DecryptionFailed, KeyUnavailable)):
                CIPHER.decrypt(bytes(changed), HERE)


def test_truncated_or_foreign_blobs_fail_cleanly() -> None:
    blob = CIPHER.encrypt(b"x", HERE)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            CIPHER.decrypt(blob[:cut], HERE)
    with pytest.raises(DecryptionFailed, match="not an xborder envelope"):
        CIPHER.decrypt_text("gAAAAABl-fernet-token", HERE)
    with pytest.raises(DecryptionFailed, match="not base64"):
        CIPHER.decrypt_text("xbe1.%%%%", HERE)


@pytest.mark.parametrize(
    "moved",
    [
        dataclasses.replace(HERE, record="PY0002"),
        dataclasses.replace(HERE, field="holder_name"),
        dataclasses.replace(HERE, tenant="MC9999"),
        dataclasses.replace(HERE, data_class="PERSONAL"),
        dataclasses.replace(HERE, entity="merchant"),
    ],
    ids=["other-record", "other-field", "other-tenant", "other-class", "other-entity"],
)
def test_moved_ciphertext_fails_and_says_so_without_the_plaintext(moved: Binding) -> None:
    secret = "DE89370400440532013000"
    token = CIPHER.encrypt_text(secret, HERE)
    with pytest.raises(DecryptionFailed) as caught:
        CIPHER.decrypt_text(token, moved)
    assert "another record, field, tenant or data class" in caught.value.message
    assert secret not in str(caught.value) and secret not in repr(caught.value.metadata)
    assert caught.value.reason == "DECRYPTION_FAILED"


def test_binding_parts_cannot_be_shifted_into_each_other() -> None:
    # With naive concatenation ("ab" + "c" == "a" + "bc") these two would share associated data.
    a = Binding("MC1", "bank_account", "PY1", "iban", "PERSONAL_SENSITIVE")
    b = Binding("MC", "1bank_account", "PY1", "iban", "PERSONAL_SENSITIVE")
    assert a.canonical(1) != b.canonical(1)
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(CIPHER.encrypt(b"v", a), b)


def test_stored_format_carries_version_algorithm_key_id_and_key_version() -> None:
    envelope = Envelope.from_text(CIPHER.encrypt_text("v", HERE))
    assert envelope.version == 2
    assert envelope.algorithm is Algorithm.AES_256_GCM
    assert (envelope.kek_id, envelope.kek_version) == ("test-kek", 1)
    assert len(envelope.nonce) == 12
    assert len(envelope.wrapped_key) == 40  # RFC 3394 wrap of a 32-byte key
    raw = envelope.to_bytes()
    assert raw[0] == 2 and raw[1] == 1 and raw[3 : 3 + raw[2]] == b"test-kek"


def test_rotation_old_ciphertexts_open_new_ones_use_the_new_version() -> None:
    old_ring = KeyRing.generate("kek")
    old_token = EnvelopeCipher(old_ring).encrypt_text("before rotation", HERE)
    rotated = old_ring.with_new_version()
    cipher = EnvelopeCipher(rotated)
    assert cipher.decrypt_text(old_token, HERE) == "before rotation"
    new_token = cipher.encrypt_text("after rotation", HERE)
    assert Envelope.from_text(new_token).kek_version == 2
    assert Envelope.from_text(old_token).kek_version == 1
    # The old ring does not have v2: it cannot open what the rotated ring wrote.
    with pytest.raises(KeyUnavailable):
        EnvelopeCipher(old_ring).decrypt_text(new_token, HERE)


def test_below_minimum_version_is_refused() -> None:
    ring = KeyRing.generate("kek")
    old_token = EnvelopeCipher(ring).encrypt_text("old", HERE)
    retired = ring.with_new_version().with_min_version(2)
    with pytest.raises(KeyRetired) as caught:
        EnvelopeCipher(retired).decrypt_text(old_token, HERE)
    assert caught.value.metadata == {"kek_id": "kek", "kek_version": "1"}
    cipher = EnvelopeCipher(retired)
    assert cipher.decrypt_text(cipher.encrypt_text("new", HERE), HERE) == "new"


def test_a_ring_with_a_different_key_under_the_same_version_cannot_decrypt() -> None:
    token = CIPHER.encrypt_text("v", HERE)
    impostor = KeyRing.generate("test-kek")
    with pytest.raises(DecryptionFailed):
        EnvelopeCipher(impostor).decrypt_text(token, HERE)


def test_sm4_is_reserved_not_silently_treated_as_aes() -> None:
    envelope = Envelope.from_bytes(CIPHER.encrypt(b"v", HERE))
    sm4 = dataclasses.replace(envelope, algorithm=Algorithm.SM4_GCM, header=b"")
    with pytest.raises(DecryptionFailed, match="SM4_GCM is not supported"):
        CIPHER.decrypt(sm4.to_bytes(), HERE)


def test_binding_rejects_unknown_class_and_empty_parts() -> None:
    with pytest.raises(ValueError, match="data_class"):
        Binding("MC1", "bank_account", "PY1", "iban", "SECRET")
    with pytest.raises(ValueError, match="record"):
        Binding("MC1", "bank_account", "", "iban", "PERSONAL")


def test_crypto_error_reasons_are_in_the_error_reason_enum() -> None:
    from xborder.common.v1 import errors_pb2

    for error in (DecryptionFailed, KeyUnavailable, KeyRetired):
        assert errors_pb2.ErrorReason.Value(f"ERROR_REASON_{error.reason}") > 0
