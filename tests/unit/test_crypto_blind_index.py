"""Blind index: stable for equal normalised values, distinct per tenant and per field."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.shared.crypto import BlindIndex, KeyRing, normalise_identifier

INDEX = BlindIndex(KeyRing.generate().index_key)
SCOPE = {"tenant": "MC1", "entity": "bank_account", "field": "iban"}


def test_stable_across_instances_with_the_same_key() -> None:
    key = b"k" * 32
    assert BlindIndex(key).compute("DE89370400440532013000", **SCOPE) == BlindIndex(key).compute(
        "DE89370400440532013000", **SCOPE
    )


def test_normalisation_makes_formatting_irrelevant() -> None:
    spaced = normalise_identifier(" de89 3704 0044 0532 0130 00 ")
    assert spaced == "DE89370400440532013000"
    assert INDEX.compute(spaced, **SCOPE) == INDEX.compute(normalise_identifier("DE89370400440532013000"), **SCOPE)


def test_distinct_per_tenant_field_and_key() -> None:
    value = "DE89370400440532013000"
    base = INDEX.compute(value, **SCOPE)
    assert base != INDEX.compute(value, **{**SCOPE, "tenant": "MC2"})
    assert base != INDEX.compute(value, **{**SCOPE, "field": "account_number"})
    assert base != INDEX.compute(value, **{**SCOPE, "entity": "party"})
    assert base != BlindIndex(b"x" * 32).compute(value, **SCOPE)


def test_length_is_the_truncated_hmac() -> None:
    assert len(INDEX.compute("v", **SCOPE)) == 32  # 16 bytes hex
    assert len(BlindIndex(b"k" * 32, length=8).compute("v", **SCOPE)) == 16


@given(a=st.text(min_size=1, max_size=40), b=st.text(min_size=1, max_size=40))
def test_equal_iff_values_equal(a: str, b: str) -> None:
    assert (INDEX.compute(a, **SCOPE) == INDEX.compute(b, **SCOPE)) == (a == b)


@given(value=st.text(max_size=40))
def test_index_reveals_no_plaintext(value: str) -> None:
    digest = INDEX.compute(value, **SCOPE)
    assert all(c in "0123456789abcdef" for c in digest)
