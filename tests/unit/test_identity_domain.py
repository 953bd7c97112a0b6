"""Identity's domain: key shape, validity over time, USCC checks and grantable scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain import keys, merchants, scopes
from services.identity.domain.keys import ApiKey
from services.shared.errors import Unauthenticated, ValidationError, Violations

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_a_generated_key_splits_back_into_its_id_and_secret() -> None:
    fresh = keys.generate()
    assert fresh.presented.startswith("xbk_live_")
    assert keys.split(fresh.presented) == (fresh.key_id, fresh.secret)
    assert len(fresh.secret) == 43  # 32 random bytes, base64url


@given(st.text(max_size=120))
def test_anything_else_is_refused_as_unauthenticated(text: str) -> None:
    try:
        key_id, secret = keys.split(text)
    except Unauthenticated:
        return
    assert text == f"xbk_live_{key_id}_{secret}"


def key(**ends: datetime | None) -> ApiKey:
    return ApiKey("0123456789abcdef", "hash", "MC", ("fx.read",), NOW, **ends)  # type: ignore[arg-type]


def test_a_key_is_valid_until_it_ends_or_is_revoked() -> None:
    assert key().valid_at(NOW + timedelta(days=3650))
    ending = key().ending(NOW + timedelta(hours=1))
    assert ending.valid_at(NOW + timedelta(minutes=59)) and not ending.valid_at(NOW + timedelta(hours=1))
    assert ending.ending(NOW + timedelta(days=2)).expires_at == NOW + timedelta(hours=1)  # never extended
    revoked = key().revoked(NOW)
    assert not revoked.valid_at(NOW) and revoked.revoked(NOW + timedelta(days=1)).revoked_at == NOW


def test_a_cn_merchant_needs_a_uscc_with_its_check_character() -> None:
    violations = Violations()
    assert merchants.uscc("91440300MA5DXB0T0W", "CN", violations) == "91440300MA5DXB0T0W"
    assert merchants.uscc("91440300MA5DXB0T0X", "CN", violations) == ""
    assert merchants.uscc("", "CN", violations) == ""
    assert merchants.uscc("91440300MA5DXB0T0W", "DE", violations) == ""
    with pytest.raises(ValidationError) as refused:
        violations.raise_if_any()
    assert [v.field for v in refused.value.violations] == ["uscc"] * 3


def test_grantable_scopes() -> None:
    assert scopes.granted((), scopes.MERCHANT_SCOPES) == tuple(sorted(scopes.MERCHANT_SCOPES))
    assert scopes.granted(("fx.read", "fx.read"), scopes.MERCHANT_SCOPES) == ("fx.read",)
    with pytest.raises(ValidationError):
        scopes.granted(("payments.ledger.admin",), scopes.MERCHANT_SCOPES)
