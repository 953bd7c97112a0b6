"""Invariants of OAuth2 tokens, the token endpoint's parsing and the login lock (hypothesis)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.oauth_token import TokenError, basic_credentials, issue, parse_form
from services.identity.adapters.tokens import JwtSigner, looks_like_jwt
from services.identity.domain.clients import OAuthClient, requested_scopes
from services.identity.domain.operators import Operator
from services.identity.domain.roles import Role
from services.identity.settings import IdentitySettings, parse_signing_keys
from services.shared.errors import ConfigurationError, Unauthenticated, ValidationError

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
SIGNER = JwtSigner(IdentitySettings(jwt_signing_keys={"k1": b"k" * 32}))
CLIENT = OAuthClient("xbc_0123456789abcdef", "", "MC0000000000000000", "t", ("a.read", "b.write"), NOW)


def fresh_token() -> str:
    return SIGNER.sign(CLIENT, ("a.read",), datetime.now(UTC))[0]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_changed_character_of_a_token_is_refused(data: st.DataObject) -> None:
    token = fresh_token()
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
    changed = token[:index] + replacement + token[index + 1 :]
    if changed == token:
        return
    try:
        claims = SIGNER.verify(changed)
    except Unauthenticated:
        return
    # base64url's last character may carry unused bits: a change there can decode to the same bytes.
    assert claims == SIGNER.verify(token)


def test_a_token_is_recognised_and_verifies() -> None:
    token = fresh_token()
    assert looks_like_jwt(token) and not looks_like_jwt("xbk_live_0123456789abcdef_" + "A" * 43)
    assert SIGNER.verify(token).scopes == ("a.read",)


@given(st.lists(st.sampled_from(["a.read", "b.write", "c.admin", "d"]), max_size=5))
def test_a_token_never_carries_a_scope_its_client_lacks(asked: list[str]) -> None:
    try:
        granted = requested_scopes(" ".join(asked), CLIENT.scopes)
    except ValidationError:
        assert set(asked) - set(CLIENT.scopes)
        return
    assert set(granted) <= set(CLIENT.scopes)
    assert set(granted) == (set(asked) or set(CLIENT.scopes))


@given(st.binary(max_size=300), st.sampled_from(["application/x-www-form-urlencoded", "application/json", None]))
def test_form_parsing_refuses_cleanly_or_answers_each_parameter_once(body: bytes, media: str | None) -> None:
    try:
        form = parse_form(body, media)
    except TokenError as refused:
        assert refused.error == "invalid_request"
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


@given(st.text(max_size=200))
def test_basic_credentials_refuse_cleanly(header: str) -> None:
    try:
        basic_credentials(header)
    except TokenError as refused:
        assert refused.error == "invalid_client" and refused.status == 401


def test_basic_credentials_are_form_urldecoded() -> None:
    encoded = base64.b64encode(b"xbc_0123456789abcdef:a%2Bb%3Ac").decode()
    assert basic_credentials(f"Basic {encoded}") == ("xbc_0123456789abcdef", "a+b:c")


def test_the_token_endpoint_refuses_without_asking_identity() -> None:
    async def call(method: object, message: object) -> object:
        raise AssertionError("identity must not be asked")

    answer = asyncio.run(issue(b"grant_type=password", "application/x-www-form-urlencoded", None, None, call))  # type: ignore[arg-type]
    assert (answer.status, answer.body["error"]) == (400, "unsupported_grant_type")
    assert answer.headers["Cache-Control"] == "no-store"


@given(st.lists(st.booleans(), max_size=30), st.integers(1, 6))
def test_the_login_locks_after_max_failures_in_a_row_and_a_success_resets(outcomes: list[bool], most: int) -> None:
    operator = Operator("li.wei", "Li Wei", Role.VIEWER, "", "", NOW)
    streak = 0
    for step, succeeded in enumerate(outcomes, start=1):
        now = NOW + timedelta(seconds=step)
        if operator.locked(now):
            break
        if succeeded:
            operator, streak = operator.succeeded(step), 0
        else:
            operator, streak = operator.failed(now, most, timedelta(minutes=15)), streak + 1
        assert operator.failed_logins < most
        assert operator.locked(now) == (streak == most)


@pytest.mark.parametrize(
    "raw",
    ["k1", "k1:" + "A" * 10, "k 1:" + "A" * 43, "k1:" + "A" * 43 + ",k1:" + "B" * 43, "k1:!!!"],
)
def test_bad_signing_keys_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_signing_keys(raw)


def test_an_active_kid_must_be_configured() -> None:
    with pytest.raises(ConfigurationError):
        IdentitySettings.from_env({"XB_JWT_SIGNING_KEYS": "k1:" + "A" * 43, "XB_JWT_ACTIVE_KID": "k2"})
    assert IdentitySettings.from_env({"XB_JWT_SIGNING_KEYS": "k1:" + "A" * 43}).active_kid == "k1"
